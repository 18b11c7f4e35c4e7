/**
 * Pure image operations for bringing arbitrary RGBA images into a data set's format:
 * centre square crop, area-average resample, and channel conversion. No React, no tfjs, no DOM.
 */

/** An RGBA image, row-major, 4 bytes per pixel (R, G, B, A), straight (non-premultiplied) alpha. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

/** A square region of an image: top-left corner (x, y) and side `size`, all integers in pixels. */
export interface SquareBox {
  x: number;
  y: number;
  size: number;
}

function assertPositiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
}

/** The largest centred square of a width×height image; x = floor((width - size) / 2), likewise y. */
export function centerCropBox(width: number, height: number): SquareBox {
  assertPositiveInt('centerCropBox: width', width);
  assertPositiveInt('centerCropBox: height', height);
  const size = Math.min(width, height);
  return { x: Math.floor((width - size) / 2), y: Math.floor((height - size) / 2), size };
}

/** One output sample's source taps along one axis: source indices and their (normalised) weights. */
interface Taps {
  index: number[];
  weight: number[];
}

/**
 * Box-filter taps along one axis: output cell o covers source interval [start + o·s, start + (o+1)·s)
 * with s = size / target; each source cell i gets the length of its overlap with that interval,
 * divided by s so the weights sum to 1. Works for both down- and upscaling.
 */
function axisTaps(start: number, size: number, target: number): Taps[] {
  const s = size / target;
  const taps: Taps[] = [];
  for (let o = 0; o < target; o++) {
    const lo = o * s;
    const hi = (o + 1) * s;
    const index: number[] = [];
    const weight: number[] = [];
    let sum = 0;
    for (let i = Math.floor(lo); i < Math.min(size, Math.ceil(hi)); i++) {
      const w = Math.min(hi, i + 1) - Math.max(lo, i);
      if (w <= 0) continue;
      index.push(start + i);
      weight.push(w);
      sum += w;
    }
    for (let k = 0; k < weight.length; k++) weight[k] /= sum;
    taps.push({ index, weight });
  }
  return taps;
}

/**
 * Area-average resample of the square `box` of `img` to target×target. Each output pixel is the
 * exact area-weighted mean of the source pixels it covers (fractional coverage at the edges).
 *
 * Alpha: every source pixel is composited over a WHITE background before averaging, i.e. each colour
 * channel c with alpha a (0..1) becomes c·a + 255·(1 − a). White is chosen because transparent PNGs
 * are usually dark glyphs/shapes on a transparent sheet, which should stay dark-on-light rather than
 * vanish into black. Averaging after compositing equals averaging premultiplied colour and alpha and
 * compositing once, since both are linear. The output alpha channel holds the area-averaged source
 * alpha (0..255) for information; the colour channels are already opaque.
 *
 * Returns RGBA floats in 0..255, length target·target·4, row-major.
 */
export function resizeArea(img: RgbaImage, box: SquareBox, target: number): Float32Array {
  assertPositiveInt('resizeArea: target', target);
  assertPositiveInt('resizeArea: box.size', box.size);
  const { width, height, data } = img;
  if (!Number.isInteger(box.x) || !Number.isInteger(box.y) || box.x < 0 || box.y < 0 ||
      box.x + box.size > width || box.y + box.size > height) {
    throw new RangeError(`resizeArea: box ${JSON.stringify(box)} outside ${width}×${height} image`);
  }
  if (data.length < width * height * 4) {
    throw new RangeError(`resizeArea: data has ${data.length} bytes, need ${width * height * 4}`);
  }
  const xs = axisTaps(box.x, box.size, target);
  const ys = axisTaps(box.y, box.size, target);
  const out = new Float32Array(target * target * 4);
  for (let oy = 0; oy < target; oy++) {
    const ty = ys[oy];
    for (let ox = 0; ox < target; ox++) {
      const tx = xs[ox];
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let j = 0; j < ty.index.length; j++) {
        const row = ty.index[j] * width;
        const wy = ty.weight[j];
        for (let i = 0; i < tx.index.length; i++) {
          const w = wy * tx.weight[i];
          const p = (row + tx.index[i]) * 4;
          const alpha = data[p + 3] / 255;
          const white = 255 * (1 - alpha);
          r += w * (data[p] * alpha + white);
          g += w * (data[p + 1] * alpha + white);
          b += w * (data[p + 2] * alpha + white);
          a += w * data[p + 3];
        }
      }
      const q = (oy * target + ox) * 4;
      out[q] = r;
      out[q + 1] = g;
      out[q + 2] = b;
      out[q + 3] = a;
    }
  }
  return out;
}

function toByte(v: number): number {
  return Math.min(255, Math.max(0, Math.round(v)));
}

/**
 * Converts `pixels` RGBA float pixels (0..255) to HWC uint8 with 1 or 3 channels. Grey is ITU-R BT.601
 * luma 0.299 R + 0.587 G + 0.114 B; RGB keeps R, G, B. Values are rounded to nearest and clamped.
 * The alpha channel is ignored (see {@link resizeArea}: colours are already composited).
 */
export function toChannels(rgba: Float32Array, pixels: number, channels: 1 | 3): Uint8Array {
  if (!Number.isInteger(pixels) || pixels < 0) throw new RangeError(`toChannels: bad pixel count ${pixels}`);
  if (rgba.length < pixels * 4) throw new RangeError(`toChannels: rgba has ${rgba.length} values, need ${pixels * 4}`);
  const out = new Uint8Array(pixels * channels);
  for (let p = 0; p < pixels; p++) {
    const r = rgba[p * 4];
    const g = rgba[p * 4 + 1];
    const b = rgba[p * 4 + 2];
    if (channels === 1) {
      out[p] = toByte(0.299 * r + 0.587 * g + 0.114 * b);
    } else {
      out[p * 3] = toByte(r);
      out[p * 3 + 1] = toByte(g);
      out[p * 3 + 2] = toByte(b);
    }
  }
  return out;
}

/** Centre-crops `img` to a square, area-resamples it to size×size and converts to HWC uint8 `channels`. */
export function prepareImage(img: RgbaImage, size: number, channels: 1 | 3): Uint8Array {
  const box = centerCropBox(img.width, img.height);
  return toChannels(resizeArea(img, box, size), size * size, channels);
}
