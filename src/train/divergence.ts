/**
 * Which weights the divergence rule restores (src/train/worker/loop.ts). Pure: no tfjs.
 *
 * A loss turns non-finite at the end of a blow-up: the losses before it were already growing by
 * orders of magnitude (e.g. 0.09, 3.1, 23, 3e5, 2e29, NaN at SGD lr 0.5), so the weights from just
 * before the bad step are bad too. The rule restores the newest snapshot whose own weights gave a sane
 * loss (the loss of the step right after it: finite and at most SANE_LOSS_FACTOR × the lowest loss of
 * the run so far); where none qualifies, the oldest, the anchor (the start, or the last epoch's end).
 */

/** A snapshot's weights are sane when the loss they gave is at most this many times the lowest loss so far. */
export const SANE_LOSS_FACTOR = 4;

export interface SnapshotInfo {
  /** Steps done when it was taken: the weights the loss of step `step + 1` was computed with. */
  step: number;
  /** That loss, once read back; null until then. */
  lossAfter: number | null;
}

/** The index in `snapshots` (oldest first; index 0 the anchor) of the snapshot to restore. */
export function pickRestore(snapshots: readonly SnapshotInfo[], badStep: number, lowestLoss: number): number {
  for (let i = snapshots.length - 1; i >= 0; i--) {
    const { step, lossAfter } = snapshots[i];
    if (step >= badStep || lossAfter === null || !Number.isFinite(lossAfter)) continue;
    if (lossAfter <= SANE_LOSS_FACTOR * lowestLoss) return i;
  }
  return 0;
}
