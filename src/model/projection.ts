/**
 * The latent map's projection: an autoencoder's codes (n codes of d values each, row after row) drawn
 * as 2-D points, by PCA (linear, with the share of variance each axis shows) or UMAP (umap-js, seeded).
 * The page runs it in src/projection.worker.ts; the messages between them are typed here.
 * Pure: no React, no tfjs, no DOM.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { UMAP } from 'umap-js';
import { mulberry32 } from '../data/split';

export type ProjectionMethod = 'pca' | 'umap';

/** Page → projection worker. */
export interface ProjectionRequest {
  id: number;
  method: ProjectionMethod;
  /** n × d, row after row. */
  codes: Float32Array;
  n: number;
  d: number;
  seed: number;
}

/** Projection worker → page. */
export type ProjectionResponse =
  | { id: number; type: 'progress'; fraction: number }
  | {
      id: number;
      type: 'done';
      /** normalizePoints' output: n × 2 interleaved, in [0,1]². */
      points: Float32Array;
      /** PCA: the share of the total variance on each axis; UMAP: null. */
      explained: [number, number] | null;
    }
  | { id: number; type: 'error'; message: string };

/** Up to this many values per code, the covariance (d × d) and its full eigendecomposition; above, Lanczos. */
const EXACT_MAX_DIMS = 128;

function checkShape(codes: Float32Array, n: number, d: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 1) throw new Error(`bad code shape ${n} × ${d}`);
  if (codes.length < n * d) throw new Error(`${codes.length} values for ${n} codes of ${d}`);
}

function columnMeans(codes: Float32Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) mean[j] += codes[o + j];
  }
  if (n > 0) for (let j = 0; j < d; j++) mean[j] /= n;
  return mean;
}

/** Σ over codes of the squared centred values ÷ n: the covariance's trace. */
function totalVariance(codes: Float32Array, n: number, d: number, mean: Float64Array): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const c = codes[o + j] - mean[j];
      total += c * c;
    }
  }
  return n > 0 ? total / n : 0;
}

/** Flip a unit direction so that its largest-|value| entry (the first on ties) is positive. */
function fixSign(dir: Float64Array): void {
  let best = 0;
  for (let j = 1; j < dir.length; j++) if (Math.abs(dir[j]) > Math.abs(dir[best]) + 1e-12) best = j;
  if (dir[best] < 0) for (let j = 0; j < dir.length; j++) dir[j] = -dir[j];
}

/** The top two eigenpairs of the covariance, exactly: d × d covariance and ml-matrix's symmetric solver. */
function topTwoExact(codes: Float32Array, n: number, d: number, mean: Float64Array): { dirs: [Float64Array, Float64Array]; values: [number, number] } {
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) row[j] = codes[o + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      const base = a * d;
      for (let b = a; b < d; b++) cov[base + b] += ra * row[b];
    }
  }
  const m = new Matrix(d, d);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / n;
      m.set(a, b, v);
      m.set(b, a, v);
    }
  }
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  const order = values.map((_, k) => k).sort((x, y) => values[y] - values[x]);
  const dir = (k: number): Float64Array => {
    const out = new Float64Array(d);
    for (let j = 0; j < d; j++) out[j] = vectors.get(j, k);
    return out;
  };
  return { dirs: [dir(order[0]), dir(order[1])], values: [Math.max(0, values[order[0]]), Math.max(0, values[order[1]])] };
}

/** w = C v = (1/n) Σ_i x_i (x_iᵀ v), x_i the centred codes: two multiply-adds per value, no d × d matrix. */
function covarianceTimes(codes: Float32Array, n: number, d: number, mean: Float64Array, v: Float64Array, w: Float64Array): void {
  w.fill(0);
  let meanDotV = 0;
  for (let j = 0; j < d; j++) meanDotV += mean[j] * v[j];
  let zSum = 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let z = -meanDotV;
    for (let j = 0; j < d; j++) z += codes[o + j] * v[j];
    zSum += z;
    for (let j = 0; j < d; j++) w[j] += codes[o + j] * z;
  }
  // Σ_i (x_i − μ) z_i = Σ_i x_i z_i − μ Σ_i z_i.
  for (let j = 0; j < d; j++) w[j] = (w[j] - mean[j] * zSum) / n;
}

/**
 * The top two eigenpairs of the covariance for wide codes, without forming it: Lanczos with full
 * reorthogonalization (one C·v product per step, ~4·n·d flops), stopped when the top two Ritz pairs'
 * residual bounds are small. Deterministic (a fixed-seed start vector).
 */
