import { describe, expect, it } from 'vitest';
import { columnVariance, lerpRows, row, sliderDims, sliderRange } from './latentOps';

describe('lerpRows', () => {
  it('interpolates evenly from a to b, both ends included (hand values)', () => {
    const out = lerpRows([0, 10], [4, -2], 5);
    // t = 0, 1/4, 1/2, 3/4, 1: x = 4t, y = 10 - 12t
    expect(Array.from(out)).toEqual([0, 10, 1, 7, 2, 4, 3, 1, 4, -2]);
  });
  it('refuses mismatched lengths and fewer than two steps', () => {
    expect(() => lerpRows([1], [1, 2], 3)).toThrow(RangeError);
    expect(() => lerpRows([1], [2], 1)).toThrow(RangeError);
  });
});

describe('slider choices', () => {
  // 4 images × 3 values: column 0 constant, column 1 spread 0..3, column 2 spread 0..30.
  const m = Float32Array.from([5, 0, 0, 5, 1, 10, 5, 2, 20, 5, 3, 30]);
  it('column variance by hand', () => {
    // col 1: mean 1.5, deviations ±0.5, ±1.5 → (0.25+2.25)*2/4 = 1.25; col 2 is 10× that: 125.
    expect(Array.from(columnVariance(m, 4, 3))).toEqual([0, 1.25, 125]);
  });
  it('every value of a small code; the most varying ones of a large code, in code order', () => {
    expect(sliderDims(m, 4, 3)).toEqual([0, 1, 2]);
    expect(sliderDims(m, 4, 3, 2)).toEqual([1, 2]);
    expect(sliderDims(m, 4, 3, 1)).toEqual([2]);
  });
  it('ranges: the data span widened by a quarter each side; ±1 around a constant', () => {
    expect(sliderRange(m, 4, 3, 1)).toEqual([-0.75, 3.75]);
    expect(sliderRange(m, 4, 3, 0)).toEqual([4, 6]);
  });
  it('row copies one image’s code', () => {
    expect(Array.from(row(m, 2, 3))).toEqual([5, 2, 20]);
  });
});
