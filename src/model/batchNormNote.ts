/**
 * The numbers of the batch-norm note (issue #15): the training loss as the training steps see it (batch
 * statistics) next to the losses evaluated in inference mode (moving averages) at the same step. Pure.
 */
import type { LayerSpec } from './spec';

export interface LossAt {
  step: number;
  loss: number;
}

/** The momentum of the moving averages (the worker's batch norm, as Keras' default). */
export const BN_MOMENTUM = 0.99;

export function hasBatchNorm(spec: { encoder: readonly LayerSpec[]; decoder: readonly LayerSpec[] }): boolean {
  return spec.encoder.some((l) => l.kind === 'batchNorm') || spec.decoder.some((l) => l.kind === 'batchNorm');
}

/**
 * The running training loss at `step`: the mean of the last `window` finite batch losses up to and
 * including that step (points sorted by step). Null when there is none.
 */
export function runningLossAt(points: readonly LossAt[], step: number, window = 20): number | null {
  // The last index whose step is ≤ step (binary search: the list grows to tens of thousands).
  let lo = 0;
  let hi = points.length - 1;
  let last = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid].step <= step) {
      last = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  let sum = 0;
  let count = 0;
  for (let i = last; i >= 0 && count < window; i--) {
    const v = points[i].loss;
    if (Number.isFinite(v)) {
      sum += v;
      count++;
    }
  }
  return count > 0 ? sum / count : null;
}

/**
 * How much of the moving averages' starting value is still in them after `steps` updates:
 * momentum^steps (each update keeps `momentum` of the old value).
 */
export function startingShareLeft(steps: number, momentum = BN_MOMENTUM): number {
  return momentum ** Math.max(0, steps);
}
