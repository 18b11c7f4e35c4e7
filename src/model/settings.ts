/**
 * The settings table: one entry per training setting of the experiment (everything but the two
 * layer stacks), with its label, type, range or options (with their labels), input step and help.
 * Like the layer catalogue, it is the one place these are written: the settings panel renders its
 * fields from it, the field checks below run from it, and validation (validate.ts, used by links,
 * files and stored runs) builds its schema from it. Pure: no React, no tfjs.
 */
import { DATASET_INFO, type DatasetInfo } from '../data/catalogue';
import { BACKEND_CHOICES, BACKEND_LABELS, CORRUPTIONS, DATASETS, LOSSES, OPTIMIZERS, VARIANTS, isOwnDataset, type CorruptionId, type ExperimentSpec, type VariantId } from './spec';

/** Every field of the spec but the layer stacks. */
export type SettingKey = Exclude<keyof ExperimentSpec, 'encoder' | 'decoder'>;
/** The settings that hold a number. */
export type NumberSettingKey = { [K in SettingKey]: ExperimentSpec[K] extends number ? K : never }[SettingKey];
/** The settings that hold one of a list of options. */
export type SelectSettingKey = Exclude<SettingKey, NumberSettingKey>;

export interface SettingOption<V extends string = string> {
  value: V;
  label: string;
}

export interface NumberSettingDef<K extends NumberSettingKey = NumberSettingKey> {
  key: K;
  label: string;
  type: 'int' | 'float';
  min: number;
  max: number;
  /** The input's step: 1 for whole numbers, 'any' where every value is allowed. */
  step: number | 'any';
  help: string;
  /** Shown and used only for these variants (absent: every variant). */
  variants?: readonly VariantId[];
}

export interface SelectSettingDef<K extends SelectSettingKey = SelectSettingKey> {
  key: K;
  label: string;
  type: 'select';
  /** In the order the panel lists them (never the wire order of a link: that is frozen in share/codec.ts). */
  options: readonly SettingOption<ExperimentSpec[K]>[];
  /** Values valid besides the options (the data set: an own image set's id, `own:<name>`, #17). */
  alsoAccepts?: (value: string) => boolean;
  help: string;
  /** Shown and used only for these variants (absent: every variant). */
  variants?: readonly VariantId[];
}

export type SettingDef = NumberSettingDef | SelectSettingDef;

function options<V extends string>(values: readonly V[], label: (v: V) => string): readonly SettingOption<V>[] {
  return values.map((value) => ({ value, label: label(value) }));
}

const LOSS_LABELS: Record<(typeof LOSSES)[number], string> = { mse: 'Mean squared error', bce: 'Binary cross-entropy', l1: 'Mean absolute error (L1)' };
export const VARIANT_LABELS: Record<VariantId, string> = {
  plain: 'Plain',
  denoising: 'Denoising',
  sparse: 'Sparse',
  vae: 'Variational (VAE)',
  rankOrdered: 'Rank-ordered',
};
export const CORRUPTION_LABELS: Record<CorruptionId, string> = { gaussian: 'Gaussian noise (σ)', saltPepper: 'Salt and pepper (rate)', mask: 'Masking (rate)' };
/** The app's 'sgd' is SGD with this momentum: the worker builds its optimizer with it, the label below names it. */
export const SGD_MOMENTUM = 0.9;
const OPTIMIZER_LABELS: Record<(typeof OPTIMIZERS)[number], string> = { adam: 'Adam', sgd: `SGD with momentum ${SGD_MOMENTUM}`, rmsprop: 'RMSprop' };

/** How a data set is listed in the Data set field: its name, count and (when not 28×28 grey) size. */
export function datasetOptionLabel(d: DatasetInfo): string {
  const [h, w, c] = d.shape;
  const size = h === 28 && w === 28 && c === 1 ? '' : `, ${h}×${w}${c === 3 ? ' RGB' : ''}`;
  return `${d.label} (${d.count.toLocaleString('en-US')}${size})`;
}

