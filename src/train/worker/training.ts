/**
 * The pieces of a training step that the worker loop, the analyses and the benchmark page share:
 * optimizer, loss, and float batches built from the uint8 pixels.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecodedDataset } from '../../data/decode';
import type { ExperimentSpec } from '../../model/spec';
import { FlatOptimizer } from './flatOptimizer';

export function makeOptimizer(spec: Pick<ExperimentSpec, 'optimizer' | 'learningRate'>): tf.Optimizer {
  switch (spec.optimizer) {
    case 'adam':
      return tf.train.adam(spec.learningRate);
    case 'sgd':
      return tf.train.momentum(spec.learningRate, 0.9);
    case 'rmsprop':
      return tf.train.rmsprop(spec.learningRate);
  }
}

/**
 * The optimizer the app trains with: the stock one run on all weights as one flat vector (same
 * updates, far fewer kernel launches per step; see flatOptimizer.ts). makeOptimizer stays the plain
 * tfjs optimizer, for the model.fit yardstick of the benchmark.
 */
export function makeTrainingOptimizer(spec: Pick<ExperimentSpec, 'optimizer' | 'learningRate'>): tf.Optimizer {
  return new FlatOptimizer(makeOptimizer(spec));
}

/** The spec's reconstruction loss; binary cross-entropy clips the output away from 0 and 1. */
export function lossFn(spec: Pick<ExperimentSpec, 'loss'>, target: tf.Tensor, output: tf.Tensor): tf.Scalar {
  if (spec.loss === 'mse') return tf.losses.meanSquaredError(target, output) as tf.Scalar;
  const eps = 1e-7;
  const p = tf.clipByValue(output, eps, 1 - eps);
  const ce = tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p))));
  return tf.neg(tf.mean(ce));
}

/**
 * One training step of `model` on the batch `x` (an autoencoder's target is its input; the gradient
 * check passes another); returns the loss, still on the device. The app's loop, Auto's race, the
 * benchmarks and the gradient check all train with this step.
 */
export function trainStep(optimizer: tf.Optimizer, spec: Pick<ExperimentSpec, 'loss'>, model: tf.LayersModel, x: tf.Tensor, target: tf.Tensor = x): tf.Scalar {
  return optimizer.minimize(() => lossFn(spec, target, model.apply(x, { training: true }) as tf.Tensor), true) as tf.Scalar;
}

/** Pixels of images indices[from..to) as floats in [0, 1] (indices wrap around). */
export function pixelsOf(data: DecodedDataset, indices: ArrayLike<number>, from = 0, to = indices.length): Float32Array {
  const size = data.height * data.width * data.channels;
  const n = to - from;
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const src = indices[(from + i) % indices.length] * size;
    const dst = i * size;
    for (let j = 0; j < size; j++) out[dst + j] = data.pixels[src + j] / 255;
  }
  return out;
}

/** A float batch [n, H, W, C] of images indices[from..to). */
export function batchTensor(data: DecodedDataset, indices: ArrayLike<number>, from: number, to: number): tf.Tensor4D {
  return tf.tensor4d(pixelsOf(data, indices, from, to), [to - from, data.height, data.width, data.channels]);
}