function topTwoLanczos(
  codes: Float32Array,
  n: number,
  d: number,
  mean: Float64Array,
  total: number,
): { dirs: [Float64Array, Float64Array]; values: [number, number] } {
  const maxSteps = Math.min(d, 300);
  const rand = mulberry32(0x5eed);
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  let v = new Float64Array(d);
  for (let j = 0; j < d; j++) v[j] = rand() - 0.5;
  const normalize = (x: Float64Array): number => {
    let s = 0;
    for (let j = 0; j < d; j++) s += x[j] * x[j];
    const norm = Math.sqrt(s);
    if (norm > 0) for (let j = 0; j < d; j++) x[j] /= norm;
    return norm;
  };
  normalize(v);
  const w = new Float64Array(d);
  let ritz: { values: number[]; vectors: number[][] } = { values: [0], vectors: [[1]] };
  const tridiagonalRitz = (m: number): { values: number[]; vectors: number[][] } => {
    const t = new Matrix(m, m);
    for (let k = 0; k < m; k++) {
      t.set(k, k, alpha[k]);
      if (k + 1 < m) {
        t.set(k, k + 1, beta[k]);
        t.set(k + 1, k, beta[k]);
      }
    }
    const evd = new EigenvalueDecomposition(t, { assumeSymmetric: true });
    const vals = evd.realEigenvalues;
    const vecs = evd.eigenvectorMatrix;
    const order = vals.map((_, k) => k).sort((x, y) => vals[y] - vals[x]).slice(0, 2);
    return { values: order.map((k) => vals[k]), vectors: order.map((k) => Array.from({ length: m }, (_, r) => vecs.get(r, k))) };
  };
  for (let k = 0; k < maxSteps; k++) {
    basis.push(v);
    covarianceTimes(codes, n, d, mean, v, w);
    let a = 0;
    for (let j = 0; j < d; j++) a += w[j] * v[j];
    alpha.push(a);
    // Full reorthogonalization against every basis vector, twice (this also removes α v and β v_prev).
    for (let pass = 0; pass < 2; pass++) {
      for (const b of basis) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += w[j] * b[j];
        for (let j = 0; j < d; j++) w[j] -= dot * b[j];
      }
    }
    const next = Float64Array.from(w);
    const bk = normalize(next);
    const m = k + 1;
    const breakdown = !(bk > 1e-12 * Math.max(total, 1e-300));
    if (breakdown || m === maxSteps || (m >= 2 && m % 4 === 0)) {
      ritz = tridiagonalRitz(m);
      if (breakdown || m === maxSteps) break;
      // Residual bound of a Ritz pair: β_m · |last entry of its eigenvector of T|.
      const scale = Math.max(Math.abs(ritz.values[0]), 1e-300);
      if (ritz.vectors.every((s) => bk * Math.abs(s[m - 1]) <= 1e-9 * scale)) break;
    }
    beta.push(bk);
    v = next;
  }
  const m = ritz.vectors[0].length;
  const dirs = ritz.vectors.map((s) => {
    const out = new Float64Array(d);
    for (let k = 0; k < m; k++) {
      const b = basis[k];
      const c = s[k];
      for (let j = 0; j < d; j++) out[j] += c * b[j];
    }
    normalize(out);
    return out;
  });
  const values = ritz.values.map((x) => Math.max(0, x));
  if (dirs.length < 2) {
    // A rank-1 (or zero) spread: any unit direction orthogonal to the first, with no variance on it.
    const first = dirs[0];
    let second = new Float64Array(d);
    for (let attempt = 0; attempt < 4; attempt++) {
      second = new Float64Array(d);
      for (let j = 0; j < d; j++) second[j] = rand() - 0.5;
      let dot = 0;
      for (let j = 0; j < d; j++) dot += second[j] * first[j];
      for (let j = 0; j < d; j++) second[j] -= dot * first[j];
      if (normalize(second) > 1e-6) break;
    }
    dirs.push(second);
    values.push(0);
  }
  return { dirs: [dirs[0], dirs[1]], values: [values[0], values[1]] };
}

/**
 * PCA to 2-D: the centred codes projected on the covariance's top two eigenvectors (each signed so
 * that its largest-|value| entry is positive), n × 2 interleaved [x0, y0, x1, y1, …], and the share of
 * the total variance on each axis. A 1-value code: x = the centred value, y = 0. A 2-value code is
 * returned as is (not rotated, not centred), with each axis' share of the variance.
 */
