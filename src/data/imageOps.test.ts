import { describe, expect, it } from 'vitest';
import { centerCropBox, prepareImage, resizeArea, toChannels, type RgbaImage } from './imageOps';

/** An opaque image whose R, G and B all equal `grey[y][x]`. */
function greyImage(grey: number[][]): RgbaImage {
  const height = grey.length;
  const width = grey[0].length;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      data.set([grey[y][x], grey[y][x], grey[y][x], 255], p);
    }
  }
  return { width, height, data };
}

/** The R channel of an RGBA float image as rows. */
function redRows(rgba: Float32Array, side: number): number[][] {
  return Array.from({ length: side }, (_, y) => Array.from({ length: side }, (_, x) => rgba[(y * side + x) * 4]));
}

function expectRowsClose(actual: number[][], expected: number[][]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, y) => row.forEach((v, x) => expect(v).toBeCloseTo(expected[y][x], 4)));
}

describe('centerCropBox', () => {
  it('is the whole image for squares', () => {
    expect(centerCropBox(5, 5)).toEqual({ x: 0, y: 0, size: 5 });
  });
  it('centres the largest square, flooring odd margins', () => {
    expect(centerCropBox(4, 2)).toEqual({ x: 1, y: 0, size: 2 });
    expect(centerCropBox(5, 2)).toEqual({ x: 1, y: 0, size: 2 }); // floor(3 / 2) = 1
    expect(centerCropBox(3, 8)).toEqual({ x: 0, y: 2, size: 3 }); // floor(5 / 2) = 2
  });
  it('rejects non-positive sizes', () => {
    expect(() => centerCropBox(0, 3)).toThrow(RangeError);
  });
});

describe('resizeArea', () => {
  it('downsamples 4×4 to 2×2 as exact means of 2×2 blocks', () => {
    const img = greyImage([
      [0, 10, 100, 200],
      [20, 30, 40, 60],
      [1, 2, 3, 4],
      [5, 6, 7, 9],
    ]);
    const out = resizeArea(img, { x: 0, y: 0, size: 4 }, 2);
    expect(out.length).toBe(2 * 2 * 4);
    expectRowsClose(redRows(out, 2), [
      [(0 + 10 + 20 + 30) / 4, (100 + 200 + 40 + 60) / 4], // 15, 100
      [(1 + 2 + 5 + 6) / 4, (3 + 4 + 7 + 9) / 4], // 3.5, 5.75
    ]);
    // Opaque source: alpha stays 255; G and B equal R.
    for (let p = 0; p < 4; p++) {
      expect(out[p * 4 + 3]).toBeCloseTo(255, 4);
      expect(out[p * 4 + 1]).toBeCloseTo(out[p * 4], 4);
      expect(out[p * 4 + 2]).toBeCloseTo(out[p * 4], 4);
    }
  });

  it('downsamples 3×3 to 2×2 with fractional coverage weights', () => {
    // Scale s = 3 / 2 = 1.5 source pixels per output pixel. Output column 0 covers source x in [0, 1.5):
    // column 0 fully (weight 1) and half of column 1 (weight 0.5); output column 1 covers [1.5, 3):
    // half of column 1 (0.5) and column 2 fully (1). Rows likewise. Each output cell has area 1.5² = 2.25.
    const g = [
      [10, 20, 30],
      [40, 50, 60],
      [70, 80, 90],
    ];
    const out = resizeArea(greyImage(g), { x: 0, y: 0, size: 3 }, 2);
    // (0,0): 1·1·10 + 1·0.5·20 + 0.5·1·40 + 0.5·0.5·50 = 10 + 10 + 20 + 12.5 = 52.5; / 2.25 = 23.333…
    const p00 = (10 + 0.5 * 20 + 0.5 * 40 + 0.25 * 50) / 2.25;
    // (0,1) [row 0, col 1]: 0.5·20 + 1·30 + 0.25·50 + 0.5·60 = 10 + 30 + 12.5 + 30 = 82.5; / 2.25 = 36.666…
    const p01 = (0.5 * 20 + 30 + 0.25 * 50 + 0.5 * 60) / 2.25;
    // (1,0): 0.5·40 + 0.25·50 + 1·70 + 0.5·80 = 20 + 12.5 + 70 + 40 = 142.5; / 2.25 = 63.333…
    const p10 = (0.5 * 40 + 0.25 * 50 + 70 + 0.5 * 80) / 2.25;
    // (1,1): 0.25·50 + 0.5·60 + 0.5·80 + 1·90 = 12.5 + 30 + 40 + 90 = 172.5; / 2.25 = 76.666…
    const p11 = (0.25 * 50 + 0.5 * 60 + 0.5 * 80 + 90) / 2.25;
    expect(p00).toBeCloseTo(23.3333, 3);
    expect(p01).toBeCloseTo(36.6667, 3);
    expect(p10).toBeCloseTo(63.3333, 3);
    expect(p11).toBeCloseTo(76.6667, 3);
    expectRowsClose(redRows(out, 2), [
      [p00, p01],
      [p10, p11],
    ]);
  });

  it('upsamples 2×2 to 4×4 as 2×2 blocks of each source pixel', () => {
    const out = resizeArea(greyImage([[0, 100], [200, 255]]), { x: 0, y: 0, size: 2 }, 4);
    expectRowsClose(redRows(out, 4), [
      [0, 0, 100, 100],
      [0, 0, 100, 100],
      [200, 200, 255, 255],
      [200, 200, 255, 255],
    ]);
  });

  it('resamples only the given box', () => {
    const img = greyImage([
      [9, 1, 2, 9],
      [9, 3, 4, 9],
    ]);
    const out = resizeArea(img, { x: 1, y: 0, size: 2 }, 1);
    expect(out[0]).toBeCloseTo((1 + 2 + 3 + 4) / 4, 5);
  });

  it('composites transparent pixels over white', () => {
    // Black at alpha 128: 0·(128/255) + 255·(1 − 128/255) = 255 − 128 = 127.
    const half: RgbaImage = { width: 1, height: 1, data: new Uint8Array([0, 0, 0, 128]) };
    const o1 = resizeArea(half, { x: 0, y: 0, size: 1 }, 1);
    expect(o1[0]).toBeCloseTo(127, 4);
    expect(o1[3]).toBeCloseTo(128, 4);
    // Fully transparent pixels are white whatever their stored colour.
    const clear: RgbaImage = { width: 1, height: 1, data: new Uint8Array([12, 34, 56, 0]) };
    expect(Array.from(resizeArea(clear, { x: 0, y: 0, size: 1 }, 1))).toEqual([255, 255, 255, 0]);
  });

  it('rejects a box outside the image', () => {
    expect(() => resizeArea(greyImage([[1, 2]]), { x: 1, y: 0, size: 2 }, 1)).toThrow(RangeError);
  });
});

