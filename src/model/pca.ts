/**
 * PCA, the linear autoencoder's yardstick (#16): from the images' mean and second moments, the
 * covariance's eigendecomposition (ml-matrix's symmetric solver, Householder + QL, in float64) and the
 * top k components. A linear autoencoder with a k-value code can at best project onto their span; the
 * mean squared error of that projection on the fitted images is (sum of the left-out eigenvalues) / D.
 * Pure: no React, no tfjs (the worker computes the sums with tfjs). The baseline's error and display
 * reconstructions are measured here on the CPU (pcaError, pcaReconstructClipped: blocked loops).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { ExperimentSpec } from './spec';

export interface PcaFit {
  /** Values per image. */
  dims: number;
  /** Components kept. */
  k: number;
  mean: Float64Array;
  /** The top k unit eigenvectors, row after row (k × dims). */
  components: Float64Array;
  /** Every eigenvalue of the covariance, largest first (negative round-off clipped to 0). */
  eigenvalues: Float64Array;
}

/**
 * The covariance (population, ÷ n) from the sums over n images: Σ x and Σ x xᵀ (dims × dims, row-major).
 */
export function covarianceFromSums(sum: Float64Array, outer: Float64Array, n: number): { mean: Float64Array; cov: Float64Array } {
  const d = sum.length;
  const mean = sum.map((v) => v / n);
  const cov = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) cov[i * d + j] = outer[i * d + j] / n - mean[i] * mean[j];
  }
  return { mean, cov };
}

/** The top k principal components of a covariance (dims × dims, row-major, symmetric). */
export function pcaFromCovariance(cov: Float64Array, mean: Float64Array, k: number): PcaFit {
  const d = mean.length;
  if (cov.length !== d * d) throw new Error(`a ${d}-value mean needs a ${d}×${d} covariance`);
  const kk = Math.max(0, Math.min(k, d));
  const rows: number[][] = [];
  for (let i = 0; i < d; i++) {
    const row = new Array<number>(d);
    // Symmetrise against round-off: the solver assumes an exactly symmetric matrix.
    for (let j = 0; j < d; j++) row[j] = 0.5 * (cov[i * d + j] + cov[j * d + i]);
    rows.push(row);
  }
  const eig = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  const values = eig.realEigenvalues;
  const vectors = eig.eigenvectorMatrix;
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  const eigenvalues = Float64Array.from(order, (i) => Math.max(0, values[i]));
  const components = new Float64Array(kk * d);
  for (let c = 0; c < kk; c++) {
    const col = order[c];
    for (let j = 0; j < d; j++) components[c * d + j] = vectors.get(j, col);
  }
  return { dims: d, k: kk, mean, components, eigenvalues };
}

/** The mean squared error per value of the k-component reconstruction of the fitted data: Σ_{i ≥ k} λ_i / D. */
export function pcaTrainingMse(fit: PcaFit): number {
  let left = 0;
  for (let i = fit.k; i < fit.eigenvalues.length; i++) left += fit.eigenvalues[i];
  return left / fit.dims;
}

/** x̂ = mean + Σ_c ⟨x − mean, u_c⟩ u_c for one image (dims values). */
export function pcaReconstruct(fit: PcaFit, x: ArrayLike<number>): Float64Array {
  const { dims: d, k, mean, components } = fit;
  const out = Float64Array.from(mean);
  for (let c = 0; c < k; c++) {
    let dot = 0;
    for (let j = 0; j < d; j++) dot += (x[j] - mean[j]) * components[c * d + j];
    for (let j = 0; j < d; j++) out[j] += dot * components[c * d + j];
  }
  return out;
}

/** The reconstruction losses the PCA baseline is measured with (the spec's `loss`). */
export type PcaLossKind = ExperimentSpec['loss'];

/** The spec's loss and the MSE of a reconstruction, each a mean over every value. */
export interface PcaError {
  loss: number;
  mse: number;
}

