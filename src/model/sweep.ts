/**
 * Bottleneck sweeps: parse a list of bottleneck shapes typed by the user, and generate one
 * experiment per shape from a fixed template (the "Walking the Tightrope" study compares codes of
 * the same size but different height × width × channels, e.g. 7×7×4, 14×14×1, 2×2×49, 1×1×196).
 * Pure: no React, no tfjs.
 */
import { LIMITS } from './catalogue';
import { inferShapes } from './inferShapes';
import { SETTINGS, VARIANT_LABELS, checkSetting, type NumberSettingDef } from './settings';
import { VARIANTS, formatShape, shapesEqual, type ExperimentSpec, type LayerSpec, type Shape } from './spec';

/** Most shapes one sweep may hold. */
export const MAX_SWEEP_SHAPES = 12;
/** Filters of the template's hidden conv layers. */
const HIDDEN_FILTERS = 16;
/** Channels of the flat template's last feature map before flatten (and after the decoder's reshape). */
const FLAT_CHANNELS = 8;

export type ParseShapesResult = { ok: true; shapes: number[][] } | { ok: false; error: string };
export type VariantResult = { ok: true; spec: ExperimentSpec; note: string } | { ok: false; error: string };

/** "7×7×4" for an H×W×C code, "32" for a flat one. */
export function shapeLabel(code: number[]): string {
  return formatShape(code);
}

/**
 * Parses e.g. `7x7x4, 14×14×1; 2*2*49 1x1x196 32`: shapes are separated by commas, semicolons or
 * whitespace; inside a shape the numbers are joined by `x`, `×` or `*` (spaces around them are
 * allowed). Each shape is H×W×C or N. Duplicates are removed, keeping the first occurrence.
 */
export function parseShapeList(text: string): ParseShapesResult {
  const joined = text.replace(/\s*[x×*X]\s*/g, 'x').trim();
  const items = joined.split(/[\s,;]+/).filter((s) => s.length > 0);
  if (items.length === 0) return { ok: false, error: 'Enter at least one bottleneck shape, e.g. 7x7x4 or 32' };
  const shapes: number[][] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const parts = item.split('x');
    if (parts.length !== 1 && parts.length !== 3) return { ok: false, error: `'${item}' is not H×W×C or N` };
    if (parts.some((p) => !/^\d+$/.test(p))) {
      return { ok: false, error: `'${item}' is not H×W×C or N: use whole numbers, e.g. 7x7x4 or 32` };
    }
    const shape = parts.map(Number);
    if (shape.some((v) => !Number.isSafeInteger(v) || v < 1)) {
      return { ok: false, error: `'${item}': every number must be a whole number of at least 1` };
    }
    const key = shape.join('x');
    if (seen.has(key)) continue;
    seen.add(key);
    shapes.push(shape);
  }
  if (shapes.length > MAX_SWEEP_SHAPES) {
    return { ok: false, error: `At most ${MAX_SWEEP_SHAPES} shapes per sweep, got ${shapes.length}` };
  }
  return { ok: true, shapes };
}

// ---------------------------------------------------------------------------------------------
// Template.
// ---------------------------------------------------------------------------------------------

const conv = (filters: number, activation: 'linear' | 'relu' | 'sigmoid' = 'linear'): LayerSpec => ({
  kind: 'conv2d',
  filters,
  kernelSize: 3,
  strides: 1,
  padding: 'same',
  activation,
});
const leaky = (): LayerSpec => ({ kind: 'activation', activation: 'leakyRelu', alpha: 0.2 });
const maxPool = (): LayerSpec => ({ kind: 'maxPool2d', poolSize: 2, strides: 2 });
/** A learned k×k, stride-k reduction: unlike an average pool it keeps where things are. */
const strided = (size: number): LayerSpec => ({ kind: 'conv2d', filters: HIDDEN_FILTERS, kernelSize: size, strides: size, padding: 'valid', activation: 'linear' });
/** Its mirror: a learned k×k pattern per input value (a plain upsampling would repeat one value k×k times). */
const transposed = (size: number): LayerSpec => ({ kind: 'conv2dTranspose', filters: HIDDEN_FILTERS, kernelSize: size, strides: size, padding: 'valid', activation: 'linear' });
const up = (size: number): LayerSpec => ({ kind: 'upSampling2d', size });

