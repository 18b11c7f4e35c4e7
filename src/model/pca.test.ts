/** PCA against data with known components: directions, variances, and the error of the left-out eigenvalues. */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/split';
import { covarianceFromSums, pcaFromCovariance, pcaReconstruct, pcaTrainingMse } from './pca';

/** Gaussian from two uniforms (Box–Muller). */
function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

describe('PCA', () => {
  const d = 12;
  const n = 20000;
  const rand = mulberry32(7);
  // Three orthonormal directions (rotations of unit vectors) with standard deviations 3, 2, 1, plus small isotropic noise.
  const dirs = [new Float64Array(d), new Float64Array(d), new Float64Array(d)];
  dirs[0][0] = dirs[0][1] = Math.SQRT1_2;
  dirs[1][0] = Math.SQRT1_2;
  dirs[1][1] = -Math.SQRT1_2;
  dirs[2][5] = 1;
  const sds = [3, 2, 1];
  const noise = 0.05;
  const mean0 = Float64Array.from({ length: d }, (_, j) => j / 10);
  const data: Float64Array[] = [];
  const sum = new Float64Array(d);
  const outer = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const x = Float64Array.from(mean0);
    for (let c = 0; c < 3; c++) {
      const a = sds[c] * gauss(rand);
      for (let j = 0; j < d; j++) x[j] += a * dirs[c][j];
    }
    for (let j = 0; j < d; j++) x[j] += noise * gauss(rand);
    data.push(x);
    for (let j = 0; j < d; j++) {
      sum[j] += x[j];
      for (let l = 0; l < d; l++) outer[j * d + l] += x[j] * x[l];
    }
  }
  const { mean, cov } = covarianceFromSums(sum, outer, n);

  it('recovers the known directions and variances, largest first', () => {
    const fit = pcaFromCovariance(cov, mean, 3);
    for (let c = 0; c < 3; c++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += fit.components[c * d + j] * dirs[c][j];
      expect(Math.abs(dot)).toBeGreaterThan(0.999);
      expect(fit.eigenvalues[c]).toBeGreaterThan(sds[c] ** 2 * 0.95);
      expect(fit.eigenvalues[c]).toBeLessThan(sds[c] ** 2 * 1.05 + noise ** 2);
    }
    // The rest is the isotropic noise: variance 0.0025 each.
    for (let c = 3; c < d; c++) expect(fit.eigenvalues[c]).toBeCloseTo(noise ** 2, 3);
    for (let j = 0; j < d; j++) expect(mean[j]).toBeCloseTo(mean0[j], 1);
  });

  it('the reconstruction error on the fitted data equals the left-out eigenvalues / D, for each k', () => {
    for (const k of [1, 2, 3, 6]) {
      const fit = pcaFromCovariance(cov, mean, k);
      let err = 0;
      for (const x of data) {
        const y = pcaReconstruct(fit, x);
        for (let j = 0; j < d; j++) err += (x[j] - y[j]) ** 2;
      }
      err /= n * d;
      expect(err).toBeCloseTo(pcaTrainingMse(fit), 6);
      // By hand for k = 2: the third direction's variance (≈ 1) and the noise in the other 9 dimensions.
      if (k === 2) expect(err).toBeCloseTo((1 + 10 * noise ** 2) / d, 2);
    }
  });

  it('k ≥ D keeps everything: error 0', () => {
    const fit = pcaFromCovariance(cov, mean, 50);
    expect(fit.k).toBe(d);
    expect(pcaTrainingMse(fit)).toBe(0);
    const y = pcaReconstruct(fit, data[0]);
    for (let j = 0; j < d; j++) expect(y[j]).toBeCloseTo(data[0][j], 9);
  });
});
