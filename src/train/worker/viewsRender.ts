/**
 * The live views' forward pass from a copy of the weights: what the live-views helper runs. Kept apart
 * from the helper's messaging so a unit test can check it against the training model's own views.
 */
import * as tf from '@tensorflow/tfjs';
import type { BuiltModel } from './buildModel';

export interface ViewsResult {
  /** Reconstructions clipped to [0, 1], count × H × W × C. */
  pixels: Float32Array;
  /** Bottleneck codes, count × prod(codeShape). */
  codes: Float32Array;
  codeShape: number[];
}

/** Sets `weights` (model.weights order, trainable and not) on `built` and renders `display`. */
export function renderViews(built: BuiltModel, display: tf.Tensor4D, weights: readonly Float32Array[]): ViewsResult {
  const model = built.model;
  if (weights.length !== model.weights.length) throw new Error(`expected ${model.weights.length} weight arrays, got ${weights.length}`);
  return tf.tidy(() => {
    model.setWeights(weights.map((w, i) => tf.tensor(w, model.weights[i].shape as number[])));
    const [recon, code] = built.views.predict(display) as tf.Tensor[];
    return {
      pixels: tf.clipByValue(recon, 0, 1).dataSync() as Float32Array,
      codes: code.dataSync() as Float32Array,
      codeShape: code.shape.slice(1),
    };
  });
}
