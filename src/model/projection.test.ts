import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/split';
import { normalizePoints, pca2d, umap2d } from './projection';

/** A standard normal from a uniform source (Box–Muller). */
function gauss(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function unit(v: number[]): number[] {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/**
 * n codes in d dims: offset + a_i·u + b_i·v + tiny noise, where the samples a and b are made exactly
 * centred and uncorrelated with std 5 and 1 (so the sample's principal axes are u and v, not just
 * the population's).
 */
function twoAxisData(n: number, d: number, u: number[], v: number[], seed: number): Float32Array {
  const rand = mulberry32(seed);
  const centre = (x: number[]): number[] => {
    const m = x.reduce((s, y) => s + y, 0) / x.length;
    return x.map((y) => y - m);
  };
  const withStd = (x: number[], std: number): number[] => {
    const sd = Math.sqrt(x.reduce((s, y) => s + y * y, 0) / x.length);
    return x.map((y) => (y / sd) * std);
  };
  const a = withStd(centre(Array.from({ length: n }, () => gauss(rand))), 5);
  const rawB = centre(Array.from({ length: n }, () => gauss(rand)));
  const ab = rawB.reduce((s, y, i) => s + y * a[i], 0) / a.reduce((s, y) => s + y * y, 0);
  const b = withStd(rawB.map((y, i) => y - ab * a[i]), 1);
  const codes = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) codes[i * d + j] = 3 + j * 0.1 + a[i] * u[j] + b[i] * v[j] + gauss(rand) * 1e-4;
  }
  return codes;
}

/** The direction a projection axis came from: e = X_cᵀ p / ‖p‖² (exact for a covariance eigenvector). */
function recoveredDirection(codes: Float32Array, n: number, d: number, points: Float32Array, axis: 0 | 1): number[] {
  const mean = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += codes[i * d + j] / n;
  const e = new Array<number>(d).fill(0);
  let pp = 0;
  for (let i = 0; i < n; i++) {
    const p = points[i * 2 + axis];
    pp += p * p;
    for (let j = 0; j < d; j++) e[j] += (codes[i * d + j] - mean[j]) * p;
  }
  return e.map((x) => x / pp);
}

function expectSameUpToSign(got: number[], want: number[], tol: number): void {
  const sign = got.reduce((s, x, j) => s + x * want[j], 0) >= 0 ? 1 : -1;
  for (let j = 0; j < want.length; j++) expect(Math.abs(sign * got[j] - want[j])).toBeLessThan(tol);
}

function orthonormalPair(d: number, seed: number): [number[], number[]] {
  const rand = mulberry32(seed);
  const u = unit(Array.from({ length: d }, () => gauss(rand)));
  const raw = Array.from({ length: d }, () => gauss(rand));
  const dot = raw.reduce((s, x, j) => s + x * u[j], 0);
  const v = unit(raw.map((x, j) => x - dot * u[j]));
  return [u, v];
}

describe('pca2d', () => {
  it.each([
    ['covariance route', 10, 2000],
    ['Lanczos route', 400, 600],
  ])('recovers known principal axes (%s, d=%i)', (_route, d, n) => {
    const [u, v] = orthonormalPair(d, 7);
    const codes = twoAxisData(n, d, u, v, 11);
    const { points, explained } = pca2d(codes, n, d);
    expect(points.length).toBe(n * 2);
    expectSameUpToSign(recoveredDirection(codes, n, d, points, 0), u, 1e-3);
    expectSameUpToSign(recoveredDirection(codes, n, d, points, 1), v, 1e-3);
    expect(Math.abs(explained[0] - 25 / 26)).toBeLessThan(0.02);
    expect(Math.abs(explained[1] - 1 / 26)).toBeLessThan(0.02);
    // Projections are centred.
    let mx = 0;
    let my = 0;
    for (let i = 0; i < n; i++) {
      mx += points[i * 2] / n;
      my += points[i * 2 + 1] / n;
    }
    expect(Math.abs(mx)).toBeLessThan(1e-3);
    expect(Math.abs(my)).toBeLessThan(1e-3);
  });

  it('signs each direction so its largest-|value| entry is positive, deterministically', () => {
    const d = 10;
    const n = 500;
    const [u, v] = orthonormalPair(d, 3);
    const codes = twoAxisData(n, d, u, v, 5);
    const neg = codes.map((x) => -x);
    const a = pca2d(codes, n, d);
    const b = pca2d(codes, n, d);
    expect(Array.from(b.points)).toEqual(Array.from(a.points));
    // Negating the data flips nothing in the directions' sign convention: the points negate.
    const c = pca2d(neg, n, d);
    for (let i = 0; i < n * 2; i++) expect(c.points[i]).toBeCloseTo(-a.points[i], 3);
    for (const axis of [0, 1] as const) {
      const e = recoveredDirection(codes, n, d, a.points, axis);
      const big = e.reduce((best, x, j) => (Math.abs(x) > Math.abs(e[best]) ? j : best), 0);
      expect(e[big]).toBeGreaterThan(0);
    }
  });

  it('returns 2-value codes unchanged, with the variance share of each axis', () => {
    const codes = new Float32Array([1, 10, 3, 10, 5, 11, 7, 9]);
    const { points, explained } = pca2d(codes, 4, 2);
    expect(Array.from(points)).toEqual(Array.from(codes));
    // var x = 5, var y = 0.5.
    expect(explained[0]).toBeCloseTo(5 / 5.5, 6);
    expect(explained[1]).toBeCloseTo(0.5 / 5.5, 6);
  });

  it('draws 1-value codes on the x axis', () => {
    const { points, explained } = pca2d(new Float32Array([1, 2, 6]), 3, 1);
    expect(Array.from(points)).toEqual([-2, 0, -1, 0, 3, 0]);
    expect(explained).toEqual([1, 0]);
  });

  it('copes with constant codes and a single code', () => {
    const same = pca2d(new Float32Array(5 * 4).fill(2), 5, 4);
    expect(Array.from(same.points).every((x) => x === 0)).toBe(true);
    expect(same.explained).toEqual([0, 0]);
    const one = pca2d(new Float32Array([1, 2, 3]), 1, 3);
    expect(Array.from(one.points)).toEqual([0, 0]);
  });
});

