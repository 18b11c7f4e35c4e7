/** Ready-made experiments: the default, the documents' architectures, and small ones for tests. */
import type { DatasetId, ExperimentSpec, LayerSpec } from './spec';
import { adaptToShape } from './adaptShape';
import { datasetShape } from '../data/catalogue';

/** The variant fields of a plain autoencoder (#16): what a link or file from before variants means. */
export const VARIANT_DEFAULTS = {
  variant: 'plain',
  corruption: 'gaussian',
  noise: 0.3,
  sparsity: 0.01,
  codeDropout: 0,
  codeNoise: 0,
  beta: 1,
} as const satisfies Pick<ExperimentSpec, 'variant' | 'corruption' | 'noise' | 'sparsity' | 'codeDropout' | 'codeNoise' | 'beta'>;

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
  ...VARIANT_DEFAULTS,
} as const satisfies Omit<ExperimentSpec, 'encoder' | 'decoder'>;

export interface Preset {
  id: string;
  label: string;
  description: string;
  /** "What to look for": two or three short sentences a lecturer can read out after loading it. */
  lookFor: string;
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
    lookFor:
      'The code keeps 196 of the 784 input values (25%), yet after one epoch the digits come back sharp. Each max pool halves height and width; each upsampling doubles them back.',
    spec: DEFAULT_SPEC,
  },
  {
    id: 'wiki-5-layer',
    label: '5-layer conv AE, 64 kernels (wiki)',
    description: 'Four 64-kernel 3×3 convs with batch norm and leakyReLU, max-pooling down and upsampling up, one 3×3 output conv.',
    lookFor:
      'The five convolutions of the wiki: 64 kernels each, same padding, so only pooling and upsampling change height and width. Early on the test loss (batch norm in inference mode, moving averages) sits far above the training loss; watch the gap close. About 113,000 parameters: roughly eight times slower per step than the small conv AE.',
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
    lookFor:
      'Flatten throws away where each pixel sits: every unit sees the whole image. 32 numbers are enough for recognisable digits, but the reconstructions come back blurrier than the conv models’ at a similar code size. Most of its ~420,000 parameters sit in the two 784×256 layers.',
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
    lookFor:
      'No pooling: a stride-2 convolution halves 28 to 14 to 7, and a stride-2 transposed convolution doubles 7 to 14 to 28, each input value stamped onto a 3×3 patch of the output. Where stamps overlap the output can show a faint checkerboard early in training.',
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
    lookFor:
      'About 130 parameters, 512 training images, one epoch of 32 steps: it finishes in seconds even on a weak laptop. The 14×14×2 code keeps half of the 784 input values, so the digits come back recognisable even this early.',
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
  {
    id: 'linear',
    label: 'Linear autoencoder (= PCA)',
    description: 'One dense layer of 32 linear units and a linear dense decoder, trained on mean squared error.',
    lookFor:
      'No activation anywhere: the best such model projects each image onto the 32 leading principal components, as PCA does. The dashed PCA line on the loss chart is that best: watch the test loss approach it. Compare it with the dense AE (same 32-value code, ReLU layers): the nonlinear one goes below the line.',
    spec: {
      ...base,
      loss: 'mse',
      learningRate: 0.001,
      encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 32, activation: 'linear' }],
      decoder: [
        { kind: 'dense', units: 784, activation: 'linear' },
        { kind: 'reshape', targetShape: [28, 28, 1] },
      ],
    },
  },
  {
    id: 'bottleneck-28x28x1',
    label: 'Bottleneck 28×28×1 (as many values as pixels)',
    description: 'Convolutions only, no pooling: the code is a 28×28×1 map, 784 values, exactly the input’s size (the bottleneck study).',
    lookFor:
      'The code has as many values as the image has pixels, yet the network does not learn to copy: try the copy test under Analysis. Compare the test loss with the 14×14×4 and 7×7×16 presets: all three codes hold 784 values.',
    spec: {
      ...base,
      encoder: [conv(16), leaky(), conv(16), leaky(), conv(1), leaky()],
      decoder: [conv(16), leaky(), conv(16), leaky(), conv(1, 'sigmoid')],
    },
  },
  {
    id: 'bottleneck-14x14x4',
    label: 'Bottleneck 14×14×4 (784 values)',
    description: 'One max pool: the code is 14×14 wide and 4 channels deep, 784 values (the bottleneck study).',
    lookFor:
      'Same code size as the 28×28×1 and 7×7×16 presets, split differently between height × width and channels. The bottleneck study found that height and width matter more than channels for how well a convolutional AE generalises: compare their test losses.',
    spec: {
      ...base,
      encoder: [conv(16), leaky(), maxPool, conv(16), leaky(), conv(4), leaky()],
      decoder: [conv(16), leaky(), up, conv(16), leaky(), conv(1, 'sigmoid')],
    },
  },
  {
    id: 'bottleneck-7x7x16',
    label: 'Bottleneck 7×7×16 (784 values)',
    description: 'Two max pools: the code is only 7×7 wide but 16 channels deep, 784 values (the bottleneck study).',
    lookFor:
      'The smallest height × width of the three 784-value bottlenecks: each code cell summarises a 4×4 patch of the digit in 16 channels. The bottleneck study predicts the worst test loss of the three despite the equal size.',
    spec: {
      ...base,
      encoder: [conv(16), leaky(), maxPool, conv(16), leaky(), maxPool, conv(16), leaky()],
      decoder: [conv(16), leaky(), up, conv(16), leaky(), up, conv(1, 'sigmoid')],
    },
  },
  {
    id: 'denoising',
    label: 'Denoising conv AE (Gaussian noise σ = 0.5)',
    description: 'The small conv AE, trained to map noisy digits (Gaussian noise, σ = 0.5) back to the clean ones.',
    lookFor:
      'The reconstructions show three rows: the clean digit, what the network sees, and what it makes of it. Under the grid, the error of the noisy input against the clean image sits far above the reconstruction’s: the model has learned what a digit looks like, not how to copy pixels.',
    spec: {
      ...DEFAULT_SPEC,
      variant: 'denoising',
      corruption: 'gaussian',
      noise: 0.5,
    },
  },
  {
    id: 'sparse',
    label: 'Sparse dense AE (64 ReLU units, L1 on the code)',
    description: 'A dense AE with a 64-unit ReLU code that pays an L1 penalty for every active unit.',
    lookFor:
      'The code histogram piles up at zero: most of the 64 units are silent for any one image, and a few carry it. Set Variant to Plain and train again: the near-zero share drops, the loss a little too.',
    spec: {
      ...base,
      variant: 'sparse',
      sparsity: 0.05,
      encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 256, activation: 'relu' }, { kind: 'dense', units: 64, activation: 'relu' }],
      decoder: [
        { kind: 'dense', units: 256, activation: 'relu' },
        { kind: 'dense', units: 784, activation: 'sigmoid' },
        { kind: 'reshape', targetShape: [28, 28, 1] },
      ],
    },
  },
  {
    id: 'vae',
    label: 'Variational AE, 2-D code (generates digits)',
    description: 'Dense 784-256-(2 means, 2 log-variances)-256-784, binary cross-entropy plus the KL term (beta = 1).',
    lookFor:
      'Two curves: the reconstruction term falls while the KL term rises from zero: the codes spread out to carry information, but stay near N(0, 1). After training, Generate decodes random codes into digits that were never in the data, and the 10×10 manifold walks the whole 2-D code space.',
    spec: {
      ...base,
      variant: 'vae',
      beta: 1,
      learningRate: 0.002,
      epochs: 5,
      encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 256, activation: 'relu' }, { kind: 'dense', units: 2, activation: 'linear' }],
      decoder: [
        { kind: 'dense', units: 256, activation: 'relu' },
        { kind: 'dense', units: 784, activation: 'sigmoid' },
        { kind: 'reshape', targetShape: [28, 28, 1] },
      ],
    },
  },
  {
    id: 'rank-ordered',
    label: 'Rank-ordered AE (32 clipped code units)',
    description: 'A dense AE whose 32-value code is clipped to [0, 1] and ranked: training keeps each image’s r strongest units, r random.',
    lookFor:
      'The cumulative error per unit in the code view: the first few units (each image’s strongest) already give most of the reconstruction, and each further one adds less. Compare with the Plain variant of the same model, whose error falls only when nearly all units are kept.',
    spec: {
      ...base,
      variant: 'rankOrdered',
      encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 256, activation: 'relu' }, { kind: 'dense', units: 32, activation: 'linear' }],
      decoder: [
        { kind: 'dense', units: 256, activation: 'relu' },
        { kind: 'dense', units: 784, activation: 'sigmoid' },
        { kind: 'reshape', targetShape: [28, 28, 1] },
      ],
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

/** Structural equality of two plain values (specs): same keys, same values, arrays in order. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && sameValue(ra[k], rb[k]));
}

/** The preset whose spec this is, unchanged (a loaded preset, or a link or stored design that equals one). */
export function presetOfSpec(spec: ExperimentSpec): Preset | undefined {
  // A preset is loaded onto the data set in use and fitted to its images (#17): compare it so.
  return PRESETS.find((p) => sameValue(presetFor(p, spec.dataset), spec));
}

/** Preset `p` as loading it onto data set `dataset` makes it: that data set, its layers fitted to its images. */
export function presetFor(p: Preset, dataset: DatasetId): ExperimentSpec {
  if (dataset === p.spec.dataset) return p.spec;
  return adaptToShape({ ...structuredClone(p.spec), dataset }, datasetShape(p.spec.dataset), datasetShape(dataset));
}
