/**
 * The autoencoder family's analyses in the worker (#16): the PCA baseline of a run (its test error is
 * the loss chart's reference line), Generate (prior samples through the decoder, and the manifold of a
 * 2-value code), and the cumulative reconstruction error per code unit (the rank curve).
 * Worker-side only (imports tfjs); the linear algebra of PCA, and the measuring of its baseline, is src/model/pca.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecodedDataset } from '../../data/decode';
import { pcaError, pcaFromCovariance, pcaReconstructClipped, covarianceFromSums, type PcaError, type PcaFit } from '../../model/pca';
import type { ExperimentSpec, Shape } from '../../model/spec';
import { buildDecoder, type BuiltModel } from './buildModel';
import { batchTensor, lossFn, pixelsOf } from './training';

/** PCA fits on at most this many training images (the covariance of 784 values is well estimated by then). */
export const PCA_MAX_IMAGES = 10_000;
/** Most values per image for the PCA baseline: the full d×d eigendecomposition takes ~2.4 s at 784 in Node, growing as d³ (~5 s at 1,024; RGB 32×32 would be ~150 s). */
export const PCA_MAX_DIM = 1024;
/** Test images the PCA error and the rank curve are measured on. */
const EVAL_IMAGES = 2000;
const RANK_IMAGES = 500;
/** Codes larger than this get the rank curve at evenly spaced r only. */
const RANK_MAX_POINTS = 64;

export interface PcaBaseline {
  k: number;
  testLoss: number;
  trainLoss: number;
  testMse: number;
  eigenvalues: Float32Array;
  /** The display images' PCA reconstructions, clipped to [0, 1]. */
  pixels: Float32Array;
  count: number;
}

type Guard = <T>(p: Promise<T>) => Promise<T>;

/**
 * The covariance of up to PCA_MAX_IMAGES training images (sums on the backend, in batches, read back
 * to float64) and its eigendecomposition (all components: any k is then a slice of it).
 */
export async function fitPca(data: DecodedDataset, trainIdx: Uint32Array, guard: Guard, yieldToEvents: () => Promise<void>): Promise<PcaFit> {
  const n = Math.min(trainIdx.length, PCA_MAX_IMAGES);
  const d = data.height * data.width * data.channels;
  if (d > PCA_MAX_DIM) {
    throw new Error(`images of ${d.toLocaleString('en-US')} values are too large for the in-browser eigendecomposition (at most ${PCA_MAX_DIM.toLocaleString('en-US')}: 32×32 grey)`);
  }
  const sum = new Float64Array(d);
  const outer = new Float64Array(d * d);
  const batch = 500;
  for (let from = 0; from < n; from += batch) {
    const to = Math.min(n, from + batch);
    const [s, o] = tf.tidy(() => {
      const x = tf.reshape(batchTensor(data, trainIdx, from, to), [to - from, d]);
      return [tf.sum(x, 0), tf.matMul(x, x, true, false)];
    });
    try {
      const [sv, ov] = await guard(Promise.all([s.data(), o.data()]));
      for (let j = 0; j < d; j++) sum[j] += sv[j];
      for (let j = 0; j < d * d; j++) outer[j] += ov[j];
    } finally {
      s.dispose();
      o.dispose();
    }
    await yieldToEvents();
  }
  const { mean, cov } = covarianceFromSums(sum, outer, n);
  return pcaFromCovariance(cov, mean, d);
}

/**
 * The PCA baseline with k components, measured like the autoencoder: the spec's loss (and the MSE) on up
 * to EVAL_IMAGES test and training images, and the display images' reconstructions. On the CPU
 * (pcaError / pcaReconstructClipped, blocked float64 loops: ~0.6 s at D = 784, k = 196 in Node), not on
 * the backend: a software WebGPU took ~13 s for the same matMuls, before every run's training.
 */
export async function pcaBaseline(
  fit: PcaFit,
  k: number,
  spec: Pick<ExperimentSpec, 'loss'>,
  data: DecodedDataset,
  sets: { trainIdx: Uint32Array; testIdx: Uint32Array; displayIdx: Uint32Array },
): Promise<PcaBaseline> {
  const d = fit.dims;
  const kk = Math.max(0, Math.min(k, d));
  const measure = (indices: Uint32Array): PcaError => pcaError(fit, kk, spec.loss, pixelsOf(data, indices, 0, Math.min(indices.length, EVAL_IMAGES)));
  const test = measure(sets.testIdx);
  const train = measure(sets.trainIdx);
  const count = sets.displayIdx.length;
  const pixels = pcaReconstructClipped(fit, kk, pixelsOf(data, sets.displayIdx));
  return { k: kk, testLoss: test.loss, trainLoss: train.loss, testMse: test.mse, eigenvalues: Float32Array.from(fit.eigenvalues.subarray(0, Math.min(64, d))), pixels, count };
}

