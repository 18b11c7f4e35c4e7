/**
 * Export and import of a trained model in the TensorFlow.js layers format (#18).
 *
 * Export: the model is rebuilt with stock tfjs layers only (our TrainingBatchNorm becomes the stock
 * BatchNormalization: same weights in the same order, axis -1, momentum 0.99, epsilon 1e-3, the same
 * inference), with the same layer names (`enc{i}_{kind}`, `dec{i}_{kind}`: the Python loaders of the
 * code export read the weights by them), the trained weights copied in, and saved with
 * tf.io.withSaveHandler. Any tfjs program loads the result with tf.loadLayersModel, no custom class.
 *
 * Import: the file is loaded with tf.loadLayersModel(tf.io.fromMemory(...)); its layers must match
 * the model our spec builds (names, kinds, settings, weight shapes), and its weights are copied in.
 *
 * Worker-side only (imports tfjs).
 */
import * as tf from '@tensorflow/tfjs';
import type { ExperimentSpec, LayerSpec } from '../../model/spec';
import type { ExportedModel, JsonObject, ModelFileContents, WeightSpec } from '../modelFile';
import { TrainingBatchNorm } from './batchNorm';
import { makeLayer, type BuiltModel } from './buildModel';

/** Keras' and tfjs' batch-norm defaults, which TrainingBatchNorm has too. */
export const STOCK_BATCH_NORM = { axis: -1, momentum: 0.99, epsilon: 1e-3 } as const;

/** The config fields that make two layers of one class compute the same function (besides their weights). */
const CONFIG_KEYS = ['filters', 'kernelSize', 'strides', 'padding', 'activation', 'units', 'poolSize', 'size', 'targetShape', 'rate', 'alpha', 'useBias', 'dataFormat', 'epsilon', 'axis', 'center', 'scale'];

function stockLayer(layer: LayerSpec, name: string): tf.layers.Layer {
  return layer.kind === 'batchNorm' ? tf.layers.batchNormalization({ name, ...STOCK_BATCH_NORM }) : makeLayer(layer, 0, name);
}

/**
 * The layers of our model that the file does not hold as such (#16): the VAE's sampling and the rank
 * mask act only while training; the rank-ordered TReLU is the stock ReLU with max value 1 in the file.
 */
const TRAINING_ONLY = new Set(['vae_sample', 'code_rank', 'code_trelu']);

/**
 * The inference model of `spec` in stock tfjs layers (no weights copied yet). Variants (#16): a VAE
 * decodes its mean (the last encoder layer, linear) and has the log-variance head as a second output
 * (so its weights travel with the file); a rank-ordered code is clipped by ReLU(max 1); a sparse code's
 * dropout and noise are the stock layers (identity when not training).
 */
function stockModel(spec: Pick<ExperimentSpec, 'encoder' | 'decoder' | 'variant' | 'codeDropout' | 'codeNoise'>, inputShape: number[]): tf.LayersModel {
  const input = tf.input({ shape: inputShape, name: 'input' });
  let x: tf.SymbolicTensor = input;
  let logVar: tf.SymbolicTensor | null = null;
  const last = spec.encoder.length - 1;
  spec.encoder.forEach((l, i) => {
    if (spec.variant === 'vae' && i === last && (l.kind === 'dense' || l.kind === 'conv2d')) {
      const linear = { ...l, activation: 'linear' as const };
      logVar = stockLayer(linear, `enc${i}_${l.kind}_logvar`).apply(x) as tf.SymbolicTensor;
      x = stockLayer(linear, `enc${i}_${l.kind}`).apply(x) as tf.SymbolicTensor;
      return;
    }
    x = stockLayer(l, `enc${i}_${l.kind}`).apply(x) as tf.SymbolicTensor;
  });
  if (spec.variant === 'rankOrdered') x = tf.layers.reLU({ maxValue: 1, name: 'code_clip' }).apply(x) as tf.SymbolicTensor;
  if (spec.variant === 'sparse' && spec.codeDropout > 0) x = tf.layers.dropout({ name: 'code_dropout', rate: spec.codeDropout }).apply(x) as tf.SymbolicTensor;
  if (spec.variant === 'sparse' && spec.codeNoise > 0) x = tf.layers.gaussianNoise({ name: 'code_noise', stddev: spec.codeNoise }).apply(x) as tf.SymbolicTensor;
  spec.decoder.forEach((l, i) => {
    x = stockLayer(l, `dec${i}_${l.kind}`).apply(x) as tf.SymbolicTensor;
  });
  return tf.model({ inputs: input, outputs: logVar ? [x, logVar] : x, name: 'autoencoder' });
}

function isWeightSpec(w: tf.io.WeightsManifestEntry): w is tf.io.WeightsManifestEntry & WeightSpec {
  return (w.dtype === 'float32' || w.dtype === 'int32' || w.dtype === 'bool') && w.quantization === undefined;
}

/**
 * The artifacts of `built` (the model of `spec`) in the tfjs layers format, stock layers only. The
 * weights are taken synchronously at the call (a training step after it does not change them).
 */
