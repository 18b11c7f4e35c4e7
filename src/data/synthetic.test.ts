import { describe, expect, it } from 'vitest';
import { generateShapes, hueToRgb, SHAPE_FACTOR_NAMES, shapeCoverage, type SyntheticSet } from './synthetic';

const SIZE = 32;

function bytesEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function factorsOf(set: SyntheticSet, n: number): { shape: number; cx: number; cy: number; r: number; hue: number } {
  const nf = set.factorNames.length;
  const f = set.factors.subarray(n * nf, (n + 1) * nf);
  return { shape: f[0], cx: f[1], cy: f[2], r: f[3], hue: f[4] };
}

/** Channel-summed intensity / (255 · channels-lit) of image n as area, plus its intensity centroid. */
function litStats(set: SyntheticSet, n: number, channel = 0): { area: number; mx: number; my: number } {
  const { width, height, channels } = set;
  const base = n * width * height * channels;
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = set.pixels[base + (y * width + x) * channels + channel];
      sum += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  return { area: sum / 255, mx: sx / sum, my: sy / sum };
}

function exactArea(shape: number, r: number): number {
  if (shape === 0) return Math.PI * r * r;
  if (shape === 1) return 4 * r * r;
  return ((3 * Math.sqrt(3)) / 4) * r * r;
}

describe('generateShapes', () => {
  const grey = generateShapes({ count: 300, size: SIZE, channels: 1, seed: 7 });

  it('has the declared shape', () => {
    expect(grey).toMatchObject({ count: 300, height: SIZE, width: SIZE, channels: 1 });
    expect(grey.pixels.length).toBe(300 * SIZE * SIZE);
    expect(grey.labels.length).toBe(300);
    expect(grey.factorNames).toEqual(SHAPE_FACTOR_NAMES);
    expect(grey.factors.length).toBe(300 * SHAPE_FACTOR_NAMES.length);
  });

  it('is deterministic in the seed', () => {
    const again = generateShapes({ count: 300, size: SIZE, channels: 1, seed: 7 });
    expect(bytesEqual(again.pixels, grey.pixels)).toBe(true);
    expect(bytesEqual(again.labels, grey.labels)).toBe(true);
    expect(bytesEqual(again.factors, grey.factors)).toBe(true);
    const other = generateShapes({ count: 300, size: SIZE, channels: 1, seed: 8 });
    expect(bytesEqual(other.pixels, grey.pixels)).toBe(false);
  });

  it('keeps the same geometry for grey and RGB from one seed', () => {
    const rgb = generateShapes({ count: 20, size: SIZE, channels: 3, seed: 7 });
    expect(rgb.labels).toEqual(grey.labels.subarray(0, 20));
    for (let n = 0; n < 20; n++) {
      const a = factorsOf(rgb, n);
      const b = factorsOf(grey, n);
      expect([a.shape, a.cx, a.cy, a.r]).toEqual([b.shape, b.cx, b.cy, b.r]);
      expect(b.hue).toBe(0);
    }
  });

  it('balances the classes roughly', () => {
    const counts = [0, 0, 0];
    for (const l of grey.labels) counts[l]++;
    for (const c of counts) {
      expect(c).toBeGreaterThanOrEqual(0.2 * 300);
      expect(c).toBeLessThanOrEqual(0.47 * 300);
    }
  });

  it('stores factors consistent with the image and keeps shapes inside', () => {
    for (let n = 0; n < grey.count; n++) {
      const f = factorsOf(grey, n);
      expect(f.shape).toBe(grey.labels[n]);
      expect(f.r).toBeGreaterThanOrEqual(0.2 * SIZE - 1e-4);
      expect(f.r).toBeLessThanOrEqual(0.4 * SIZE + 1e-4);
      expect(f.cx - f.r).toBeGreaterThanOrEqual(-1e-4);
      expect(f.cx + f.r).toBeLessThanOrEqual(SIZE + 1e-4);
      expect(f.cy - f.r).toBeGreaterThanOrEqual(-1e-4);
      expect(f.cy + f.r).toBeLessThanOrEqual(SIZE + 1e-4);

      const { area, mx, my } = litStats(grey, n);
      expect(area).toBeGreaterThan(0);
      // Lit area matches the analytic area (π r², 4 r², 3√3/4 r²) within 10%.
      expect(Math.abs(area - exactArea(f.shape, f.r)) / exactArea(f.shape, f.r)).toBeLessThan(0.1);
      // The intensity centroid is the stored centre (the triangle is equilateral: centroid = circumcentre).
      expect(Math.abs(mx - f.cx)).toBeLessThan(1);
      expect(Math.abs(my - f.cy)).toBeLessThan(1);
    }
  });

  it('renders each pixel as 255 × its coverage by the stored shape', () => {
    for (let n = 0; n < 10; n++) {
      const f = factorsOf(grey, n);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const expected = Math.round(255 * shapeCoverage(f.shape, f.cx, f.cy, f.r, x, y));
          expect(grey.pixels[n * SIZE * SIZE + y * SIZE + x]).toBe(expected);
        }
      }
    }
  });

  it('anti-aliases edges', () => {
    const partial = grey.pixels.filter((v) => v > 0 && v < 255).length;
    expect(partial).toBeGreaterThan(0);
  });

  it('colours RGB shapes by their hue factor', () => {
    const rgb = generateShapes({ count: 60, size: SIZE, channels: 3, seed: 3 });
    expect(rgb.channels).toBe(3);
    expect(rgb.pixels.length).toBe(60 * SIZE * SIZE * 3);
    for (let n = 0; n < rgb.count; n++) {
      const f = factorsOf(rgb, n);
      expect(f.hue).toBeGreaterThanOrEqual(0);
      expect(f.hue).toBeLessThan(1);
      // Channel sums are proportional to the hue's colour (all share one coverage mask).
      const colour = hueToRgb(f.hue);
      const sums = [0, 1, 2].map((c) => litStats(rgb, n, c).area);
      const total = sums[0] + sums[1] + sums[2];
      const cTotal = colour[0] + colour[1] + colour[2];
      for (let c = 0; c < 3; c++) expect(sums[c] / total).toBeCloseTo(colour[c] / cTotal, 2);
      const dominant = colour.indexOf(Math.max(...colour));
      expect(sums[dominant]).toBe(Math.max(...sums));
    }
  });
});

