/** Curve helpers for the loss chart, and the median the benchmarks report. Pure. */

export interface XY {
  step: number;
  loss: number;
}

/** Exponential moving average with bias correction (as TensorBoard's smoothing). */
export function smooth(points: readonly XY[], weight: number): XY[] {
  const out: XY[] = [];
  let last = 0;
  let n = 0;
  for (const p of points) {
    if (!Number.isFinite(p.loss)) continue;
    last = last * weight + (1 - weight) * p.loss;
    n++;
    out.push({ step: p.step, loss: last / (1 - weight ** n) });
  }
  return out;
}

/** At most `max` points, evenly spread, keeping the first and the last. */
export function decimate<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return points.slice();
  if (max <= 0) return [];
  if (max === 1) return [points[points.length - 1]];
  const out: T[] = [];
  const step = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * step)]);
  return out;
}

/** Median of the values (the input is not reordered); null when there are none. */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