describe('toChannels', () => {
  it('uses BT.601 luma for grey', () => {
    const rgba = new Float32Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255]);
    // 0.299·255 = 76.245 → 76; 0.587·255 = 149.685 → 150; 0.114·255 = 29.07 → 29; 1·255 = 255.
    expect(Array.from(toChannels(rgba, 4, 1))).toEqual([76, 150, 29, 255]);
  });
  it('keeps R, G, B rounded and clamped for RGB', () => {
    const rgba = new Float32Array([1.4, 1.6, 300, 0, -2, 254.5, 127.5, 10]);
    expect(Array.from(toChannels(rgba, 2, 3))).toEqual([1, 2, 255, 0, 255, 128]);
  });
});

describe('prepareImage', () => {
  it('a half-transparent-on-average black area over white gives 127.5 → 128', () => {
    // 2×2: two opaque black pixels and two fully transparent ones → mean (0 + 0 + 255 + 255) / 4 = 127.5.
    const img: RgbaImage = {
      width: 2,
      height: 2,
      data: new Uint8Array([0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255]),
    };
    expect(Array.from(prepareImage(img, 1, 1))).toEqual([128]);
    expect(Array.from(prepareImage(img, 1, 3))).toEqual([128, 128, 128]);
  });

  it('crops a non-square 4×2 image to its centre 2×2', () => {
    const img = greyImage([
      [200, 10, 20, 200],
      [200, 30, 40, 200],
    ]);
    expect(Array.from(prepareImage(img, 2, 1))).toEqual([10, 20, 30, 40]);
    expect(Array.from(prepareImage(img, 1, 1))).toEqual([25]);
  });

  it('produces HWC RGB bytes', () => {
    const img: RgbaImage = { width: 1, height: 1, data: new Uint8Array([255, 0, 0, 255]) };
    expect(Array.from(prepareImage(img, 2, 3))).toEqual([255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0]);
    expect(Array.from(prepareImage(img, 1, 1))).toEqual([76]);
  });
});