/** The table, in the order the settings panel shows them (the same order as link format v1). */
export const SETTINGS = {
  dataset: {
    key: 'dataset',
    label: 'Data set',
    type: 'select',
    options: options(DATASETS, (d) => datasetOptionLabel(DATASET_INFO[d])),
    // Whether this browser has the set is checkExperiment's question; any well-formed own id is a valid spec.
    alsoAccepts: isOwnDataset,
    help: 'The images to learn from, with a fixed train/test split. Own images (dropped on the page) are listed after the built-in sets.',
  },
  loss: {
    key: 'loss',
    label: 'Loss',
    type: 'select',
    options: options(LOSSES, (l) => LOSS_LABELS[l]),
    help: 'How a reconstruction is compared with its input.',
  },
  optimizer: {
    key: 'optimizer',
    label: 'Optimizer',
    type: 'select',
    options: options(OPTIMIZERS, (o) => OPTIMIZER_LABELS[o]),
    help: 'How the gradients change the weights.',
  },
  learningRate: {
    key: 'learningRate',
    label: 'Learning rate',
    type: 'float',
    min: 1e-6,
    max: 10,
    step: 'any',
    help: 'The size of each optimizer step.',
  },
  batchSize: { key: 'batchSize', label: 'Batch size', type: 'int', min: 1, max: 1024, step: 1, help: 'Images per training step.' },
  epochs: { key: 'epochs', label: 'Epochs', type: 'int', min: 1, max: 1000, step: 1, help: 'Passes over the training images.' },
  seed: { key: 'seed', label: 'Seed', type: 'int', min: 0, max: 2 ** 31 - 1, step: 1, help: 'Fixes the initial weights and the order of the images.' },
  trainSize: {
    key: 'trainSize',
    label: 'Training images',
    type: 'int',
    min: 16,
    max: 70000,
    step: 1,
    help: 'How many images of the train split to use (at most all of them).',
  },
  backend: {
    key: 'backend',
    label: 'Backend',
    type: 'select',
    options: options(BACKEND_CHOICES, (b) => BACKEND_LABELS[b]),
    help: 'Where the tensors are computed; Auto times the fast ones and picks the fastest.',
  },
  variant: {
    key: 'variant',
    label: 'Variant',
    type: 'select',
    options: options(VARIANTS, (v) => VARIANT_LABELS[v]),
    help: 'Which member of the autoencoder family trains: plain, denoising, sparse, variational or rank-ordered.',
  },
  corruption: {
    key: 'corruption',
    label: 'Corruption',
    type: 'select',
    options: options(CORRUPTIONS, (c) => CORRUPTION_LABELS[c]),
    help: 'How the input is corrupted; the target stays the clean image.',
    variants: ['denoising'],
  },
  noise: {
    key: 'noise',
    label: 'Noise',
    type: 'float',
    min: 0,
    max: 1,
    step: 'any',
    help: 'The corruption’s strength: sigma of the Gaussian noise, or the share of pixels salted or masked.',
    variants: ['denoising'],
  },
  sparsity: {
    key: 'sparsity',
    label: 'Sparsity',
    type: 'float',
    min: 0,
    max: 10,
    step: 'any',
    help: 'Weight of the L1 penalty on the code activations (times the mean |code| value).',
    variants: ['sparse'],
  },
  codeDropout: {
    key: 'codeDropout',
    label: 'Code dropout',
    type: 'float',
    min: 0,
    max: 0.9,
    step: 'any',
    help: 'Share of code values dropped at each training step.',
    variants: ['sparse'],
  },
  codeNoise: {
    key: 'codeNoise',
    label: 'Code σ',
    type: 'float',
    min: 0,
    max: 10,
    step: 'any',
    help: 'Sigma of the Gaussian noise added to the code while training.',
    variants: ['sparse'],
  },
  beta: {
    key: 'beta',
    label: 'Beta',
    type: 'float',
    min: 0,
    max: 100,
    step: 'any',
    help: 'Weight of the KL term that pulls the codes towards a standard normal (beta = 1: the classic VAE).',
    variants: ['vae'],
  },
} as const satisfies { [K in NumberSettingKey]: NumberSettingDef<K> } & { [K in SelectSettingKey]: SelectSettingDef<K> };

