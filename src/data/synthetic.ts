/**
 * Deterministic synthetic "shapes" data sets: one filled circle, square or triangle per image on a
 * black background, anti-aliased by 4×4 supersampling. Pure: no React, no tfjs, no DOM.
 *
 * Coordinates are continuous image coordinates: pixel (px, py) covers [px, px+1) × [py, py+1), so its
 * centre is at (px + 0.5, py + 0.5).
 */
import type { DecodedDataset } from './decode';
import { mulberry32 } from './split';

/** A generated data set (images and labels as a decoded asset has them), with its generating factors. */
export interface SyntheticSet extends DecodedDataset {
  /** Per image, `factorNames.length` generating factors (see {@link SHAPE_FACTOR_NAMES}). */
  factors: Float32Array;
  factorNames: readonly string[];
}

/** Class names by label. */
export const SHAPE_NAMES = ['circle', 'square', 'triangle'] as const;

/**
 * Factors stored per image:
 * - shape: the label (0 circle, 1 square, 2 triangle);
 * - cx, cy: the shape's centre in pixels (also the centroid of its area: the triangle is equilateral);
 * - size: radius r in pixels — circle radius, square half-side, triangle circumradius (apex up);
 * - hue: colour hue in [0, 1) for RGB sets (HSV with S = V = 1); 0 for grey sets.
 */
export const SHAPE_FACTOR_NAMES = ['shape', 'cx', 'cy', 'size', 'hue'] as const;

/** Supersampling grid per pixel axis (4×4 = 16 samples per pixel). */
const SUPERSAMPLE = 4;

const SQRT3 = Math.sqrt(3);

/** Whether point (x, y) lies inside shape `label` of radius r centred at (cx, cy). */
function inside(label: number, cx: number, cy: number, r: number, x: number, y: number): boolean {
  const dx = x - cx;
  const dy = y - cy;
  if (label === 0) return dx * dx + dy * dy <= r * r;
  if (label === 1) return Math.abs(dx) <= r && Math.abs(dy) <= r;
  // Equilateral triangle, circumradius r, apex up (y grows downward): apex (0, -r), base at dy = r/2
  // from (-r√3/2, r/2) to (r√3/2, r/2). Inside: dy ≤ r/2 and both slanted edges' inequalities hold.
  if (dy > r / 2) return false;
  return SQRT3 * Math.abs(dx) - dy <= r;
}

/**
 * Fraction (0..1, in steps of 1/16) of pixel (px, py) covered by the shape, estimated with a 4×4 grid
 * of samples at (px + (i + 0.5)/4, py + (j + 0.5)/4).
 */
export function shapeCoverage(label: number, cx: number, cy: number, r: number, px: number, py: number): number {
  let hits = 0;
  for (let j = 0; j < SUPERSAMPLE; j++) {
    const y = py + (j + 0.5) / SUPERSAMPLE;
    for (let i = 0; i < SUPERSAMPLE; i++) {
      if (inside(label, cx, cy, r, px + (i + 0.5) / SUPERSAMPLE, y)) hits++;
    }
  }
  return hits / (SUPERSAMPLE * SUPERSAMPLE);
}

/** Fully saturated, full-value colour of hue h in [0, 1), as [r, g, b] in 0..255 (HSV → RGB). */
export function hueToRgb(h: number): [number, number, number] {
  const f = (n: number): number => {
    const k = (n + h * 6) % 6;
    return 255 * (1 - Math.max(0, Math.min(k, 4 - k, 1)));
  };
  return [f(5), f(3), f(1)];
}

/**
 * Generates `count` size×size images with `channels` channels, deterministically from `seed`.
 * Per image, in this order, the PRNG draws: label (uniform over 3 classes), radius r uniform in
 * [0.2, 0.4]·size, centre cx, cy uniform in [r, size − r] (so the shape lies fully inside), and hue
 * uniform in [0, 1). The hue is drawn for grey sets too, so the same seed gives the same geometry in
 * both channel settings. Grey images draw the shape white (255 × coverage); RGB images draw it in
 * the saturated colour of its hue (× coverage). Background is 0.
 */
export function generateShapes(opts: { count: number; size: number; channels: 1 | 3; seed: number }): SyntheticSet {
  const { count, size, channels, seed } = opts;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`generateShapes: bad count ${count}`);
  if (!Number.isInteger(size) || size < 4) throw new RangeError(`generateShapes: size must be an integer ≥ 4, got ${size}`);
  if (channels !== 1 && channels !== 3) throw new RangeError(`generateShapes: channels must be 1 or 3`);
  const rng = mulberry32(seed);
  const nf = SHAPE_FACTOR_NAMES.length;
  const labels = new Uint8Array(count);
  const factors = new Float32Array(count * nf);
  const imageBytes = size * size * channels;
  const pixels = new Uint8Array(count * imageBytes);

  for (let n = 0; n < count; n++) {
    const label = Math.min(2, Math.floor(rng() * 3));
    const r = size * (0.2 + 0.2 * rng());
    const cx = r + (size - 2 * r) * rng();
    const cy = r + (size - 2 * r) * rng();
    const hueDraw = rng();
    const hue = channels === 3 ? hueDraw : 0;
    labels[n] = label;
    factors.set([label, cx, cy, r, hue], n * nf);

    const colour: [number, number, number] = channels === 3 ? hueToRgb(hue) : [255, 255, 255];
    const base = n * imageBytes;
    // Only pixels in the shape's bounding box can be lit.
    const x0 = Math.max(0, Math.floor(cx - r));
    const x1 = Math.min(size - 1, Math.floor(cx + r));
    const y0 = Math.max(0, Math.floor(cy - r));
    const y1 = Math.min(size - 1, Math.floor(cy + r));
    for (let py = y0; py <= y1; py++) {
      for (let px = x0; px <= x1; px++) {
        const cov = shapeCoverage(label, cx, cy, r, px, py);
        if (cov === 0) continue;
        const p = base + (py * size + px) * channels;
        for (let c = 0; c < channels; c++) pixels[p + c] = Math.round(colour[c] * cov);
      }
    }
  }

  return { count, height: size, width: size, channels, labels, pixels, factors, factorNames: SHAPE_FACTOR_NAMES };
}
