/**
 * What the code exports (PyTorch, Keras) share: the layers with their shapes and tfjs names, the
 * padding and initialiser arithmetic of Keras/tfjs, the header. Pure: no React, no tfjs.
 */
import { datasetLabel, datasetShape } from '../data/catalogue';
import { inferShapes } from '../model/inferShapes';
import { SGD_MOMENTUM } from '../model/settings';
import type { ExperimentSpec, LayerSpec, Shape } from '../model/spec';

export interface ExportOptions {
  /** The share link back to the experiment. */
  link: string;
}

/** Batch norm as the playground trains it (src/train/worker/batchNorm.ts): Keras' defaults. */
export const BN_MOMENTUM = 0.99;
export const BN_EPSILON = 1e-3;
/** The float32 backend epsilon that tfjs' Adam and RMSprop use when none is given. */
export const TFJS_EPSILON = 1e-7;
/** tfjs' RMSprop default decay (rho). */
export const RMSPROP_DECAY = 0.9;
export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;
/** Binary cross-entropy clips the output into [eps, 1 − eps] (src/train/worker/training.ts). */
export const BCE_CLIP = 1e-7;
export { SGD_MOMENTUM };

export interface ExportLayer {
  /** The tfjs layer name buildModel gives it: enc{i}_{kind} / dec{i}_{kind}. */
  name: string;
  stack: 'encoder' | 'decoder';
  layer: LayerSpec;
  inputShape: Shape;
  outputShape: Shape;
}

/** The spec's layers with their shapes; throws when the spec does not build. */
export function exportLayers(spec: ExperimentSpec): { inputShape: Shape; layers: ExportLayer[] } {
  const inputShape = datasetShape(spec.dataset);
  const report = inferShapes(spec, inputShape);
  if (report.error) throw new Error(`this experiment does not build: ${report.error}`);
  const layers = report.layers.map((l): ExportLayer => {
    if (!l.inputShape || !l.outputShape) throw new Error(`layer ${l.index} has no shape`);
    return {
      name: `${l.stack === 'encoder' ? 'enc' : 'dec'}${l.index}_${l.layer.kind}`,
      stack: l.stack,
      layer: l.layer,
      inputShape: l.inputShape,
      outputShape: l.outputShape,
    };
  });
  return { inputShape, layers };
}

/**
 * TensorFlow's 'same' padding along one axis: the total is what the strided windows need to cover
 * the input, and the odd pixel goes after (bottom/right), not before. [before, after].
 */
export function tfSamePadding(size: number, kernel: number, stride: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * A Keras transposed convolution as a PyTorch one: run ConvTranspose2d without padding (full
 * output (size − 1)·stride + kernel, plus `outputPadding` zero-input rows at the end when Keras'
 * output is longer), then keep `length` values from `cropBefore`.
 */
export function transposeGeometry(
  size: number,
  kernel: number,
  stride: number,
  padding: 'same' | 'valid',
): { outputPadding: number; cropBefore: number; length: number } {
  const length = padding === 'same' ? size * stride : size * stride + Math.max(kernel - stride, 0);
  const full = (size - 1) * stride + kernel;
  // 'same' is the gradient of a 'same' conv from `length` down to `size`: its padding is cut off.
  const cropBefore = padding === 'same' ? tfSamePadding(length, kernel, stride)[0] : 0;
  const outputPadding = Math.max(cropBefore + length - full, 0);
  return { outputPadding, cropBefore, length };
}

export type InitSpec = { kind: 'he_normal'; stddev: number; fanIn: number } | { kind: 'glorot_uniform'; limit: number; fanIn: number; fanOut: number };

/**
 * The kernel initialiser buildModel uses, with tfjs' fans (kernel [kh, kw, a, b]: fanIn = kh·kw·a,
 * fanOut = kh·kw·b, so a transposed conv's fanIn counts its filters): He normal (a normal with
 * stddev √(2/fanIn) truncated at 2 stddev) for relu/elu/linear, Glorot uniform (±√(6/(fanIn+fanOut)))
 * otherwise. Biases start at zero.
 */
export function kernelInit(l: ExportLayer): InitSpec | null {
  const { layer } = l;
  let fanIn: number;
  let fanOut: number;
  if (layer.kind === 'conv2d') {
    fanIn = layer.kernelSize * layer.kernelSize * l.inputShape[2];
    fanOut = layer.kernelSize * layer.kernelSize * layer.filters;
  } else if (layer.kind === 'conv2dTranspose') {
    fanIn = layer.kernelSize * layer.kernelSize * layer.filters;
    fanOut = layer.kernelSize * layer.kernelSize * l.inputShape[2];
  } else if (layer.kind === 'dense') {
    fanIn = l.inputShape[0];
    fanOut = layer.units;
  } else {
    return null;
  }
  const he = layer.activation === 'relu' || layer.activation === 'elu' || layer.activation === 'linear';
  return he
    ? { kind: 'he_normal', stddev: Math.sqrt(2 / Math.max(1, fanIn)), fanIn }
    : { kind: 'glorot_uniform', limit: Math.sqrt(6 / Math.max(1, fanIn + fanOut)), fanIn, fanOut };
}

/** The weight names tfjs saves for a layer, in tfjs' order (model.json's weightsManifest). */
export function tfjsWeightNames(l: Pick<ExportLayer, 'name' | 'layer'>): string[] {
  switch (l.layer.kind) {
    case 'conv2d':
    case 'conv2dTranspose':
    case 'dense':
      return [`${l.name}/kernel`, `${l.name}/bias`];
    case 'batchNorm':
      return ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((w) => `${l.name}/${w}`);
    default:
      return [];
  }
}

/** A number as a Python/JSON literal that reads back as the same double. */
export function pyNum(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`not a finite number: ${x}`);
  const s = String(x);
  return Number.isInteger(x) && !s.includes('e') ? `${s}.0` : s;
}