export async function exportArtifacts(built: BuiltModel, spec: ExperimentSpec): Promise<ExportedModel> {
  const inputShape = built.model.inputs[0].shape.slice(1) as number[];
  const stock = stockModel(spec, inputShape);
  try {
    for (const layer of stock.layers) {
      if (layer.weights.length === 0) continue;
      // Same names as buildModel gives: a layer missing here would be a bug in one of the two.
      const source = built.model.getLayer(layer.name);
      // setWeights shares the values (reference-counted): later writes to `source` leave these alone.
      layer.setWeights(source.getWeights());
    }
    const saved: { artifacts: tf.io.ModelArtifacts | null } = { artifacts: null };
    await stock.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved.artifacts = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const { artifacts } = saved;
    if (artifacts === null) throw new Error('tfjs saved nothing');
    const { modelTopology, weightSpecs, weightData } = artifacts;
    if (!modelTopology || modelTopology instanceof ArrayBuffer || !weightSpecs || !weightData) throw new Error('tfjs saved no JSON topology or no weights');
    const specs = weightSpecs.filter(isWeightSpec);
    if (specs.length !== weightSpecs.length) throw new Error('a weight with an unexpected dtype');
    return {
      modelTopology: modelTopology as JsonObject,
      weightSpecs: specs.map((w) => ({ name: w.name, shape: w.shape, dtype: w.dtype })),
      weightData: tf.io.CompositeArrayBuffer.join(weightData),
      spec,
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version['tfjs-layers']}, Autoencoder Playground`,
    };
  } finally {
    stock.dispose();
  }
}

function configOf(layer: tf.layers.Layer): string {
  const config = layer.getConfig();
  return JSON.stringify(CONFIG_KEYS.map((k) => [k, config[k] ?? null]));
}

/** Why the loaded layer does not fit ours, or null when it does. */
function mismatch(ours: tf.layers.Layer, theirs: tf.layers.Layer): string | null {
  const ourClass = ours instanceof TrainingBatchNorm ? 'BatchNormalization' : ours.getClassName();
  if (theirs.getClassName() !== ourClass) return `layer ${ours.name} is a ${theirs.getClassName()} in the file, a ${ourClass} here`;
  if (!(ours instanceof TrainingBatchNorm)) {
    if (configOf(ours) !== configOf(theirs)) return `layer ${ours.name} has other settings in the file`;
  } else {
    const c = theirs.getConfig();
    if (c.epsilon !== STOCK_BATCH_NORM.epsilon || (c.axis !== -1 && c.axis !== (ours.batchInputShape?.length ?? 0) - 1)) {
      return `batch norm ${ours.name} has epsilon ${String(c.epsilon)} and axis ${String(c.axis)} in the file (the playground's: ${STOCK_BATCH_NORM.epsilon}, -1)`;
    }
  }
  const a = ours.weights.map((w) => w.shape.join('×'));
  const b = theirs.weights.map((w) => w.shape.join('×'));
  if (a.join(',') !== b.join(',')) return `layer ${ours.name} has weights of shapes [${b.join(', ')}] in the file, [${a.join(', ')}] here`;
  return null;
}

/**
 * Loads the model file with plain tf.loadLayersModel and copies its weights into `built` (the model
 * its spec builds). Throws an Error with a message for the user when the layers do not match; then
 * `built` is left as it was.
 */
export async function importWeights(built: BuiltModel, file: Pick<ModelFileContents, 'modelTopology' | 'weightSpecs' | 'weightData'>): Promise<void> {
  let loaded: tf.LayersModel;
  try {
    loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: file.modelTopology, weightSpecs: file.weightSpecs, weightData: file.weightData }));
  } catch (e) {
    throw new Error(`TensorFlow.js could not load this model (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  try {
    const ours = built.model.layers.filter((l) => !TRAINING_ONLY.has(l.name));
    const theirLayers = loaded.layers.filter((l) => l.name !== 'code_clip');
    const ourInput = built.model.inputs[0].shape.slice(1).join('×');
    const theirInput = loaded.inputs.length === 1 ? loaded.inputs[0].shape.slice(1).join('×') : `${loaded.inputs.length} inputs`;
    if (ourInput !== theirInput) throw new Error(`its input is ${theirInput}, the experiment's data set gives ${ourInput}`);
    if (theirLayers.length !== ours.length) throw new Error(`it has ${theirLayers.length - 1} layers, its experiment ${ours.length - 1}`);
    const pairs = ours.map((layer) => {
      const theirs = theirLayers.find((l) => l.name === layer.name);
      if (!theirs) throw new Error(`it has no layer ${layer.name}`);
      const why = mismatch(layer, theirs);
      if (why) throw new Error(why);
      return [layer, theirs] as const;
    });
    tf.tidy(() => {
      for (const [layer, theirs] of pairs) {
        if (layer.weights.length > 0) layer.setWeights(theirs.getWeights().map((t) => t.clone()));
      }
    });
  } catch (e) {
    throw new Error(`The model's layers do not match its experiment: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  } finally {
    loaded.dispose();
  }
}

/** The display images' reconstructions (clipped to [0, 1]) and bottleneck codes, as the training loop shows them. */
export async function viewsOf(built: BuiltModel, display: tf.Tensor4D): Promise<{ pixels: Float32Array; codes: Float32Array; codeShape: number[] }> {
  const [recon, code] = built.views.predict(display) as tf.Tensor[];
  const clipped = tf.clipByValue(recon, 0, 1);
  recon.dispose();
  try {
    const [pixels, codes] = await Promise.all([clipped.data() as Promise<Float32Array>, code.data() as Promise<Float32Array>]);
    return { pixels, codes, codeShape: code.shape.slice(1) };
  } finally {
    clipped.dispose();
    code.dispose();
  }
}
