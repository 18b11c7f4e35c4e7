import { describe, expect, it } from 'vitest';
import { pickRestore, SANE_LOSS_FACTOR } from './divergence';

describe('pickRestore: the weights the divergence rule restores', () => {
  it('skips snapshots taken during the blow-up, and the one at or after the bad step', () => {
    // Lowest loss 0.05; the snapshot at 40 gave 3.1 (62× that), the one at 44 gave 2e29, 48 is past the bad step.
    const snaps = [
      { step: 0, lossAfter: 0.7 },
      { step: 32, lossAfter: 0.06 },
      { step: 40, lossAfter: 3.1 },
      { step: 44, lossAfter: 2e29 },
      { step: 48, lossAfter: Number.NaN },
    ];
    expect(pickRestore(snaps, 47, 0.05)).toBe(1);
  });

  it('takes the newest sane snapshot from before the bad step', () => {
    const snaps = [
      { step: 0, lossAfter: 0.7 },
      { step: 10, lossAfter: 0.3 },
      { step: 20, lossAfter: 0.2 },
    ];
    expect(pickRestore(snaps, 25, 0.2)).toBe(2);
    // The bad step itself is step 21: the snapshot at 20 gave its loss... and that loss was sane here,
    // so the NaN came in one step: 20 is still the newest good one.
    expect(pickRestore(snaps, 21, 0.2)).toBe(2);
    // A snapshot at the bad step's own start is not from before it.
    expect(pickRestore(snaps, 20, 0.2)).toBe(1);
  });

  it('the bound is SANE_LOSS_FACTOR × the lowest loss, inclusive', () => {
    const snaps = [
      { step: 0, lossAfter: 1 },
      { step: 5, lossAfter: SANE_LOSS_FACTOR * 0.1 },
      { step: 9, lossAfter: SANE_LOSS_FACTOR * 0.1 * 1.001 },
    ];
    expect(pickRestore(snaps, 12, 0.1)).toBe(1);
  });

  it('falls back to the anchor when no snapshot qualifies or losses are unknown', () => {
    const snaps = [
      { step: 0, lossAfter: null },
      { step: 8, lossAfter: 50 },
      { step: 16, lossAfter: null },
    ];
    expect(pickRestore(snaps, 20, 0.1)).toBe(0);
    expect(pickRestore([{ step: 0, lossAfter: null }], 3, Infinity)).toBe(0);
  });
});
