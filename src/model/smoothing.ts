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

/** Keeps at most `max` points, evenly spaced, always keeping the last one. */
export function decimate<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return points.slice();
  const out: T[] = [];
  const stride = points.length / max;
  for (let i = 0; i < max - 1; i++) out.push(points[Math.floor(i * stride)]);
  out.push(points[points.length - 1]);
  return out;
}
