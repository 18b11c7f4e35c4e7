/**
 * PCA, the linear autoencoder's yardstick (#16): from the images' mean and second moments, the
 * covariance's eigendecomposition (ml-matrix's symmetric solver, Householder + QL, in float64) and the
 * top k components. A linear autoencoder with a k-value code can at best project onto their span; the
 * mean squared error of that projection on the fitted images is (sum of the left-out eigenvalues) / D.
 * Pure: no React, no tfjs (the worker computes the sums with tfjs and the reconstructions).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

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
