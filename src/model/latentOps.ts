/**
 * The latent explorer's arithmetic (#17): straight-line interpolation between two codes (and, for
 * comparison, between two images' pixels), which code values get sliders, and their ranges. Pure: no
 * React, no tfjs.
 */

/** `steps` points from a to b inclusive, evenly spaced (steps ≥ 2): steps × a.length values. */
export function lerpRows(a: ArrayLike<number>, b: ArrayLike<number>, steps: number): Float32Array {
  if (a.length !== b.length) throw new RangeError(`lerpRows: lengths differ (${a.length} vs ${b.length})`);
  if (!Number.isInteger(steps) || steps < 2) throw new RangeError(`lerpRows: steps must be an integer ≥ 2, got ${steps}`);
  const d = a.length;
  const out = new Float32Array(steps * d);
  for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    for (let j = 0; j < d; j++) out[s * d + j] = (1 - t) * a[j] + t * b[j];
  }
  return out;
}

/** Row i (length d) of an n × d matrix, as a copy. */
export function row(values: Float32Array, i: number, d: number): Float32Array {
  return values.slice(i * d, (i + 1) * d);
}

/** Per-column variance of an n × d matrix (population variance). */
export function columnVariance(values: Float32Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  const out = new Float64Array(d);
  if (n === 0) return out;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += values[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const dv = values[i * d + j] - mean[j];
      out[j] += dv * dv;
    }
  }
  for (let j = 0; j < d; j++) out[j] /= n;
  return out;
}

/** Most sliders shown: a code of up to this many values gets one per value. */
export const MAX_SLIDERS = 32;

/**
 * Which code values get sliders: all of them for a code of up to `max` values (in order); otherwise the
 * `max` that vary most across the images (ties: lower index first), in code order.
 */
export function sliderDims(values: Float32Array, n: number, d: number, max = MAX_SLIDERS): number[] {
  if (d <= max) return Array.from({ length: d }, (_, j) => j);
  const v = columnVariance(values, n, d);
  return Array.from({ length: d }, (_, j) => j)
    .sort((a, b) => v[b] - v[a] || a - b)
    .slice(0, max)
    .sort((a, b) => a - b);
}

/**
 * A slider's range for column j: the smallest and largest value over the images, widened by 25% of that
 * span on each side (so one can push a value past what the data shows); [-1, 1] around the value when all
 * are equal.
 */
export function sliderRange(values: Float32Array, n: number, d: number, j: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = values[i * d + j];
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [-1, 1];
  const span = hi - lo;
  if (span <= 1e-9) return [lo - 1, hi + 1];
  return [lo - span / 4, hi + span / 4];
}
