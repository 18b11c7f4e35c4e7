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

export const DATASETS = ['mnist', 'fashion-mnist'] as const;
export type DatasetId = (typeof DATASETS)[number];

export const LOSSES = ['mse', 'bce'] as const;
export type LossId = (typeof LOSSES)[number];

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
