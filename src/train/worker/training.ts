/**
 * The pieces of a training step that the worker loop, the analyses and the benchmark page share:
 * optimizer, loss, and float batches built from the uint8 pixels.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecodedDataset } from '../../data/decode';
import type { ExperimentSpec } from '../../model/spec';
import { FusedAdamOptimizer } from './adam';
import { fusedBce } from './bce';
import { FlatOptimizer } from './flatOptimizer';
import type { BuiltModel } from './buildModel';
import { corrupt, klTerm, l1Penalty, type VariantFields } from './variants';

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
 * The optimizer the app trains with: the stock one (Adam: ours, the same formula with one kernel
 * per variable on wasm) run on all weights as one flat vector (same updates, far fewer kernel
 * launches per step; see flatOptimizer.ts). makeOptimizer stays the plain
 * tfjs optimizer, for the model.fit yardstick of the benchmark.
 */
export function makeTrainingOptimizer(spec: Pick<ExperimentSpec, 'optimizer' | 'learningRate'>): tf.Optimizer {
  // Adam: tfjs' formula, one kernel per variable on wasm (adam.ts)
  return new FlatOptimizer(spec.optimizer === 'adam' ? new FusedAdamOptimizer(spec.learningRate) : makeOptimizer(spec));
}

/** The spec's reconstruction loss; binary cross-entropy clips the output away from 0 and 1. */
export function lossFn(spec: Pick<ExperimentSpec, 'loss'>, target: tf.Tensor, output: tf.Tensor): tf.Scalar {
  if (spec.loss === 'mse') return tf.losses.meanSquaredError(target, output) as tf.Scalar;
  if (spec.loss === 'l1') return tf.mean(tf.abs(tf.sub(target, output))) as tf.Scalar;
  const eps = 1e-7;
  // On wasm: the same function as two kernels of ours, loss and gradients (bce.ts)
  const fused = fusedBce(target, output, eps);
  if (fused != null) return fused;
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

/** What a variant's training step leaves on the device: the objective, and [reconstruction, KL] where it has other terms. */
export interface StepResult {
  loss: tf.Scalar;
  /** [reconstruction term, KL term per input value (0 where there is none)], or null for a plain objective. */
  terms: tf.Tensor1D | null;
}

export type VariantStepSpec = Pick<ExperimentSpec, 'loss'> & VariantFields;

/**
 * The objective of a variant on a batch (#16), given the outputs of BuiltModel.train: the spec's
 * reconstruction loss against the clean `target`, plus sparsity · mean|code| (sparse) or beta · KL / D (vae).
 */
export function variantObjective(spec: VariantStepSpec, target: tf.Tensor, outputs: tf.Tensor[]): { total: tf.Scalar; recon: tf.Scalar; kl: tf.Scalar | null } {
  const [recon, code, logVar] = outputs;
  const reconLoss = lossFn(spec, target, recon);
  if (spec.variant === 'sparse' && spec.sparsity > 0) {
    return { total: tf.add(reconLoss, tf.mul(spec.sparsity, l1Penalty(code))) as tf.Scalar, recon: reconLoss, kl: null };
  }
  if (spec.variant === 'vae' && logVar) {
    const inputValues = target.size / (target.shape[0] ?? 1);
    const kl = klTerm(code, logVar, inputValues);
    return { total: tf.add(reconLoss, tf.mul(spec.beta, kl)) as tf.Scalar, recon: reconLoss, kl };
  }
  return { total: reconLoss, recon: reconLoss, kl: null };
}

/**
 * One training step of a variant (#16): denoising corrupts the input (the target stays clean); the
 * others run BuiltModel.train and add their terms. A plain spec takes trainStep's path exactly.
 */
export function variantStep(optimizer: tf.Optimizer, spec: VariantStepSpec, built: BuiltModel, x: tf.Tensor): StepResult {
  if (spec.variant === 'plain') return { loss: trainStep(optimizer, spec, built.model, x), terms: null };
  if (spec.variant === 'denoising') {
    const noisy = corrupt(x, spec.corruption, spec.noise);
    try {
      return { loss: trainStep(optimizer, spec, built.model, noisy, x), terms: null };
    } finally {
      noisy.dispose();
    }
  }
  let terms: tf.Tensor1D | null = null;
  const loss = optimizer.minimize(() => {
    const outputs = built.train.apply(x, { training: true }) as tf.Tensor[];
    const { total, recon, kl } = variantObjective(spec, x, outputs);
    terms = tf.keep(tf.stack([recon, kl ?? tf.scalar(0)]) as tf.Tensor1D);
    return total;
  }, true) as tf.Scalar;
  return { loss, terms };
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
