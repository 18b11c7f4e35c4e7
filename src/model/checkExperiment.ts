/**
 * The one verdict on an experiment: may it train, and if not, why. It gathers the shape report
 * (inferShapes: layer fields and shapes), the settings' checks (settings.ts) and the memory
 * estimate (memory.ts). The editor, the settings panel and the Train button show it; the store's
 * train() enforces it, so a sweep or any other caller goes through the same rule. Pure: no React,
 * no tfjs.
 */
import { datasetInfo, datasetShape } from '../data/catalogue';
import { inferShapes, type ShapeReport } from './inferShapes';
import { estimateMemory, type MemoryEstimate } from './memory';
import { SETTING_LIST, checkSettings, type SettingErrors } from './settings';
import { layerDef } from './catalogue';
import type { ExperimentSpec, LayerSpec } from './spec';
import type { LayerInfo } from './inferShapes';

export interface ExperimentCheck {
  /** Shapes, parameters and layer errors. */
  report: ShapeReport;
  /** One message per bad setting, keyed by setting. */
  settingErrors: SettingErrors;
  /** The training-memory estimate: 'refuse' blocks training, 'warn' only warns. */
  memory: MemoryEstimate;
  /** True when Train may start. */
  canTrain: boolean;
  /** Why it may not, most important first (layer errors, then settings, then memory); empty when it may. */
  reasons: string[];
}

/** Layers that only move or pick values: an output bound to [0, 1] stays so through them. */
const KEEPS_RANGE: readonly LayerSpec['kind'][] = ['reshape', 'flatten', 'upSampling2d', 'maxPool2d', 'avgPool2d'];

/**
 * Why the decoder's output can leave [0, 1] (binary cross-entropy needs it inside), or null: the last
 * layer that changes values must end in a sigmoid.
 */
export function outputRangeProblem(decoder: readonly LayerSpec[]): string | null {
  if (decoder.length === 0) return null; // the empty decoder is the error to fix first
  for (let i = decoder.length - 1; i >= 0; i--) {
    const l = decoder[i];
    if (KEEPS_RANGE.includes(l.kind)) continue;
    const activation = 'activation' in l ? l.activation : null;
    if (activation === 'sigmoid') return null;
    const what = activation ? `${layerDef(l.kind).label.toLowerCase()} with ${activation} activation` : layerDef(l.kind).label.toLowerCase();
    return `Binary cross-entropy needs outputs in [0, 1], but the decoder ends in decoder layer ${i + 1} (${what}), which can leave that range. End the decoder with a sigmoid, or choose mean squared error or L1.`;
  }
  return 'Binary cross-entropy needs outputs in [0, 1], but no decoder layer bounds them: end the decoder with a sigmoid, or choose mean squared error or L1.';
}

/**
 * The variant's rules at the layers (#16): a VAE's last encoder layer becomes the mean and log-variance
 * heads (dense or conv only; its activation gives way to linear heads, and its parameters double); a
 * rank-ordered code is clipped to [0, 1]. Returns the layers with notes and errors, and the errors.
 */
function variantLayers(spec: ExperimentSpec, layers: LayerInfo[]): { layers: LayerInfo[]; errors: string[]; extraParams: number } {
  const lastIndex = spec.encoder.length - 1;
  const errors: string[] = [];
  let extraParams = 0;
  const out = layers.map((info) => {
    if (info.stack !== 'encoder' || info.index !== lastIndex) return info;
    const label = layerDef(info.layer.kind).label;
    if (spec.variant === 'vae') {
      if (info.layer.kind !== 'dense' && info.layer.kind !== 'conv2d') {
        const error = `a variational autoencoder needs the encoder to end in a dense or conv2d layer (it becomes the mean and log-variance heads); this one ends in ${label.toLowerCase()}`;
        errors.push(`encoder layer ${info.index + 1} (${label}): ${error}`);
        return { ...info, error: info.error ?? error };
      }
      extraParams = info.params;
      return { ...info, params: info.params * 2, note: 'VAE: this layer is built twice, as the mean and the log-variance heads, both linear; the code is sampled from them.' };
    }
    if (spec.variant === 'rankOrdered') return { ...info, note: 'Rank-ordered: the code is clipped to [0, 1] (TReLU) and ranked; training keeps each image’s r largest values.' };
    if (spec.variant === 'sparse') return { ...info, note: 'Sparse: the code pays an L1 penalty (and dropout / noise while training).' };
    return info;
  });
  return { layers: out, errors, extraParams };
}

/** Why the spec's data set cannot be used here (an own image set this browser does not have), or null. */
export function missingDatasetProblem(spec: ExperimentSpec): string | null {
  if (datasetInfo(spec.dataset)) return null;
  const name = spec.dataset.replace(/^own:/, '');
  return `This experiment uses the image set “${name}”, which is not in this browser (own images stay on the computer that imported them). Import images under that name, or choose a built-in data set.`;
}

export function checkExperiment(spec: ExperimentSpec): ExperimentCheck {
  const shapes = inferShapes(spec, datasetShape(spec.dataset));
  const variant = variantLayers(spec, shapes.layers);
  const errors = [...shapes.errors, ...variant.errors];
  const report: ShapeReport = { ...shapes, layers: variant.layers, totalParams: shapes.totalParams + variant.extraParams, errors, error: errors[0] ?? null };
  const settingErrors = checkSettings(spec);
  const range = spec.loss === 'bce' ? outputRangeProblem(spec.decoder) : null;
  if (range && !settingErrors.loss) settingErrors.loss = range;
  const missing = missingDatasetProblem(spec);
  if (missing && !settingErrors.dataset) settingErrors.dataset = missing;
  const memory = estimateMemory(report, spec.batchSize, spec.optimizer);
  const reasons = [
    ...report.errors,
    // In table order, so the first one named is the first field of the panel.
    ...SETTING_LIST.flatMap((def) => settingErrors[def.key] ?? []),
    ...(memory.level === 'refuse' && memory.message ? [memory.message] : []),
  ];
  return { report, settingErrors, memory, canTrain: reasons.length === 0, reasons };
}

/**
 * The verdict for a spec object, computed once: the store replaces the spec object on every edit and
 * never mutates it, so the panels that show the verdict and the store's train() share one computation.
 */
const verdicts = new WeakMap<ExperimentSpec, ExperimentCheck>();
export function experimentCheckOf(spec: ExperimentSpec): ExperimentCheck {
  let check = verdicts.get(spec);
  if (!check) {
    check = checkExperiment(spec);
    verdicts.set(spec, check);
  }
  return check;
}