/** Every setting, in table order. */
export const SETTING_LIST: readonly SettingDef[] = Object.values(SETTINGS);

export type SettingLimits = { [K in NumberSettingKey]: { min: number; max: number } };

/** The ranges of the numeric settings, from the table. */
export const SETTING_LIMITS: SettingLimits = {
  learningRate: { min: SETTINGS.learningRate.min, max: SETTINGS.learningRate.max },
  batchSize: { min: SETTINGS.batchSize.min, max: SETTINGS.batchSize.max },
  epochs: { min: SETTINGS.epochs.min, max: SETTINGS.epochs.max },
  seed: { min: SETTINGS.seed.min, max: SETTINGS.seed.max },
  trainSize: { min: SETTINGS.trainSize.min, max: SETTINGS.trainSize.max },
  noise: { min: SETTINGS.noise.min, max: SETTINGS.noise.max },
  sparsity: { min: SETTINGS.sparsity.min, max: SETTINGS.sparsity.max },
  codeDropout: { min: SETTINGS.codeDropout.min, max: SETTINGS.codeDropout.max },
  codeNoise: { min: SETTINGS.codeNoise.min, max: SETTINGS.codeNoise.max },
  beta: { min: SETTINGS.beta.min, max: SETTINGS.beta.max },
};

/** Whether a setting applies to (and is shown for) the spec's variant. */
export function settingApplies(def: SettingDef, variant: VariantId): boolean {
  return def.variants === undefined || def.variants.includes(variant);
}

/** Checks one setting's value against its entry; returns a message for the user, or null. */
export function checkSetting(def: SettingDef, value: unknown): string | null {
  if (def.type === 'select') {
    if (typeof value === 'string' && def.alsoAccepts?.(value)) return null;
    return def.options.some((o) => o.value === value) ? null : `${def.label} must be one of ${def.options.map((o) => o.value).join(', ')}`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${def.label} must be a number`;
  if (def.type === 'int' && !Number.isInteger(value)) return `${def.label} must be a whole number`;
  if (value < def.min || value > def.max) return `${def.label} must be between ${def.min} and ${def.max}`;
  return null;
}

export type SettingErrors = Partial<Record<SettingKey, string>>;

/** Checks every setting of the spec; one message per bad field, keyed by field (empty when all are fine). */
export function checkSettings(spec: ExperimentSpec): SettingErrors {
  const out: SettingErrors = {};
  for (const def of SETTING_LIST) {
    // A field of another variant is not the user's concern now (normalisation keeps it in range anyway).
    if (!settingApplies(def, spec.variant)) continue;
    const e = checkSetting(def, spec[def.key]);
    if (e) out[def.key] = e;
  }
  return out;
}

/** A variant in a few words with its parameters, for the runs table: "VAE β=1", "Denoising gaussian σ=0.5". */
export function variantSummary(spec: Pick<ExperimentSpec, 'variant' | 'corruption' | 'noise' | 'sparsity' | 'codeDropout' | 'codeNoise' | 'beta' | 'loss'>): string {
  const loss = spec.loss.toUpperCase();
  switch (spec.variant) {
    case 'plain':
      return `Plain · ${loss}`;
    case 'denoising':
      return `Denoising ${spec.corruption === 'gaussian' ? `gaussian σ=${spec.noise}` : spec.corruption === 'saltPepper' ? `salt & pepper ${spec.noise}` : `mask ${spec.noise}`} · ${loss}`;
    case 'sparse': {
      const parts = [`L1 ${spec.sparsity}`];
      if (spec.codeDropout > 0) parts.push(`dropout ${spec.codeDropout}`);
      if (spec.codeNoise > 0) parts.push(`σ ${spec.codeNoise}`);
      return `Sparse ${parts.join(', ')} · ${loss}`;
    }
    case 'vae':
      return `VAE β=${spec.beta} · ${loss}`;
    case 'rankOrdered':
      return `Rank-ordered · ${loss}`;
  }
}
