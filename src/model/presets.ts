/** Ready-made experiments: the default, the documents' architectures, and small ones for tests. */
import type { ExperimentSpec, LayerSpec } from './spec';

const conv = (filters: number, activation: 'relu' | 'linear' | 'sigmoid' = 'linear', kernelSize = 3, strides = 1): LayerSpec => ({
  kind: 'conv2d',
  filters,
  kernelSize,
  strides,
  padding: 'same',
  activation,
});
const leaky = (alpha = 0.2): LayerSpec => ({ kind: 'activation', activation: 'leakyRelu', alpha });
const maxPool: LayerSpec = { kind: 'maxPool2d', poolSize: 2, strides: 2 };
const up: LayerSpec = { kind: 'upSampling2d', size: 2 };

const base = {
  dataset: 'mnist',
  loss: 'bce',
  optimizer: 'adam',
  learningRate: 0.002,
  batchSize: 32,
  epochs: 3,
  seed: 1,
  trainSize: 9000,
  backend: 'auto',
} as const satisfies Omit<ExperimentSpec, 'encoder' | 'decoder'>;

export interface Preset {
  id: string;
  label: string;
  description: string;
  spec: ExperimentSpec;
}

export const DEFAULT_SPEC: ExperimentSpec = {
  ...base,
  encoder: [conv(16), leaky(), maxPool, conv(4), leaky(), maxPool],
  decoder: [conv(16), leaky(), up, conv(16), leaky(), up, conv(1, 'sigmoid')],
};

export const PRESETS: Preset[] = [
  {
    id: 'default',
    label: 'Small conv AE (7×7×4 code)',
    description: 'Two conv + max-pool stages down to a 7×7×4 code, upsampling back. Trains in seconds.',
    spec: DEFAULT_SPEC,
  },
  {
    id: 'wiki-5-layer',
    label: '5-layer conv AE, 64 kernels (wiki)',
    description: 'Four 64-kernel 3×3 convs with batch norm and leakyReLU, max-pooling down and upsampling up, one 3×3 output conv.',
    spec: {
      ...base,
      encoder: [conv(64), { kind: 'batchNorm' }, leaky(), maxPool, conv(64), { kind: 'batchNorm' }, leaky(), maxPool],
      decoder: [conv(64), { kind: 'batchNorm' }, leaky(), up, conv(64), { kind: 'batchNorm' }, leaky(), up, conv(1, 'sigmoid')],
    },
  },
  {
    id: 'dense',
    label: 'Dense AE 784-256-32-256-784',
    description: 'The classic fully connected sandwich with a 32-value code.',
    spec: {
      ...base,
      learningRate: 0.001,
      encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 256, activation: 'relu' }, { kind: 'dense', units: 32, activation: 'linear' }],
      decoder: [
        { kind: 'dense', units: 256, activation: 'relu' },
        { kind: 'dense', units: 784, activation: 'sigmoid' },
        { kind: 'reshape', targetShape: [28, 28, 1] },
      ],
    },
  },
  {
    id: 'transpose',
    label: 'Strided conv + transposed conv',
    description: 'Downsamples with stride-2 convolutions and upsamples with stride-2 transposed convolutions (the tutorial).',
    spec: {
      ...base,
      encoder: [conv(16, 'linear', 3, 2), leaky(), conv(4, 'linear', 3, 2), leaky()],
      decoder: [
        { kind: 'conv2dTranspose', filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear' },
        leaky(),
        { kind: 'conv2dTranspose', filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear' },
        leaky(),
        conv(1, 'sigmoid'),
      ],
    },
  },
  {
    id: 'tiny',
    label: 'Tiny (for tests and slow machines)',
    description: 'One 4-filter conv and pooling: a 14×14×2 code. Fast even on software rendering.',
    spec: {
      ...base,
      batchSize: 16,
      trainSize: 512,
      epochs: 1,
      learningRate: 0.01,
      encoder: [conv(4), leaky(), maxPool, conv(2), leaky()],
      decoder: [up, conv(1, 'sigmoid')],
    },
  },
];

/** Presets and defaults are shared: freeze them so nothing can change what an old link decodes to. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    Object.values(value as Record<string, unknown>).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
deepFreeze(PRESETS);

export function findPreset(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}
