/**
 * Batch normalization with one fused gradient for the whole training path.
 *
 * tfjs-layers' BatchNormalization computes the batch statistics with tf.moments and then calls
 * tf.batchNorm(x, mean, variance, β, γ). Taped op by op, its backward pass runs the gradient of every
 * piece: batchNorm's own (with respect to x, mean and variance), then Mean's twice (each fills a
 * full-size tensor of ones in JavaScript and multiplies), Square's, Sub's, the Cast's copy, and two
 * full-size additions where the three paths meet at x — about a dozen full-size passes and two
 * JavaScript fills per layer (on wasm, 23 ms of a 344 ms step of the 64-kernel preset went to the
 * fills alone).
 *
 * Here the forward pass runs the same kernels, but under one tf.customGrad whose gradient is the
 * closed form (N = batch × pixels, σ = √(var + ε), x̂ = (x − mean)/σ, sums over all axes but the last):
 *   dβ = Σ dy,   dγ = Σ dy·x̂,   dx = γ/σ · (dy − x̂·dγ/N − dβ/N)
 * — five full-size passes and two sums: x̂ (a batchNorm kernel), dy·x̂, x̂·dγ/N, dy − that, and
 * a batchNorm kernel for the rest ((u − dβ/N)·γ/σ is batchNorm(u, dβ/N, var, γ)).
 *
 * The layer is otherwise tfjs-layers' own: same weights in the same order (gamma, beta, moving_mean,
 * moving_variance), the same initialisers, ε = 1e-3, momentum 0.99, inference with the moving
 * statistics, and the same moving-average update with the (biased) batch variance.
 *
 * Worker-side only (imports tfjs).
 */
import * as tf from '@tensorflow/tfjs';

type LayerVariable = ReturnType<tf.layers.Layer['addWeight']>;
type Kwargs = Record<string, unknown>;

export interface TrainingBatchNormArgs {
  name?: string;
  momentum?: number;
  epsilon?: number;
}

/** Mean and (biased) variance over all axes but the last, and the normalized output, with the fused gradient. */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const n = x.size / x.shape[x.rank - 1];
  // The statistics for the moving averages, taken out of the customGrad (its outputs are the y only).
  let stats: { mean: tf.Tensor1D; variance: tf.Tensor1D } | null = null;
  const fused = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, g, b, save] = args;
    if (!(xIn instanceof tf.Tensor) || !(g instanceof tf.Tensor) || !(b instanceof tf.Tensor) || typeof save !== 'function') {
      throw new Error('batchNormTraining: expected (x, gamma, beta, save)');
    }
    const mean = tf.mean(xIn, axes) as tf.Tensor1D;
    const variance = tf.mean(tf.squaredDifference(xIn, mean), axes) as tf.Tensor1D;
    stats = { mean: tf.keep(mean), variance: tf.keep(variance) };
    save([xIn, mean, variance, g]);
    return {
      value: tf.batchNorm(xIn, mean, variance, b as tf.Tensor1D, g as tf.Tensor1D, epsilon),
      gradFunc: (dyIn: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const dy = Array.isArray(dyIn) ? dyIn[0] : dyIn;
        const [xs, m, v, gs] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const xHat = tf.batchNorm(xs, m, v, undefined, undefined, epsilon);
        const dBeta = tf.sum(dy, axes) as tf.Tensor1D;
        const dGamma = tf.sum(tf.mul(dy, xHat), axes) as tf.Tensor1D;
        const u = tf.sub(dy, tf.mul(xHat, tf.div(dGamma, n)));
        const dx = tf.batchNorm(u, tf.div(dBeta, n) as tf.Tensor1D, v, undefined, gs, epsilon);
        return [dx, dGamma, dBeta];
      },
    };
  });
  const y = fused(x, gamma, beta);
  if (stats == null) throw new Error('batchNormTraining: the statistics were not computed');
  const { mean, variance } = stats;
  return { y, mean, variance };
}

export class TrainingBatchNorm extends tf.layers.Layer {
  static className = 'TrainingBatchNorm';
  private readonly momentum: number;
  private readonly epsilon: number;
  private gamma: LayerVariable | null = null;
  private beta: LayerVariable | null = null;
  private movingMean: LayerVariable | null = null;
  private movingVariance: LayerVariable | null = null;

  constructor(args: TrainingBatchNormArgs = {}) {
    super({ name: args.name });
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null) throw new Error(`${this.name}: the last axis needs a known size`);
    this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones(), undefined, true);
    this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros(), undefined, true);
    this.movingMean = this.addWeight('moving_mean', [channels], 'float32', tf.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [channels], 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const { gamma, beta, movingMean, movingVariance } = this;
      if (gamma == null || beta == null || movingMean == null || movingVariance == null) {
        throw new Error(`${this.name}: called before build`);
      }
      const g = gamma.read() as tf.Tensor1D;
      const b = beta.read() as tf.Tensor1D;
      if (kwargs.training !== true) {
        return tf.batchNorm(x, movingMean.read() as tf.Tensor1D, movingVariance.read() as tf.Tensor1D, b, g, this.epsilon);
      }
      const { y, mean, variance } = batchNormTraining(x, g, b, this.epsilon);
      const decay = 1 - this.momentum;
      for (const [variable, value] of [
        [movingMean, mean],
        [movingVariance, variance],
      ] as const) {
        tf.tidy(() => {
          const old = variable.read();
          variable.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
        });
        value.dispose();
      }
      return y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(TrainingBatchNorm);
