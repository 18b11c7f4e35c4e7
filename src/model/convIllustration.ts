/**
 * The geometry of the convolution illustration (issue #15): which cells the kernel covers at each step.
 * Pure: no React, no tfjs. Both axes follow the same rule, so one axis is planned and the 2-D frames are
 * its row-by-column product.
 *
 * - Convolution: one frame per output cell, in reading order. The kernel's window starts at
 *   out × stride − padBefore on the input; cells outside [0, size) are zero padding. 'same' pads
 *   max((out − 1) × stride + kernel − size, 0) cells in all, the smaller half before (as TensorFlow does).
 * - Transposed convolution (the scatter view): one frame per input cell. Its value, times the kernel, is
 *   stamped onto the output starting at in × stride − cropBefore; overlapping stamps add up. The full
 *   scatter is (size − 1) × stride + kernel long; 'same' keeps size × stride cells of it, cropping
 *   max(kernel − stride, 0) cells, the smaller half at the start (the padding of the convolution it is the
 *   transpose of). When kernel < stride the stamps leave gaps and the output is still size × stride long.
 */
import type { Padding } from './spec';

export type IllustrationMode = 'conv' | 'transposed';

export interface IllustrationSettings {
  mode: IllustrationMode;
  /** Input height and width (square). */
  size: number;
  kernel: number;
  stride: number;
  padding: Padding;
}

/** What the fields allow: small enough to read from the back of a room. */
export const ILLUSTRATION_LIMITS = {
  size: { min: 3, max: 16 },
  kernel: { min: 1, max: 7 },
  stride: { min: 1, max: 4 },
} as const;

export interface AxisPlan {
  inSize: number;
  outSize: number;
  /** Conv: zero-padding cells before/after the input. Transposed: scatter cells cropped before/after the output. */
  before: number;
  after: number;
  /** Where the kernel's first cell lands for step i along this axis (conv: on the input; transposed: on the output). */
  starts: number[];
}

export interface Cell {
  row: number;
  col: number;
}

export interface IllustrationFrame {
  /** Conv: the output cell computed in this step. Transposed: the input cell stamped in this step. */
  active: Cell;
  /**
   * The kernel's cells. Conv: on the input (row or col < 0 or ≥ size: padding). Transposed: on the
   * output (row or col < 0 or ≥ outSize: cropped away).
   */
  window: Cell[];
}

export interface Illustration {
  settings: IllustrationSettings;
  inSize: number;
  outSize: number;
  axis: AxisPlan;
  frames: IllustrationFrame[];
  /** The output-size rule with these numbers, e.g. "ceil(7 / 2) = 4". */
  formula: string;
}

export type IllustrationResult = { ok: true; illustration: Illustration } | { ok: false; error: string };

function planConv(size: number, kernel: number, stride: number, padding: Padding): AxisPlan | string {
  if (padding === 'valid') {
    if (kernel > size) return `a ${kernel}-wide kernel does not fit in ${size} cells without padding`;
    const outSize = Math.floor((size - kernel) / stride) + 1;
    return { inSize: size, outSize, before: 0, after: 0, starts: Array.from({ length: outSize }, (_, o) => o * stride) };
  }
  const outSize = Math.ceil(size / stride);
  const total = Math.max((outSize - 1) * stride + kernel - size, 0);
  const before = Math.floor(total / 2);
  return { inSize: size, outSize, before, after: total - before, starts: Array.from({ length: outSize }, (_, o) => o * stride - before) };
}

function planTransposed(size: number, kernel: number, stride: number, padding: Padding): AxisPlan {
  const full = (size - 1) * stride + kernel;
  let outSize: number;
  let before: number;
  if (padding === 'same') {
    outSize = size * stride;
    before = Math.floor(Math.max(kernel - stride, 0) / 2);
  } else {
    // Nothing cropped; with kernel < stride the last stamp ends before size × stride, which is kept.
    outSize = Math.max(full, size * stride);
    before = 0;
  }
  return { inSize: size, outSize, before, after: Math.max(full - before - outSize, 0), starts: Array.from({ length: size }, (_, i) => i * stride - before) };
}