/** BCE's clip of the reconstruction, as the worker's lossFn: p = clip(y, ε, 1 − ε). */
const BCE_EPS = 1e-7;
/** Images per block: a multiple of 4 (the kernels work on 4 images at a time). */
const BLOCK = 16;

/**
 * out[i·cols + c] = Σ_{j < len} a[i·len + j] · b[c·len + j] for i < BLOCK, c < cols: BLOCK rows of `a`
 * against `cols` rows of `b` (both `len` long), 4 × 2 results per pass (BLOCK a multiple of 4, cols even).
 */
function rowsTimesRows(a: Float64Array, len: number, b: Float64Array, cols: number, out: Float64Array): void {
  for (let i = 0; i < BLOCK; i += 4) {
    const x0 = i * len;
    const x1 = x0 + len;
    const x2 = x1 + len;
    const x3 = x2 + len;
    for (let c = 0; c < cols; c += 2) {
      const u0 = c * len;
      const u1 = u0 + len;
      let a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0, a30 = 0, a31 = 0;
      for (let j = 0; j < len; j++) {
        const w0 = b[u0 + j];
        const w1 = b[u1 + j];
        const v0 = a[x0 + j];
        const v1 = a[x1 + j];
        const v2 = a[x2 + j];
        const v3 = a[x3 + j];
        a00 += v0 * w0;
        a01 += v0 * w1;
        a10 += v1 * w0;
        a11 += v1 * w1;
        a20 += v2 * w0;
        a21 += v2 * w1;
        a30 += v3 * w0;
        a31 += v3 * w1;
      }
      const o = i * cols + c;
      out[o] = a00;
      out[o + 1] = a01;
      out[o + cols] = a10;
      out[o + cols + 1] = a11;
      out[o + 2 * cols] = a20;
      out[o + 2 * cols + 1] = a21;
      out[o + 3 * cols] = a30;
      out[o + 3 * cols + 1] = a31;
    }
  }
}

/**
 * Runs the k-component reconstruction x̂ = mean + (x − mean)·W·Wᵀ of n images (n × D values) block
 * by block and hands each block's x̂ (float64, `count` rows of `stride` values) to `onBlock`.
 * The components are copied once, laid out for sequential access: U (m × Dp, for the projection's dot
 * products over the pixels) and Uᵀ (Dp × m, for the reconstruction's dot products over the code), with
 * the loops blocked 4 images × 2 components / pixels so that each value loaded serves several products.
 * Where the fit holds all D components and k > D/2, the D − k left-out ones are cheaper: x̂ = x − r with
 * r = (x − mean)·V·Vᵀ over the left-out V (exact at k = D: x̂ = x).
 */
