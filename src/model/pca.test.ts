/** PCA against data with known components: directions, variances, and the error of the left-out eigenvalues. */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/split';
import { covarianceFromSums, pcaError, pcaFromCovariance, pcaReconstruct, pcaReconstructClipped, pcaTrainingMse, type PcaFit, type PcaLossKind } from './pca';

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

/** The loss of one target/reconstruction pair of arrays, value by value (the worker's lossFn, written out). */
function plainLoss(kind: PcaLossKind, t: ArrayLike<number>, y: ArrayLike<number>): { sum: number; sq: number } {
  let sum = 0;
  let sq = 0;
  for (let j = 0; j < t.length; j++) {
    const e = t[j] - y[j];
    sq += e * e;
    if (kind === 'mse') sum += e * e;
    else if (kind === 'l1') sum += Math.abs(e);
    else {
      const p = Math.min(1 - 1e-7, Math.max(1e-7, y[j]));
      sum -= t[j] * Math.log(p) + (1 - t[j]) * Math.log(1 - p);
    }
  }
  return { sum, sq };
}

describe('PCA error and reconstructions, fast (blocked) against the per-image reference', () => {
  // Odd sizes on purpose: the kernels pad pixels and components to even and work on 4 of 16 images at a time.
  const d = 19;
  const n = 203;
  const rand = mulberry32(11);
  // Images in [0, 1] near a 3-D subspace, clamped (so some values are exactly 0 or 1: BCE's clip matters).
  const basis = Array.from({ length: 3 }, () => Float64Array.from({ length: d }, () => rand() - 0.5));
  const images = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const a = [gauss(rand), gauss(rand), gauss(rand)];
    for (let j = 0; j < d; j++) {
      const v = 0.5 + 0.4 * (a[0] * basis[0][j] + a[1] * basis[1][j] + a[2] * basis[2][j]) + 0.05 * gauss(rand);
      images[i * d + j] = Math.min(1, Math.max(0, v));
    }
  }
  // The fit from the float32 values themselves, all d components kept (as the worker's fitPca).
  const sum = new Float64Array(d);
  const outer = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const x = images[i * d + j];
      sum[j] += x;
      for (let l = 0; l < d; l++) outer[j * d + l] += x * images[i * d + l];
    }
  }
  const { mean, cov } = covarianceFromSums(sum, outer, n);
  const fit = pcaFromCovariance(cov, mean, d);
  const row = (i: number): Float32Array => images.subarray(i * d, (i + 1) * d);
  /** The reference: pcaReconstruct image by image, then the plain loss. */
  const reference = (kind: PcaLossKind, k: number, count = n): { loss: number; mse: number } => {
    const fitK: PcaFit = { ...fit, k };
    let total = 0;
    let sq = 0;
    for (let i = 0; i < count; i++) {
      const r = plainLoss(kind, row(i), pcaReconstruct(fitK, row(i)));
      total += r.sum;
      sq += r.sq;
    }
    return { loss: total / (count * d), mse: sq / (count * d) };
  };

  it('the data has values at 0 and at 1 (BCE clipping is exercised)', () => {
    expect(images.some((v) => v === 0)).toBe(true);
    expect(images.some((v) => v === 1)).toBe(true);
  });

  it('pcaError equals the reference for each loss and k (the kept and the left-out paths), and for a few images', () => {
    for (const kind of ['mse', 'l1', 'bce'] as const) {
      for (const k of [0, 1, 2, 3, 5, 9, 10, 11, 16, 18, 19]) {
        for (const count of [n, 5, 1]) {
          const got = pcaError(fit, k, kind, images.subarray(0, count * d));
          const want = reference(kind, k, count);
          expect(Math.abs(got.loss - want.loss)).toBeLessThan(1e-10 * Math.max(1, Math.abs(want.loss)));
          expect(Math.abs(got.mse - want.mse)).toBeLessThan(1e-12);
        }
      }
    }
  });

  it('pcaReconstructClipped equals the reference reconstructions clipped to [0, 1]', () => {
    for (const k of [0, 2, 3, 10, 17, 19]) {
      const got = pcaReconstructClipped(fit, k, images.subarray(0, 21 * d));
      expect(got.length).toBe(21 * d);
      for (let i = 0; i < 21; i++) {
        const want = pcaReconstruct({ ...fit, k }, row(i));
        for (let j = 0; j < d; j++) expect(got[i * d + j]).toBeCloseTo(Math.min(1, Math.max(0, want[j])), 6);
      }
    }
  });

  it('k = 0 is the mean; k = D reconstructs exactly', () => {
    const zero = pcaReconstructClipped(fit, 0, images.subarray(0, 3 * d));
    for (let i = 0; i < 3; i++) for (let j = 0; j < d; j++) expect(zero[i * d + j]).toBeCloseTo(mean[j], 6);
    // With the mean alone, the MSE is the total variance / D (every eigenvalue left out).
    expect(pcaError(fit, 0, 'mse', images).mse).toBeCloseTo(pcaTrainingMse({ ...fit, k: 0 }), 12);
    const full = pcaError(fit, d, 'l1', images);
    expect(full.mse).toBeLessThan(1e-24);
    expect(full.loss).toBeLessThan(1e-12);
    expect(Array.from(pcaReconstructClipped(fit, d, images))).toEqual(Array.from(images));
  });

  it('on the fitted data the MSE is the left-out eigenvalues / D, for each k', () => {
    for (let k = 0; k <= d; k++) expect(pcaError(fit, k, 'bce', images).mse).toBeCloseTo(pcaTrainingMse({ ...fit, k }), 12);
  });

  it('BCE clips the reconstruction to [1e-7, 1 − 1e-7], by hand', () => {
    // k = 0: the reconstruction is the mean, here outside [0, 1] and exactly at 0 and 1.
    const hand: PcaFit = { dims: 4, k: 0, mean: Float64Array.of(1.5, -0.5, 1, 0), components: new Float64Array(0), eigenvalues: new Float64Array(4) };
    const eps = 1e-7;
    // Targets equal to the clipped side: each value costs −log(1 − ε).
    const right = pcaError(hand, 0, 'bce', Float32Array.of(1, 0, 1, 0));
    expect(right.loss).toBeCloseTo(-Math.log(1 - eps), 15);
    expect(right.mse).toBeCloseTo((0.25 + 0.25 + 0 + 0) / 4, 15);
    // Targets on the other side: each value costs −log ε ≈ 16.12, not infinity.
    const wrong = pcaError(hand, 0, 'bce', Float32Array.of(0, 1, 0, 1));
    expect(wrong.loss).toBeCloseTo(-Math.log(eps), 9);
    // A fractional target weighs both logs: t = 0.25 against y = 1.5 (p = 1 − ε) and y = 1 (p = 1 − ε).
    const frac = pcaError(hand, 0, 'bce', Float32Array.of(0.25, 0.25, 0.25, 0.25));
    const pHi = 1 - eps;
    const want = -(2 * (0.25 * Math.log(pHi) + 0.75 * Math.log(1 - pHi)) + 2 * (0.25 * Math.log(eps) + 0.75 * Math.log(1 - eps))) / 4;
    expect(frac.loss).toBeCloseTo(want, 9);
    expect(pcaReconstructClipped(hand, 0, Float32Array.of(0, 0, 0, 0))).toEqual(Float32Array.of(1, 0, 1, 0));
  });

  it('refuses a k it has no components for, and a partial image', () => {
    expect(() => pcaError({ ...fit, k: 3 }, 4, 'mse', images)).toThrow(/kept 3 components/);
    expect(() => pcaError(fit, d + 1, 'mse', images)).toThrow(/k must be/);
    expect(() => pcaError(fit, 2, 'mse', images.subarray(0, d + 1))).toThrow(/whole images/);
  });
});
