/**
 * Builds the tf.js model from the spec: exactly the layers the UI shows, with seeded initialisers.
 * Worker-side only (imports tfjs).
 */
import * as tf from '@tensorflow/tfjs';
import type { ExperimentSpec, LayerSpec, Shape } from '../../model/spec';
import { TrainingBatchNorm } from './batchNorm';
import { RankMask, TRelu, VaeSample, type VariantFields } from './variants';

export interface BuiltModel {
  /** input → reconstruction */
  model: tf.LayersModel;
  /** input → bottleneck code */
  encoder: tf.LayersModel;
  /** input → [reconstruction, code] in one forward pass, for the live views. */
  views: tf.LayersModel;
  /**
   * input → [reconstruction, code] or, for a vae, [reconstruction, mu, logvar]: the graph the variants'
   * training step runs (with training: true, so the code's dropout, noise, sampling and rank mask act).
   * The same layers as `model`, whose weights (the vae's log-variance head included) are all of them.
   */
  train: tf.LayersModel;
  /** Output shape of each layer, encoder first, as tfjs reports it (without the batch axis). */
  layerShapes: Shape[];
}

/** A per-layer seed so the same spec always gets the same weights. */
function layerSeed(seed: number, index: number): number {
  return (Math.imul(seed + 1, 2654435761) ^ Math.imul(index + 1, 40503)) >>> 0;
}

function initializerFor(activation: string, seed: number): ReturnType<typeof tf.initializers.heNormal> {
  // He init for rectifiers keeps their signal alive; Glorot for the rest.
  return activation === 'relu' || activation === 'elu' || activation === 'linear'
    ? tf.initializers.heNormal({ seed })
    : tf.initializers.glorotUniform({ seed });
}

export function makeLayer(layer: LayerSpec, seed: number, name: string): tf.layers.Layer {
  switch (layer.kind) {
    case 'conv2d':
      return tf.layers.conv2d({
        name,
        filters: layer.filters,
        kernelSize: layer.kernelSize,
        strides: layer.strides,
        padding: layer.padding,
        activation: layer.activation,
        kernelInitializer: initializerFor(layer.activation, seed),
      });
    case 'conv2dTranspose':
      return tf.layers.conv2dTranspose({
        name,
        filters: layer.filters,
        kernelSize: layer.kernelSize,
        strides: layer.strides,
        padding: layer.padding,
        activation: layer.activation,
        kernelInitializer: initializerFor(layer.activation, seed),
      });
    case 'maxPool2d':
      return tf.layers.maxPooling2d({ name, poolSize: layer.poolSize, strides: layer.strides, padding: 'valid' });
    case 'avgPool2d':
      return tf.layers.averagePooling2d({ name, poolSize: layer.poolSize, strides: layer.strides, padding: 'valid' });
    case 'upSampling2d':
      // Pass [s, s]: a bare number yields NaN shapes in tfjs 4.22.
      return tf.layers.upSampling2d({ name, size: [layer.size, layer.size] });
    case 'batchNorm':
      return new TrainingBatchNorm({ name });
    case 'activation':
      return layer.activation === 'leakyRelu'
        ? tf.layers.leakyReLU({ name, alpha: layer.alpha })
        : tf.layers.activation({ name, activation: layer.activation });
    case 'dense':
      return tf.layers.dense({
        name,
        units: layer.units,
        activation: layer.activation,
        kernelInitializer: initializerFor(layer.activation, seed),
      });
    case 'flatten':
      return tf.layers.flatten({ name });
    case 'reshape':
      return tf.layers.reshape({ name, targetShape: layer.targetShape });
    case 'dropout':
      // No per-layer seed: tfjs would then draw the same mask at every step. The worker seeds
      // Math.random per run instead, which tfjs' unseeded random ops draw from.
      return tf.layers.dropout({ name, rate: layer.rate });
  }
}

/** The spec fields buildModel reads; the variant fields default to a plain autoencoder. */
/** Switch for tests: false leaves the first conv layer as tfjs-layers calls it. */
export const firstConvWeightGradientsOnly = { on: true };

function isApplier(v: unknown): v is { apply(t: tf.Tensor): tf.Tensor } {
  return typeof v === 'object' && v !== null && typeof (v as { apply?: unknown }).apply === 'function';
}

/**
 * The first conv layer reads the data, whose gradient nobody needs, yet tfjs-layers calls fused.conv2d,
 * whose gradient (one customGrad for input, filter and bias) computes the input's every step: on the
 * default model on WASM ~0.9 ms of a ~10 ms step, on the 64-kernel one ~7 ms. Called as conv2d + bias +
 * activation instead, conv2d's registered gradient computes each input's only when asked, so the
 * engine skips it. The same arithmetic, weights and config (export, saving and the fused WebGPU path
 * read those, not this call).
 */
function computeWeightGradientsOnly(layer: tf.layers.Layer, spec: Extract<LayerSpec, { kind: 'conv2d' }>): void {
  const activation: unknown = (layer as unknown as { activation?: unknown }).activation;
  if (!isApplier(activation)) return;
  layer.call = (inputs) =>
    tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const [kernel, bias] = layer.weights.map((w) => w.read());
      if (x.rank !== 4 || kernel == null || kernel.rank !== 4) throw new Error('conv2d: expected rank-4 input and kernel');
      let y: tf.Tensor = tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, spec.strides, spec.padding);
      if (bias != null) y = tf.add(y, bias);
      return activation.apply(y);
    });
}