function reconstructBlocks(
  fit: PcaFit,
  k: number,
  images: Float32Array,
  onBlock: (first: number, count: number, recon: Float64Array, stride: number) => void,
): void {
  const d = fit.dims;
  if (!Number.isInteger(k) || k < 0 || k > d) throw new Error(`k must be an integer in 0..${d} (got ${k})`);
  if (k > fit.k) throw new Error(`the fit kept ${fit.k} components; k = ${k} needs more`);
  if (images.length % d !== 0) throw new Error(`${images.length} values are not whole images of ${d} values`);
  const n = images.length / d;
  const complement = fit.k === d && d - k < k;
  const first = complement ? k : 0;
  const m = complement ? d - k : k;
  // Padded sizes: pixels and components to even (zero rows/columns add nothing).
  const dp = d + (d & 1);
  const mp = m + (m & 1);
  const u = new Float64Array(mp * dp);
  const ut = new Float64Array(dp * mp);
  for (let c = 0; c < m; c++) {
    const src = (first + c) * d;
    for (let j = 0; j < d; j++) {
      const v = fit.components[src + j];
      u[c * dp + j] = v;
      ut[j * mp + c] = v;
    }
  }
  const mean = fit.mean;
  const xc = new Float64Array(BLOCK * dp);
  const z = new Float64Array(BLOCK * mp);
  const out = new Float64Array(BLOCK * dp);
  for (let from = 0; from < n; from += BLOCK) {
    const count = Math.min(BLOCK, n - from);
    // x − mean, rows past `count` zero (the 4-image kernels run over the whole block).
    xc.fill(0);
    for (let i = 0; i < count; i++) {
      const src = (from + i) * d;
      const dst = i * dp;
      for (let j = 0; j < d; j++) xc[dst + j] = images[src + j] - mean[j];
    }
    if (mp > 0) {
      // z = xc·U (4 images × 2 components per pass over the pixels), then out = z·Uᵀ (4 images × 2 pixels per pass over the code).
      rowsTimesRows(xc, dp, u, mp, z);
      rowsTimesRows(z, mp, ut, dp, out);
    } else {
      out.fill(0);
    }
    // x̂ = mean + out, or x − out with the left-out components.
    for (let i = 0; i < count; i++) {
      const o = i * dp;
      if (complement) {
        const src = (from + i) * d;
        for (let j = 0; j < d; j++) out[o + j] = images[src + j] - out[o + j];
      } else {
        for (let j = 0; j < d; j++) out[o + j] += mean[j];
      }
    }
    onBlock(from, count, out, dp);
  }
}

/**
 * The k-component PCA reconstruction error of n images (n × D values, row after row): the `loss`
 * (mse: mean (t − y)²; l1: mean |t − y|; bce: −mean(t·log p + (1 − t)·log(1 − p)), p = clip(y, 1e-7, 1 − 1e-7))
 * and the MSE, means over all n·D values, accumulated in float64. Fast (blocked loops, no per-image
 * allocation); `pcaReconstruct` is the slow, obvious reference.
 */
export function pcaError(fit: PcaFit, k: number, loss: PcaLossKind, images: Float32Array): PcaError {
  const d = fit.dims;
  let sq = 0;
  let other = 0;
  reconstructBlocks(fit, k, images, (from, count, recon, stride) => {
    for (let i = 0; i < count; i++) {
      const src = (from + i) * d;
      const o = i * stride;
      let s = 0;
      let a = 0;
      if (loss === 'bce') {
        for (let j = 0; j < d; j++) {
          const t = images[src + j];
          const y = recon[o + j];
          const e = t - y;
          s += e * e;
          const p = y < BCE_EPS ? BCE_EPS : y > 1 - BCE_EPS ? 1 - BCE_EPS : y;
          // t·log p + (1 − t)·log(1 − p), skipping a log whose weight is 0.
          if (t !== 0) a += t * Math.log(p);
          if (t !== 1) a += (1 - t) * Math.log(1 - p);
        }
      } else if (loss === 'l1') {
        for (let j = 0; j < d; j++) {
          const e = images[src + j] - recon[o + j];
          s += e * e;
          a += Math.abs(e);
        }
      } else {
        for (let j = 0; j < d; j++) {
          const e = images[src + j] - recon[o + j];
          s += e * e;
        }
      }
      sq += s;
      other += a;
    }
  });
  const values = images.length;
  const mse = sq / values;
  return { loss: loss === 'mse' ? mse : loss === 'l1' ? other / values : -other / values, mse };
}

/** The k-component PCA reconstructions of n images (n × D values), clipped to [0, 1]. */
export function pcaReconstructClipped(fit: PcaFit, k: number, images: Float32Array): Float32Array {
  const d = fit.dims;
  const result = new Float32Array(images.length);
  reconstructBlocks(fit, k, images, (from, count, recon, stride) => {
    for (let i = 0; i < count; i++) {
      const dst = (from + i) * d;
      const o = i * stride;
      for (let j = 0; j < d; j++) {
        const y = recon[o + j];
        result[dst + j] = y < 0 ? 0 : y > 1 ? 1 : y;
      }
    }
  });
  return result;
}