/** A Python string literal (double-quoted, escaped). */
export function pyStr(s: string): string {
  return JSON.stringify(s);
}

/** The training settings in words, for the headers. */
export function settingsLines(spec: ExperimentSpec): string[] {
  const opt =
    spec.optimizer === 'adam'
      ? `Adam (lr ${spec.learningRate}, beta1 ${ADAM_BETA1}, beta2 ${ADAM_BETA2}, epsilon ${TFJS_EPSILON}: tfjs' defaults)`
      : spec.optimizer === 'sgd'
        ? `SGD with momentum ${SGD_MOMENTUM} (lr ${spec.learningRate}, no Nesterov, no dampening)`
        : `RMSprop (lr ${spec.learningRate}, rho ${RMSPROP_DECAY}, momentum 0, epsilon ${TFJS_EPSILON} inside the square root: tfjs' defaults)`;
  const loss =
    spec.loss === 'mse'
      ? 'mean squared error (mean over every pixel of the batch)'
      : `binary cross-entropy on the sigmoid output clipped into [${BCE_CLIP}, 1 - ${BCE_CLIP}] (mean over every pixel)`;
  return [
    `Data set: ${datasetLabel(spec.dataset)}, ${spec.trainSize} training images, pixels / 255`,
    `Loss: ${loss}`,
    `Optimizer: ${opt}`,
    `Batch size ${spec.batchSize}, ${spec.epochs} epoch${spec.epochs === 1 ? '' : 's'}, seed ${spec.seed}`,
  ];
}

/** The spec as indented JSON lines, each prefixed (for a comment block). */
export function specJsonLines(spec: ExperimentSpec, prefix: string): string[] {
  // Valid JSON, one setting or one layer a line.
  const entries = Object.entries(spec).map(([key, value]) =>
    Array.isArray(value)
      ? [`  ${JSON.stringify(key)}: [`, ...value.map((l, i) => `    ${JSON.stringify(l)}${i < value.length - 1 ? ',' : ''}`), '  ]'].join('\n')
      : `  ${JSON.stringify(key)}: ${JSON.stringify(value)}`,
  );
  return ['{', ...entries.join(',\n').split('\n'), '}'].map((line) => `${prefix}${line}`);
}

/** The link on one line, safe inside a comment. */
export function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

/** The standard download locations of the idx files (first that answers wins); other sets come as an .npz from the app. */
export const DATA_MIRRORS: Partial<Record<ExperimentSpec['dataset'], string[]>> = {
  mnist: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/', 'http://yann.lecun.com/exdb/mnist/'],
  'fashion-mnist': ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/', 'https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/'],
};

/**
 * Python: reads the weights of a tfjs layers-format model.json (every shard, dtype and quantization) into
 * a dict by full weight name. Both scripts carry it (each script is self-contained).
 */
export const PY_READ_TFJS_WEIGHTS = String.raw`NP_DTYPES = {'float32': '<f4', 'int32': '<i4', 'bool': '|u1', 'uint8': '|u1', 'uint16': '<u2', 'float16': '<f2'}


def read_tfjs_weights(path):
    """The weights of a tfjs layers-format model.json (weightsManifest: paths, weights with name/shape/dtype), by their full names."""
    import urllib.request
    with open(path) as f:
        manifest = json.load(f)['weightsManifest']
    base = os.path.dirname(os.path.abspath(path))
    out = {}
    for group in manifest:
        data = b''
        for p in group['paths']:
            with open(os.path.join(base, urllib.request.url2pathname(p)), 'rb') as f:
                data += f.read()
        offset = 0
        for w in group['weights']:
            q = w.get('quantization')
            dtype = np.dtype(NP_DTYPES[q['dtype'] if q else w['dtype']])
            n = int(np.prod(w['shape'])) if w['shape'] else 1
            arr = np.frombuffer(data, dtype, n, offset).reshape(w['shape'])
            offset += n * dtype.itemsize
            if q and 'scale' in q:
                arr = arr.astype(np.float32) * q['scale'] + q['min']
            out[w['name']] = arr.astype(np.float32)
    return out


`;