/** The largest odd pooling factor one avg-pool layer can apply (its stride limit). */
const MAX_ODD_FACTOR = Math.min(LIMITS.strides, LIMITS.kernelSize, LIMITS.upsample);

/**
 * How to shrink `size` to `target` with square pools: max-pools of 2 for the factor's powers of two,
 * then avg-pools for the odd rest (split into factors the layer limits allow, largest first).
 * Returns the pool factors in order ([2, 2, 7] for 28 → 1), or null when unreachable.
 */
export function poolFactors(size: number, target: number): number[] | null {
  if (!Number.isInteger(size) || !Number.isInteger(target) || target < 1 || target > size || size % target !== 0) return null;
  let rest = size / target;
  const out: number[] = [];
  while (rest % 2 === 0) {
    out.push(2);
    rest /= 2;
  }
  while (rest > 1) {
    let f = 0;
    for (let d = MAX_ODD_FACTOR; d >= 3; d--) {
      if (rest % d === 0) {
        f = d;
        break;
      }
    }
    if (f === 0) return null;
    out.push(f);
    rest /= f;
  }
  return out;
}

function reachable(size: number): number[] {
  const out: number[] = [];
  for (let d = 1; d <= size; d++) if (poolFactors(size, d)) out.push(d);
  return out;
}

function settingsOf(base: ExperimentSpec): Omit<ExperimentSpec, 'encoder' | 'decoder'> {
  return {
    dataset: base.dataset,
    loss: base.loss,
    optimizer: base.optimizer,
    learningRate: base.learningRate,
    batchSize: base.batchSize,
    epochs: base.epochs,
    seed: base.seed,
    trainSize: base.trainSize,
    backend: base.backend,
    variant: base.variant,
    corruption: base.corruption,
    noise: base.noise,
    sparsity: base.sparsity,
    codeDropout: base.codeDropout,
    codeNoise: base.codeNoise,
    beta: base.beta,
  };
}

const isPositiveInt = (v: number): boolean => Number.isSafeInteger(v) && v >= 1;

function imageVariant(input: Shape, code: number[]): { encoder: LayerSpec[]; decoder: LayerSpec[]; note: string } | { error: string } {
  const [h, w, c] = code;
  const [inH, inW, inC] = input;
  const axis = (name: string, target: number, size: number): string | null => {
    if (target > size) return `bottleneck ${name} ${target} is larger than the input ${name} ${size}`;
    if (poolFactors(size, target)) return null;
    return `bottleneck ${name} ${target} cannot be reached from ${size} with pooling: use a divisor of ${size} (${reachable(size).join(', ')})`;
  };
  const bad = axis('height', h, inH) ?? axis('width', w, inW);
  if (bad) return { error: bad };
  if (c > LIMITS.filters) return { error: `bottleneck channels must be between 1 and ${LIMITS.filters}, got ${c}` };
  const fh = poolFactors(inH, h) ?? [];
  const fw = poolFactors(inW, w) ?? [];
  // Pool and upsampling layers are square: both axes must shrink by the same factors.
  if (!shapesEqual(fh, fw)) {
    return {
      error: `bottleneck ${h}×${w} shrinks the ${inH}×${inW} input by different factors (${inH / h} and ${inW / w}); the template's square pools need the same factor for height and width`,
    };
  }
  const encoder: LayerSpec[] = [conv(HIDDEN_FILTERS), leaky()];
  for (const f of fh) encoder.push(...(f === 2 ? [maxPool()] : [strided(f), leaky()]));
  encoder.push(conv(c), leaky());
  const decoder: LayerSpec[] = [conv(HIDDEN_FILTERS), leaky()];
  const ups = [...fh].reverse();
  for (const f of ups) decoder.push(...(f === 2 ? [up(2), conv(HIDDEN_FILTERS), leaky()] : [transposed(f), leaky()]));
  decoder.push(conv(inC, 'sigmoid'));
  const pools = fh.map((f) => (f === 2 ? 'max-pool 2' : `conv ${f}×${f} stride ${f}`));
  const note = [
    `conv ${HIDDEN_FILTERS}`,
    ...pools,
    `conv ${c} = ${shapeLabel(code)} code`,
    `conv ${HIDDEN_FILTERS}`,
    ...ups.map((f) => (f === 2 ? `upsample ×2 + conv ${HIDDEN_FILTERS}` : `transposed conv ${f}×${f} stride ${f}`)),
    `conv ${inC} sigmoid`,
  ].join(' → ');
  return { encoder, decoder, note: `${note} (3×3 same convs unless said, leakyReLU 0.2)` };
}

