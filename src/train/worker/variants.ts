/**
 * The autoencoder family's pieces (#16), as small tfjs functions and three custom layers:
 * - corrupt: the denoising autoencoder's input corruption (the target stays clean);
 * - klTerm: the VAE's KL divergence from N(0, I), per input value;
 * - l1Penalty: the sparse autoencoder's penalty on the code;
 * - VaeSample (`vae_sample`): the reparameterization trick, mu + exp(logvar / 2) · eps while training;
 * - TRelu (`code_trelu`): the rank-ordered code's clipped activation min(1, max(0, x)), with the notes'
 *   derivative: the gradient passes inside [0, 1], and outside only where it pushes x back inside;
 * - RankMask (`code_rank`): while training, each example keeps only its r largest code values, r drawn
 *   uniformly from 1..k per example and step (an unbiased estimate of the mean over r of the error with
 *   the top r units kept: the notes' cumulative error per unit).
 * Worker-side only (imports tfjs).
 */
import * as tf from '@tensorflow/tfjs';
import type { CorruptionId, ExperimentSpec } from '../../model/spec';

/** The variant fields of the spec. */
export type VariantFields = Pick<ExperimentSpec, 'variant' | 'corruption' | 'noise' | 'sparsity' | 'codeDropout' | 'codeNoise' | 'beta'>;

/**
 * The corrupted input of a denoising autoencoder: Gaussian noise of sigma `amount` (clipped back to
 * [0, 1], so a corrupted image is still an image), salt and pepper (a share `amount` of the values set
 * to 1 or 0, half each), or masking (a share `amount` set to 0). `seed` fixes the draw (evaluation and
 * the views); without it every call draws anew (training).
 */
export function corrupt(x: tf.Tensor, kind: CorruptionId, amount: number, seed?: number): tf.Tensor {
  return tf.tidy(() => {
    if (amount <= 0) return x.clone();
    switch (kind) {
      case 'gaussian':
        return tf.clipByValue(tf.add(x, tf.randomNormal(x.shape, 0, amount, 'float32', seed)), 0, 1);
      case 'saltPepper': {
        const u = tf.randomUniform(x.shape, 0, 1, 'float32', seed);
        // u < amount/2: salt (1); amount/2 ≤ u < amount: pepper (0); else the pixel as it was.
        return tf.where(tf.less(u, amount), tf.cast(tf.less(u, amount / 2), 'float32'), x);
      }
      case 'mask': {
        const u = tf.randomUniform(x.shape, 0, 1, 'float32', seed);
        return tf.where(tf.less(u, amount), tf.zerosLike(x), x);
      }
    }
  });
}

/** KL(N(mu, e^logvar) ‖ N(0, I)) of each example: −½ Σ (1 + logvar − mu² − e^logvar) over its values. */
export function klPerExample(mu: tf.Tensor, logVar: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const terms = tf.sub(tf.sub(tf.add(1, logVar), tf.square(mu)), tf.exp(logVar));
    const axes = Array.from({ length: mu.rank - 1 }, (_, i) => i + 1);
    return tf.mul(-0.5, tf.sum(terms, axes)) as tf.Tensor1D;
  });
}

/** The KL term as the loss adds it (before beta): the batch mean of the KL, per input value (÷ D). */
export function klTerm(mu: tf.Tensor, logVar: tf.Tensor, inputValues: number): tf.Scalar {
  return tf.tidy(() => tf.div(tf.mean(klPerExample(mu, logVar)), inputValues) as tf.Scalar);
}

/** The sparse autoencoder's L1 penalty (before its weight): the mean |code| value. */
export function l1Penalty(code: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(code)) as tf.Scalar);
}

/** mu + exp(logvar / 2) · eps: the reparameterization trick (eps given, for tests and the gradient check). */
export function reparameterize(mu: tf.Tensor, logVar: tf.Tensor, eps: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logVar)), eps)));
}

/** The TReLU min(1, max(0, x)) with the notes' derivative (see the file's comment). */
export const trelu: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  save([x]);
  return {
    value: tf.clipByValue(x, 0, 1),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [input] = saved;
      // Inside [0, 1]: the identity's gradient. Above 1 only a gradient that lowers x (dy > 0: the
      // optimizer subtracts it), below 0 only one that raises it; elsewhere saturated (0).
      const inside = tf.logicalAnd(tf.greaterEqual(input, 0), tf.lessEqual(input, 1));
      const down = tf.logicalAnd(tf.greater(input, 1), tf.greater(dy, 0));
      const up = tf.logicalAnd(tf.less(input, 0), tf.less(dy, 0));
      const pass = tf.logicalOr(inside, tf.logicalOr(down, up));
      return tf.where(pass, dy, tf.zerosLike(dy));
    },
  };
});

/**
 * Keeps each example's r[i] largest values of `code` (the rest set to 0); r holds one count in 1..k per
 * example. The gradient flows to the kept values only.
 */
export function topRMask(code: tf.Tensor, r: tf.Tensor1D): tf.Tensor {
  // One custom op: the ranking inside it is not recorded on the gradient tape (tfjs has no gradient for topk).
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor;
    const counts = args[1] as tf.Tensor;
    const save = args[2] as tf.GradSaveFunc;
    const keep = tf.tidy(() => {
      const batch = x.shape[0] ?? 1;
      const flat = tf.reshape(x, [batch, -1]);
      const k = flat.shape[1] ?? 1;
      const sorted = tf.topk(flat, k).values;
      const index = tf.sub(tf.cast(counts, 'int32'), tf.scalar(1, 'int32')) as tf.Tensor1D;
      const threshold = tf.sum(tf.mul(sorted, tf.oneHot(index, k)), 1, true);
      return tf.reshape(tf.cast(tf.greaterEqual(flat, threshold), 'float32'), x.shape);
    });
    save([keep]);
    return {
      value: tf.mul(x, keep),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, saved[0]), tf.zerosLike(counts)],
    };
  });
  return op(code, r);
}

type Kwargs = { training?: boolean } & Record<string, unknown>;

function one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? inputs[0] : inputs;
}

/** `vae_sample`: [mu, logvar] → a sample while training, mu otherwise. */
export class VaeSample extends tf.layers.Layer {
  static className = 'VaeSample';
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return Array.isArray(inputShape[0]) ? (inputShape[0] as tf.Shape) : (inputShape as tf.Shape);
  }
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const [mu, logVar] = inputs as tf.Tensor[];
    if (!kwargs.training) return tf.clone(mu);
    return tf.tidy(() => reparameterize(mu, logVar, tf.randomNormal(mu.shape)));
  }
}

/** `code_trelu`: the rank-ordered code, clipped to [0, 1] with the notes' derivative. */
export class TRelu extends tf.layers.Layer {
  static className = 'TRelu';
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return trelu(one(inputs));
  }
}

/** `code_rank`: while training, each example keeps its r largest code values, r uniform in 1..k. */
export class RankMask extends tf.layers.Layer {
  static className = 'RankMask';
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const code = one(inputs);
    if (!kwargs.training) return tf.clone(code);
    const batch = code.shape[0] ?? 1;
    const k = code.size / batch;
    const r = tf.tidy(() => tf.add(tf.floor(tf.mul(tf.randomUniform([batch]), k)), 1) as tf.Tensor1D);
    const out = topRMask(code, r);
    r.dispose();
    return out;
  }
}

tf.serialization.registerClass(VaeSample);
tf.serialization.registerClass(TRelu);
tf.serialization.registerClass(RankMask);
