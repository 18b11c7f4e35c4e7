/** Curve helpers for the loss chart. Pure. */

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