function flatVariant(input: Shape, n: number): { encoder: LayerSpec[]; decoder: LayerSpec[]; note: string } | { error: string } {
  const [inH, inW, inC] = input;
  if (n > LIMITS.units) return { error: `a flat code must have between 1 and ${LIMITS.units} values, got ${n}` };
  if (inH % 4 !== 0 || inW % 4 !== 0) {
    return { error: `a flat code needs an input whose height and width divide by 4 (two max-pools), got ${formatShape(input)}` };
  }
  const mh = inH / 4;
  const mw = inW / 4;
  const mapSize = mh * mw * FLAT_CHANNELS;
  if (mapSize > LIMITS.units) return { error: `the input ${formatShape(input)} is too large for the flat template` };
  const encoder: LayerSpec[] = [
    conv(HIDDEN_FILTERS),
    leaky(),
    maxPool(),
    conv(FLAT_CHANNELS),
    leaky(),
    maxPool(),
    { kind: 'flatten' },
    { kind: 'dense', units: n, activation: 'linear' },
  ];
  const decoder: LayerSpec[] = [
    { kind: 'dense', units: mapSize, activation: 'relu' },
    { kind: 'reshape', targetShape: [mh, mw, FLAT_CHANNELS] },
    up(2),
    conv(HIDDEN_FILTERS),
    leaky(),
    up(2),
    conv(inC, 'sigmoid'),
  ];
  const map = `${mh}×${mw}×${FLAT_CHANNELS}`;
  const note =
    `conv ${HIDDEN_FILTERS} → max-pool 2 → conv ${FLAT_CHANNELS} → max-pool 2 → flatten → dense ${n} = flat code → ` +
    `dense ${mapSize} relu → reshape ${map} → upsample ×2 → conv ${HIDDEN_FILTERS} → upsample ×2 → conv ${inC} sigmoid (3×3 same convs, leakyReLU 0.2)`;
  return { encoder, decoder, note };
}

/**
 * An experiment with base's training settings and a generated architecture whose encoder output
 * is exactly `code` (H×W×C, or [N] for a flat dense code), for images of shape `input`.
 */
export function makeBottleneckVariant(base: ExperimentSpec, code: number[], input: number[] = [28, 28, 1]): VariantResult {
  if (input.length !== 3 || !input.every(isPositiveInt)) {
    return { ok: false, error: `the input must be H×W×C, got ${formatShape(input)}` };
  }
  if ((code.length !== 1 && code.length !== 3) || !code.every(isPositiveInt)) {
    return { ok: false, error: `'${formatShape(code)}' is not H×W×C or N (whole numbers of at least 1)` };
  }
  const built = code.length === 3 ? imageVariant(input, code) : flatVariant(input, code[0]);
  if ('error' in built) return { ok: false, error: built.error };
  const spec: ExperimentSpec = { ...settingsOf(base), encoder: built.encoder, decoder: built.decoder };
  const report = inferShapes(spec, input);
  if (report.error) return { ok: false, error: `the ${shapeLabel(code)} template does not work: ${report.error}` };
  if (!report.bottleneck || !shapesEqual(report.bottleneck, code)) {
    return { ok: false, error: `the ${shapeLabel(code)} template gives a ${formatShape(report.bottleneck ?? [])} bottleneck` };
  }
  return { ok: true, spec, note: built.note };
}