export function pca2d(codes: Float32Array, n: number, d: number): { points: Float32Array; explained: [number, number] } {
  checkShape(codes, n, d);
  const points = new Float32Array(n * 2);
  const mean = columnMeans(codes, n, d);
  const total = totalVariance(codes, n, d, mean);
  const share = (v: number): number => (total > 0 ? Math.min(1, Math.max(0, v / total)) : 0);
  if (d === 1) {
    for (let i = 0; i < n; i++) points[i * 2] = codes[i] - mean[0];
    return { points, explained: [share(total), 0] };
  }
  if (d === 2) {
    let vx = 0;
    let vy = 0;
    for (let i = 0; i < n; i++) {
      const x = codes[i * 2];
      const y = codes[i * 2 + 1];
      points[i * 2] = x;
      points[i * 2 + 1] = y;
      vx += (x - mean[0]) ** 2;
      vy += (y - mean[1]) ** 2;
    }
    return { points, explained: n > 0 ? [share(vx / n), share(vy / n)] : [0, 0] };
  }
  if (n === 0) return { points, explained: [0, 0] };
  const { dirs, values } = d <= EXACT_MAX_DIMS ? topTwoExact(codes, n, d, mean) : topTwoLanczos(codes, n, d, mean, total);
  fixSign(dirs[0]);
  fixSign(dirs[1]);
  const [u, v] = dirs;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let x = 0;
    let y = 0;
    for (let j = 0; j < d; j++) {
      const c = codes[o + j] - mean[j];
      x += c * u[j];
      y += c * v[j];
    }
    points[i * 2] = x;
    points[i * 2 + 1] = y;
  }
  return { points, explained: [share(values[0]), share(values[1])] };
}

export interface Umap2dOptions {
  seed: number;
  /** Default min(15, n − 1). */
  nNeighbors?: number;
  /** Default: umap-js' own (500 up to 10,000 codes). */
  nEpochs?: number;
  /** 0 … 1: the neighbour graph is the first 10 %, the epochs the rest. */
  onProgress?: (fraction: number) => void;
}

/**
 * UMAP to 2-D with umap-js, its randomness from mulberry32(seed): the same codes and seed give the
 * same points (n × 2 interleaved, umap-js' own scale). Fewer than 4 codes, or a layout that comes out
 * non-finite: pca2d's points instead.
 */
export function umap2d(codes: Float32Array, n: number, d: number, opts: Umap2dOptions): Float32Array {
  checkShape(codes, n, d);
  if (n < 4) {
    opts.onProgress?.(1);
    return pca2d(codes, n, d).points;
  }
  const data: number[][] = [];
  for (let i = 0; i < n; i++) data.push(Array.from(codes.subarray(i * d, i * d + d)));
  const nNeighbors = Math.max(2, Math.min(opts.nNeighbors ?? 15, n - 1));
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors,
    random: mulberry32(opts.seed),
    ...(opts.nEpochs !== undefined ? { nEpochs: Math.max(1, Math.round(opts.nEpochs)) } : {}),
  });
  opts.onProgress?.(0);
  const nEpochs = umap.initializeFit(data);
  opts.onProgress?.(0.1);
  const every = Math.max(1, Math.floor(nEpochs / 50));
  for (let e = 0; e < nEpochs; e++) {
    umap.step();
    if ((e + 1) % every === 0 && e + 1 < nEpochs) opts.onProgress?.(0.1 + (0.9 * (e + 1)) / nEpochs);
  }
  const embedding = umap.getEmbedding();
  const points = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const x = embedding[i]?.[0] ?? NaN;
    const y = embedding[i]?.[1] ?? NaN;
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      opts.onProgress?.(1);
      return pca2d(codes, n, d).points;
    }
    points[i * 2] = x;
    points[i * 2 + 1] = y;
  }
  opts.onProgress?.(1);
  return points;
}

/**
 * Points (n × 2 interleaved) scaled into [0,1]², both axes by the same factor (the aspect kept),
 * centred on (0.5, 0.5); all-equal points (or none finite) all at 0.5. Non-finite values go to 0.5.
 */
export function normalizePoints(points: Float32Array): Float32Array {
  const n = Math.floor(points.length / 2);
  const out = new Float32Array(n * 2).fill(0.5);
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = points[i * 2];
    const y = points[i * 2 + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const span = Math.max(maxX - minX, maxY - minY);
  if (!(span > 0) || !Number.isFinite(span)) return out;
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  for (let i = 0; i < n; i++) {
    const x = points[i * 2];
    const y = points[i * 2 + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    out[i * 2] = Math.min(1, Math.max(0, 0.5 + (x - cx) / span));
    out[i * 2 + 1] = Math.min(1, Math.max(0, 0.5 + (y - cy) / span));
  }
  return out;
}