/** The normal quantile Φ⁻¹(p) (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const dd = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((dd[0] * q + dd[1]) * q + dd[2]) * q + dd[3]) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** The codes of the manifold grid of a 2-value code: side × side points at the normal quantiles (row: 2nd value, top = largest). */
export function manifoldCodes(side: number): Float32Array {
  const q = Array.from({ length: side }, (_, i) => normalQuantile((i + 0.5) / side));
  const out = new Float32Array(side * side * 2);
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      out[(row * side + col) * 2] = q[col];
      out[(row * side + col) * 2 + 1] = q[side - 1 - row];
    }
  }
  return out;
}

export interface Generated {
  count: number;
  pixels: Float32Array;
  manifold: { side: number; pixels: Float32Array } | null;
}

export const MANIFOLD_SIDE = 10;

/** `count` codes from N(0, I) (seeded) through a fresh decoder with the model's weights; a 2-value code also gets the manifold. */
export async function generate(
  spec: Pick<ExperimentSpec, 'decoder' | 'seed'>,
  codeShape: Shape,
  model: tf.LayersModel,
  count: number,
  seed: number,
  guard: Guard,
): Promise<Generated> {
  const decoder = buildDecoder(spec, codeShape, model);
  try {
    const samples = tf.tidy(() => tf.clipByValue(decoder.predict(tf.randomNormal([count, ...codeShape], 0, 1, 'float32', seed)) as tf.Tensor, 0, 1));
    const values = codeShape.reduce((a, b) => a * b, 1);
    const grid =
      values === 2
        ? tf.tidy(() => tf.clipByValue(decoder.predict(tf.tensor(manifoldCodes(MANIFOLD_SIDE), [MANIFOLD_SIDE * MANIFOLD_SIDE, ...codeShape])) as tf.Tensor, 0, 1))
        : null;
    try {
      const pixels = (await guard(samples.data())) as Float32Array;
      const manifold = grid ? { side: MANIFOLD_SIDE, pixels: (await guard(grid.data())) as Float32Array } : null;
      return { count, pixels, manifold };
    } finally {
      samples.dispose();
      grid?.dispose();
    }
  } finally {
    decoder.dispose();
  }
}

/** The r values the rank curve measures for a k-value code: all of 1..k, or up to RANK_MAX_POINTS evenly spaced. */
export function rankPoints(k: number): number[] {
  if (k <= RANK_MAX_POINTS) return Array.from({ length: k }, (_, i) => i + 1);
  return Array.from({ length: RANK_MAX_POINTS }, (_, i) => Math.round(1 + (i * (k - 1)) / (RANK_MAX_POINTS - 1)));
}

/**
 * The cumulative reconstruction error per code unit: for each r, the spec's loss on up to RANK_IMAGES
 * test images when each keeps only its r largest code values by magnitude (the rest 0) before the decoder.
 */
export async function rankCurve(
  spec: ExperimentSpec,
  built: Pick<BuiltModel, 'model' | 'encoder'>,
  data: DecodedDataset,
  testIdx: Uint32Array,
  guard: Guard,
  yieldToEvents: () => Promise<void>,
): Promise<{ ranks: number[]; errors: Float32Array }> {
  const n = Math.min(testIdx.length, RANK_IMAGES);
  const x = batchTensor(data, testIdx, 0, n);
  const code = built.encoder.predict(x) as tf.Tensor;
  const codeShape = code.shape.slice(1) as number[];
  const k = codeShape.reduce((a, b) => a * b, 1);
  const decoder = buildDecoder(spec, codeShape, built.model);
  const ranks = rankPoints(k);
  const losses: tf.Scalar[] = [];
  try {
    // "Largest" by magnitude, so a signed code is ranked too (a rank-ordered code is ≥ 0 anyway).
    const sorted = tf.tidy(() => tf.topk(tf.abs(tf.reshape(code, [n, k])), k).values);
    for (const r of ranks) {
      losses.push(
        tf.tidy(() => {
          const flat = tf.reshape(code, [n, k]);
          const threshold = tf.slice(sorted, [0, r - 1], [n, 1]);
          const kept = tf.reshape(tf.mul(flat, tf.cast(tf.greaterEqual(tf.abs(flat), threshold), 'float32')), [n, ...codeShape]);
          return lossFn(spec, x, decoder.predict(kept) as tf.Tensor);
        }),
      );
      if (losses.length % 8 === 0) await yieldToEvents();
    }
    sorted.dispose();
    const stacked = tf.stack(losses);
    try {
      return { ranks, errors: Float32Array.from(await guard(stacked.data())) };
    } finally {
      stacked.dispose();
    }
  } finally {
    losses.forEach((l) => l.dispose());
    x.dispose();
    code.dispose();
    decoder.dispose();
  }
}
