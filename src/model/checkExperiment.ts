/**
 * The one verdict on an experiment: may it train, and if not, why. It gathers the shape report
 * (inferShapes: layer fields and shapes), the settings' checks (settings.ts) and the memory
 * estimate (memory.ts). The editor, the settings panel and the Train button show it; the store's
 * train() enforces it, so a sweep or any other caller goes through the same rule. Pure: no React,
 * no tfjs.
 */
import { DATASET_INFO } from '../data/catalogue';
import { inferShapes, type ShapeReport } from './inferShapes';
import { estimateMemory, type MemoryEstimate } from './memory';
import { SETTING_LIST, checkSettings, type SettingErrors } from './settings';
import type { ExperimentSpec } from './spec';

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

export function checkExperiment(spec: ExperimentSpec): ExperimentCheck {
  const report = inferShapes(spec, DATASET_INFO[spec.dataset].shape);
  const settingErrors = checkSettings(spec);
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
