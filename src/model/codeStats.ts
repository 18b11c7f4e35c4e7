/**
 * Statistics of code activations for the code view (#16): a histogram, and the share of values that
 * are "near zero", defined once here: |z| ≤ NEAR_ZERO_FRACTION · max |z| over the values shown (so
 * the figure does not depend on the code's scale). Pure: no React, no tfjs.
 */

/** A value is near zero when |z| ≤ this fraction of the largest |z|. */
export const NEAR_ZERO_FRACTION = 0.05;

export interface Histogram {
  /** Left edge of the first bin, right edge of the last. */
  lo: number;
  hi: number;
  /** Values per bin (the last bin includes hi). */
  counts: number[];
  total: number;
}

/** `bins` equal bins over [min, max] of the finite values (a constant code gets one span of width 1 around it). */
export function histogram(values: ArrayLike<number>, bins: number): Histogram {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return { lo: 0, hi: 1, counts: new Array<number>(bins).fill(0), total: 0 };
  if (hi === lo) {
    lo -= 0.5;
    hi += 0.5;
  }
  const counts = new Array<number>(bins).fill(0);
  let total = 0;
  const width = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
    total++;
  }
  return { lo, hi, counts, total };
}

/** The share (0–1) of finite values with |z| ≤ NEAR_ZERO_FRACTION · max |z|; 0 for no values, 1 for an all-zero code. */
export function nearZeroShare(values: ArrayLike<number>): number {
  let max = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    n++;
    max = Math.max(max, Math.abs(v));
  }
  if (n === 0) return 0;
  const limit = NEAR_ZERO_FRACTION * max;
  let near = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v) && Math.abs(v) <= limit) near++;
  }
  return near / n;
}