function clusters(perCluster: number, d: number, seed: number): { codes: Float32Array; labels: number[] } {
  const rand = mulberry32(seed);
  const centres = [0, 1, 2].map(() => Array.from({ length: d }, () => gauss(rand) * 10));
  const labels: number[] = [];
  const codes = new Float32Array(3 * perCluster * d);
  let i = 0;
  for (let c = 0; c < 3; c++) {
    for (let k = 0; k < perCluster; k++, i++) {
      labels.push(c);
      for (let j = 0; j < d; j++) codes[i * d + j] = centres[c][j] + gauss(rand);
    }
  }
  return { codes, labels };
}

describe('umap2d', () => {
  it('gives identical output for the same seed', () => {
    const { codes } = clusters(20, 8, 1);
    const a = umap2d(codes, 60, 8, { seed: 42, nEpochs: 100 });
    const b = umap2d(codes, 60, 8, { seed: 42, nEpochs: 100 });
    expect(Array.from(b)).toEqual(Array.from(a));
    const c = umap2d(codes, 60, 8, { seed: 43, nEpochs: 100 });
    expect(Array.from(c)).not.toEqual(Array.from(a));
  });

  it('keeps well-separated clusters apart', () => {
    const d = 16;
    const n = 180;
    const { codes, labels } = clusters(60, d, 2);
    const fractions: number[] = [];
    const pts = umap2d(codes, n, d, { seed: 1, onProgress: (f) => fractions.push(f) });
    expect(pts.length).toBe(n * 2);
    expect(fractions[0]).toBe(0);
    expect(fractions[fractions.length - 1]).toBe(1);
    for (let k = 1; k < fractions.length; k++) expect(fractions[k]).toBeGreaterThanOrEqual(fractions[k - 1]);
    let same = 0;
    for (let i = 0; i < n; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const dd = (pts[i * 2] - pts[j * 2]) ** 2 + (pts[i * 2 + 1] - pts[j * 2 + 1]) ** 2;
        if (dd < bestD) {
          bestD = dd;
          best = j;
        }
      }
      if (labels[best] === labels[i]) same++;
    }
    expect(same / n).toBeGreaterThanOrEqual(0.95);
  });

  it('falls back to PCA for fewer than 4 codes', () => {
    const codes = new Float32Array([0, 0, 0, 1, 0, 0, 0, 3, 0]);
    expect(Array.from(umap2d(codes, 3, 3, { seed: 1 }))).toEqual(Array.from(pca2d(codes, 3, 3).points));
  });

  it('handles a handful of codes', () => {
    const { codes } = clusters(2, 4, 3);
    const pts = umap2d(codes, 6, 4, { seed: 9 });
    expect(pts.length).toBe(12);
    expect(Array.from(pts).every(Number.isFinite)).toBe(true);
  });
});

describe('normalizePoints', () => {
  it('scales into [0,1]² keeping the aspect, centred', () => {
    const out = normalizePoints(new Float32Array([-2, 0, 2, 1, 0, 0.5]));
    // span 4 (x); y spans 1 → [0.375, 0.625].
    expect(Array.from(out)).toEqual([0, 0.375, 1, 0.625, 0.5, 0.5]);
    const tall = normalizePoints(new Float32Array([0, 10, 0, 20, 1, 15]));
    expect(Math.min(tall[1], tall[3], tall[5])).toBe(0);
    expect(Math.max(tall[1], tall[3], tall[5])).toBe(1);
    expect(tall[0]).toBeCloseTo(0.45, 6);
    expect(tall[4]).toBeCloseTo(0.55, 6);
  });

  it('puts all-equal points at the centre', () => {
    expect(Array.from(normalizePoints(new Float32Array([3, 3, 3, 3])))).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(Array.from(normalizePoints(new Float32Array([7, -1])))).toEqual([0.5, 0.5]);
    expect(normalizePoints(new Float32Array(0)).length).toBe(0);
  });
});