describe('hueToRgb', () => {
  it('maps primary and secondary hues', () => {
    expect(hueToRgb(0)).toEqual([255, 0, 0]);
    expect(hueToRgb(1 / 3)).toEqual([0, 255, 0]);
    expect(hueToRgb(2 / 3)).toEqual([0, 0, 255]);
    expect(hueToRgb(1 / 6)).toEqual([255, 255, 0]);
    expect(hueToRgb(0.5)).toEqual([0, 255, 255]);
  });
  it('is fully saturated: max 255, min 0', () => {
    for (let h = 0; h < 1; h += 0.01) {
      const c = hueToRgb(h);
      expect(Math.max(...c)).toBeCloseTo(255, 6);
      expect(Math.min(...c)).toBeCloseTo(0, 6);
    }
  });
});

describe('shapeCoverage', () => {
  it('is 1 well inside, 0 well outside, fractional on an edge', () => {
    expect(shapeCoverage(0, 10, 10, 5, 9, 9)).toBe(1);
    expect(shapeCoverage(0, 10, 10, 5, 0, 0)).toBe(0);
    // A centred at 10.5 with half-side 2 spans x in [8.5, 12.5]: pixel 12 ([12, 13)) has its
    // sample columns 12.125 and 12.375 inside, 12.625 and 12.875 outside → 8 of 16 samples.
    expect(shapeCoverage(1, 10.5, 10.5, 2, 12, 10)).toBe(0.5);
  });
});
