import { describe, expect, it } from 'vitest';
import { histogram, nearZeroShare } from './codeStats';

describe('code statistics', () => {
  it('histogram: equal bins over the range, the maximum in the last bin, non-finite values skipped', () => {
    const h = histogram([0, 0.1, 0.26, 0.5, 0.74, 1, Number.NaN, Infinity], 4);
    expect(h.lo).toBe(0);
    expect(h.hi).toBe(1);
    // bins [0, .25) [.25, .5) [.5, .75) [.75, 1]
    expect(h.counts).toEqual([2, 1, 2, 1]);
    expect(h.total).toBe(6);
    expect(histogram([3, 3], 2)).toEqual({ lo: 2.5, hi: 3.5, counts: [0, 2], total: 2 });
    expect(histogram([], 3).counts).toEqual([0, 0, 0]);
  });

  it('near-zero share: |z| ≤ 5% of the largest |z|', () => {
    // max |z| = 2: the limit is 0.1; 0, 0.1, -0.05 are near zero, -0.11 and 2 are not.
    expect(nearZeroShare([0, 0.1, -0.05, -0.11, 2])).toBeCloseTo(3 / 5, 10);
    expect(nearZeroShare([0, 0, 0])).toBe(1);
    expect(nearZeroShare([])).toBe(0);
    expect(nearZeroShare([1, -1, 0.5])).toBe(0);
  });
});