export type ModelFields = Pick<ExperimentSpec, 'encoder' | 'decoder' | 'seed'> & Partial<Pick<VariantFields, 'variant' | 'codeDropout' | 'codeNoise'>>;

export function buildModel(spec: ModelFields, inputShape: Shape): BuiltModel {
  const variant = spec.variant ?? 'plain';
  const input = tf.input({ shape: inputShape, name: 'input' });
  let x: tf.SymbolicTensor = input;
  const layerShapes: Shape[] = [];
  let index = 0;
  const make = (layer: LayerSpec, name: string): tf.layers.Layer => makeLayer(layer, layerSeed(spec.seed, index), name);
  const apply = (layer: LayerSpec, prefix: string, i: number): void => {
    const l = make(layer, `${prefix}${i}_${layer.kind}`);
    if (x === input && layer.kind === 'conv2d' && firstConvWeightGradientsOnly.on) computeWeightGradientsOnly(l, layer);
    index++;
    x = l.apply(x) as tf.SymbolicTensor;
    layerShapes.push(x.shape.slice(1) as number[]);
  };
  const last = spec.encoder.length - 1;
  let logVar: tf.SymbolicTensor | null = null;
  spec.encoder.forEach((l, i) => {
    if (variant === 'vae' && i === last && (l.kind === 'dense' || l.kind === 'conv2d')) {
      // The mean and log-variance heads: the layer twice, linear (the layer's own activation is not used).
      const linear = { ...l, activation: 'linear' as const };
      const before = x;
      apply(linear, 'enc', i);
      const head = makeLayer(linear, layerSeed(spec.seed, 1000 + i), `enc${i}_${l.kind}_logvar`);
      logVar = head.apply(before) as tf.SymbolicTensor;
      return;
    }
    apply(l, 'enc', i);
  });
  if (variant === 'rankOrdered') x = new TRelu({ name: 'code_trelu' }).apply(x) as tf.SymbolicTensor;
  const code = x;
  if (variant === 'vae' && logVar) x = new VaeSample({ name: 'vae_sample' }).apply([code, logVar]) as tf.SymbolicTensor;
  if (variant === 'sparse' && (spec.codeDropout ?? 0) > 0) x = tf.layers.dropout({ name: 'code_dropout', rate: spec.codeDropout ?? 0 }).apply(x) as tf.SymbolicTensor;
  if (variant === 'sparse' && (spec.codeNoise ?? 0) > 0) x = tf.layers.gaussianNoise({ name: 'code_noise', stddev: spec.codeNoise ?? 0 }).apply(x) as tf.SymbolicTensor;
  if (variant === 'rankOrdered') x = new RankMask({ name: 'code_rank' }).apply(x) as tf.SymbolicTensor;
  if (variant === 'rankOrdered' && layerShapes.length > 0) layerShapes[layerShapes.length - 1] = code.shape.slice(1) as number[];
  spec.decoder.forEach((l, i) => apply(l, 'dec', i));
  const model = tf.model({ inputs: input, outputs: x, name: 'autoencoder' });
  const encoder = tf.model({ inputs: input, outputs: code, name: 'encoder' });
  // With an empty decoder the code is the output: give it its own (identity) node, as tfjs wants distinct outputs.
  const codeOut = code === x ? (tf.layers.activation({ activation: 'linear', name: 'code_copy' }).apply(code) as tf.SymbolicTensor) : code;
  const views = tf.model({ inputs: input, outputs: [x, codeOut], name: 'views' });
  const train = tf.model({ inputs: input, outputs: logVar ? [x, codeOut, logVar] : [x, codeOut], name: 'train' });
  return { model, encoder, views, train, layerShapes };
}

/**
 * A fresh code → reconstruction model (#16 Generate, the manifold grid): the spec's decoder layers
 * built anew on an input of the code's shape, with the weights of `model`'s decoder layers (found by
 * their names, dec<i>_<kind>) copied in. Fresh layers, not shared ones: a layer shared by two models
 * has several inbound nodes and outlives the model it was built for. The caller disposes it.
 */
export function buildDecoder(spec: Pick<ExperimentSpec, 'decoder' | 'seed'>, codeShape: Shape, model: tf.LayersModel): tf.LayersModel {
  const codeInput = tf.input({ shape: codeShape, name: 'code_input' });
  let y: tf.SymbolicTensor = codeInput;
  const pairs: [tf.layers.Layer, tf.layers.Layer][] = [];
  spec.decoder.forEach((layer, i) => {
    const name = `dec${i}_${layer.kind}`;
    const fresh = makeLayer(layer, 0, name);
    y = fresh.apply(y) as tf.SymbolicTensor;
    pairs.push([model.getLayer(name), fresh]);
  });
  if (y === codeInput) y = tf.layers.activation({ activation: 'linear', name: 'decoder_identity' }).apply(y) as tf.SymbolicTensor;
  const decoder = tf.model({ inputs: codeInput, outputs: y, name: 'decoder' });
  for (const [source, fresh] of pairs) {
    const weights = source.getWeights();
    if (weights.length > 0) fresh.setWeights(weights);
  }
  return decoder;
}