// ---------------------------------------------------------------------------------------------
// Sweeps over the autoencoder family's settings (#16): the variant itself, or one of its numbers.
// ---------------------------------------------------------------------------------------------

/** What a sweep varies: the bottleneck shape (above), the variant, or one numeric variant setting. */
export const SWEEP_AXES = ['shape', 'variant', 'noise', 'sparsity', 'beta', 'codeDropout', 'codeNoise'] as const;
export type SweepAxis = (typeof SWEEP_AXES)[number];
type NumericAxis = Exclude<SweepAxis, 'shape' | 'variant'>;

/** One run of a sweep: its label and the experiment it trains. */
export interface SweepItem {
  label: string;
  make: (base: ExperimentSpec) => VariantResult;
}

export type ParseSweepResult = { ok: true; items: SweepItem[] } | { ok: false; error: string };

/**
 * The runs of a sweep from the text the user typed: bottleneck shapes, variant names (or their labels,
 * any case), or numbers for a variant setting. A numeric setting of another variant switches the run
 * to the variant it belongs to (sweeping Beta trains VAEs). Values are checked against the settings table.
 */
export function parseSweep(axis: SweepAxis, text: string, input: number[] = [28, 28, 1]): ParseSweepResult {
  if (axis === 'shape') {
    const parsed = parseShapeList(text);
    if (!parsed.ok) return parsed;
    return { ok: true, items: parsed.shapes.map((code) => ({ label: shapeLabel(code), make: (base) => makeBottleneckVariant(base, code, input) })) };
  }
  const items = text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (items.length === 0) return { ok: false, error: 'Enter at least one value' };
  if (items.length > MAX_SWEEP_SHAPES) return { ok: false, error: `At most ${MAX_SWEEP_SHAPES} runs in one sweep` };
  if (axis === 'variant') {
    const out: SweepItem[] = [];
    for (const item of items) {
      const key = item.toLowerCase().replace(/[^a-z]/g, '');
      const id = VARIANTS.find((v) => v.toLowerCase() === key || VARIANT_LABELS[v].toLowerCase().replace(/[^a-z]/g, '') === key || (v === 'vae' && key === 'variational'));
      if (!id) return { ok: false, error: `'${item}' is not a variant (${VARIANTS.join(', ')})` };
      if (out.some((o) => o.label === VARIANT_LABELS[id])) continue;
      out.push({ label: VARIANT_LABELS[id], make: (base) => ({ ok: true, spec: { ...base, variant: id }, note: VARIANT_LABELS[id] }) });
    }
    return { ok: true, items: out };
  }
  const def: NumberSettingDef = SETTINGS[axis as NumericAxis];
  const out: SweepItem[] = [];
  for (const item of items) {
    const value = Number(item);
    const error = checkSetting(def, Number.isFinite(value) && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(item) ? value : Number.NaN);
    if (error) return { ok: false, error: `'${item}': ${error}` };
    const label = `${def.label} ${value}`;
    if (out.some((o) => o.label === label)) continue;
    out.push({
      label,
      make: (base) => {
        const variant = def.variants && !def.variants.includes(base.variant) ? def.variants[0] : base.variant;
        return { ok: true, spec: { ...base, variant, [axis]: value }, note: label };
      },
    });
  }
  return { ok: true, items: out };
}