function formulaOf(s: IllustrationSettings, out: number): string {
  const { size, kernel, stride, padding } = s;
  if (s.mode === 'conv') return padding === 'same' ? `ceil(${size} / ${stride}) = ${out}` : `floor((${size} − ${kernel}) / ${stride}) + 1 = ${out}`;
  if (padding === 'same') return `${size} × ${stride} = ${out}`;
  return kernel >= stride ? `(${size} − 1) × ${stride} + ${kernel} = ${out}` : `${size} × ${stride} = ${out} (kernel < stride: gaps between the stamps)`;
}

export function checkIllustrationSettings(s: IllustrationSettings): string | null {
  for (const key of ['size', 'kernel', 'stride'] as const) {
    const v = s[key];
    const { min, max } = ILLUSTRATION_LIMITS[key];
    if (!Number.isInteger(v) || v < min || v > max) return `${key === 'size' ? 'input size' : key} must be a whole number from ${min} to ${max}`;
  }
  return null;
}

export function illustrate(settings: IllustrationSettings): IllustrationResult {
  const bad = checkIllustrationSettings(settings);
  if (bad) return { ok: false, error: bad };
  const { mode, size, kernel, stride, padding } = settings;
  const planned = mode === 'conv' ? planConv(size, kernel, stride, padding) : planTransposed(size, kernel, stride, padding);
  if (typeof planned === 'string') return { ok: false, error: planned };
  const axis = planned;
  const frames: IllustrationFrame[] = [];
  const steps = mode === 'conv' ? axis.outSize : axis.inSize;
  for (let r = 0; r < steps; r++) {
    for (let c = 0; c < steps; c++) {
      const window: Cell[] = [];
      for (let dr = 0; dr < kernel; dr++) {
        for (let dc = 0; dc < kernel; dc++) window.push({ row: axis.starts[r] + dr, col: axis.starts[c] + dc });
      }
      frames.push({ active: { row: r, col: c }, window });
    }
  }
  return { ok: true, illustration: { settings, inSize: size, outSize: axis.outSize, axis, frames, formula: formulaOf(settings, axis.outSize) } };
}

/**
 * How many stamps have landed on each output cell after the first `steps` frames of a transposed
 * convolution (row-major, outSize²), or which output cells are computed after `steps` frames of a
 * convolution (1 or 0). Cropped cells are not counted.
 */
export function outputCoverage(ill: Illustration, steps: number): number[] {
  const n = ill.outSize;
  const out = new Array<number>(n * n).fill(0);
  const upto = Math.max(0, Math.min(steps, ill.frames.length));
  for (let i = 0; i < upto; i++) {
    const f = ill.frames[i];
    if (ill.settings.mode === 'conv') {
      out[f.active.row * n + f.active.col] = 1;
    } else {
      for (const w of f.window) if (w.row >= 0 && w.row < n && w.col >= 0 && w.col < n) out[w.row * n + w.col] += 1;
    }
  }
  return out;
}

/**
 * Fields prefilled from a layer: its kernel, stride and padding, and its input's height when that is
 * small enough to draw (else 7, with exact = false: the picture shows the rule on a smaller grid).
 */
export function settingsFromLayer(
  layer: { kind: 'conv2d' | 'conv2dTranspose'; kernelSize: number; strides: number; padding: Padding },
  inputHeight: number | null,
): { settings: IllustrationSettings; exact: boolean } {
  const clamp = (v: number, lim: { min: number; max: number }): number => Math.min(lim.max, Math.max(lim.min, v));
  const fits = (v: number | null, lim: { min: number; max: number }): v is number => v !== null && v >= lim.min && v <= lim.max;
  const size = fits(inputHeight, ILLUSTRATION_LIMITS.size) ? inputHeight : 7;
  const settings: IllustrationSettings = {
    mode: layer.kind === 'conv2d' ? 'conv' : 'transposed',
    size,
    kernel: clamp(layer.kernelSize, ILLUSTRATION_LIMITS.kernel),
    stride: clamp(layer.strides, ILLUSTRATION_LIMITS.stride),
    padding: layer.padding,
  };
  const exact =
    fits(inputHeight, ILLUSTRATION_LIMITS.size) && settings.kernel === layer.kernelSize && settings.stride === layer.strides && illustrate(settings).ok;
  return { settings, exact };
}
