/**
 * What a valid experiment is, and how anything read from outside becomes one: the zod schema of an
 * ExperimentSpec (built from the layer catalogue and the settings table) and normalizeSpec, the one
 * path every experiment from outside the running page takes (a link, after its wire format is read;
 * a JSON file; localStorage; a saved run in IndexedDB). Pure: no React, no tfjs.
 *
 * Normalisation never throws: a zod check per field; anything out of range is clamped / rounded,
 * anything unknown or missing falls back to its default, and each repair adds a warning for the user.
 */
import { z } from 'zod';
import { LAYER_KINDS, LAYER_KIND_LIST, type FieldDef } from './catalogue';
import { DEFAULT_SPEC, VARIANT_DEFAULTS } from './presets';
import { SETTING_LIST, type SettingDef, type SettingKey } from './settings';
import type { ExperimentSpec, LayerKind, LayerSpec } from './spec';

export type DecodeResult = { ok: true; spec: ExperimentSpec; warnings: string[] } | { ok: false; error: string };

/** Most layers per stack (encoder or decoder). */
export const MAX_LAYERS_PER_STACK = 64;
/** Most warnings listed; the rest are counted in one last line. */
export const MAX_WARNINGS = 30;

// ---------------------------------------------------------------------------------------------
// Field descriptions used by normalisation (live ranges from the layer catalogue and the settings table).
// ---------------------------------------------------------------------------------------------

type NormField =
  | { key: string; label: string; type: 'int' | 'float'; min: number; max: number }
  | { key: string; label: string; type: 'select'; options: readonly string[]; alsoAccepts?: (value: string) => boolean }
  | { key: string; label: string; type: 'shape'; minLength: number; maxLength: number; min: number; max: number };

function fromCatalogue(f: FieldDef): NormField {
  const label = f.label.toLowerCase();
  switch (f.type) {
    case 'int':
    case 'float':
      return { key: f.key, label, type: f.type, min: f.min, max: f.max };
    case 'select':
      return { key: f.key, label, type: 'select', options: f.options };
    case 'shape':
      return { key: f.key, label, type: 'shape', minLength: f.minLength, maxLength: f.maxLength, min: f.min, max: f.max };
  }
}

function fromSetting(s: SettingDef): NormField & { key: SettingKey } {
  const label = s.label.toLowerCase();
  return s.type === 'select'
    ? { key: s.key, label, type: 'select', options: s.options.map((o) => o.value), alsoAccepts: s.alsoAccepts }
    : { key: s.key, label, type: s.type, min: s.min, max: s.max };
}

/** The settings as normalisation sees them, from the settings table (labels in lower case, for warnings). */
const SETTING_FIELDS: readonly (NormField & { key: SettingKey })[] = SETTING_LIST.map(fromSetting);

const LAYER_FIELDS = new Map<LayerKind, readonly NormField[]>(
  LAYER_KIND_LIST.map((kind) => [kind, LAYER_KINDS[kind].fields.map(fromCatalogue)]),
);
function layerFields(kind: LayerKind): readonly NormField[] {
  return LAYER_FIELDS.get(kind) ?? [];
}

// ---------------------------------------------------------------------------------------------
// Zod schemas: strict ones (what a valid spec is) and lenient ones (what we try to read).
// ---------------------------------------------------------------------------------------------

function fieldSchema(f: NormField): z.ZodType {
  switch (f.type) {
    case 'int':
      return z.number().int().min(f.min).max(f.max);
    case 'float':
      return z.number().min(f.min).max(f.max);
    case 'select': {
      const accepts = f.alsoAccepts;
      return accepts ? z.union([z.enum(f.options), z.string().refine((v) => accepts(v))]) : z.enum(f.options);
    }
    case 'shape':
      return z.array(z.number().int().min(f.min).max(f.max)).min(f.minLength).max(f.maxLength);
  }
}

const FIELD_SCHEMAS = new Map<NormField, z.ZodType>();
function schemaFor(f: NormField): z.ZodType {
  let s = FIELD_SCHEMAS.get(f);
  if (!s) {
    s = fieldSchema(f);
    FIELD_SCHEMAS.set(f, s);
  }
  return s;
}

function strictLayerSchema(kind: LayerKind): z.ZodObject {
  const shape: Record<string, z.ZodType> = { kind: z.literal(kind) };
  for (const f of layerFields(kind)) shape[f.key] = schemaFor(f);
  return z.strictObject(shape);
}

const [firstKind, ...otherKinds] = LAYER_KIND_LIST;
const StrictLayerSchema = z.discriminatedUnion('kind', [
  strictLayerSchema(firstKind),
  ...otherKinds.map(strictLayerSchema),
]);

/** Exactly what a valid, normalised ExperimentSpec is: every field present and in range, no extras. */
export const ExperimentSpecSchema: z.ZodType<ExperimentSpec> = z.strictObject({
  ...Object.fromEntries(SETTING_FIELDS.map((f) => [f.key, schemaFor(f)])),
  encoder: z.array(StrictLayerSchema).max(MAX_LAYERS_PER_STACK),
  decoder: z.array(StrictLayerSchema).max(MAX_LAYERS_PER_STACK),
}) as unknown as z.ZodType<ExperimentSpec>;

/** True when value is a complete, in-range ExperimentSpec (the shape every ok:true result has). */
export function isValidSpec(value: unknown): value is ExperimentSpec {
  try {
    return ExperimentSpecSchema.safeParse(value).success;
  } catch {
    return false;
  }
}

/** What a readable experiment looks like before normalisation: two layer lists, anything else optional. */
const LooseSpecSchema = z.looseObject({
  encoder: z.array(z.unknown()).max(MAX_LAYERS_PER_STACK),
  decoder: z.array(z.unknown()).max(MAX_LAYERS_PER_STACK),
});
const LooseLayerSchema = z.looseObject({ kind: z.enum(LAYER_KIND_LIST) });

// ---------------------------------------------------------------------------------------------
// Normalisation.
// ---------------------------------------------------------------------------------------------

interface Warnings {
  add(message: string): void;
  list(): string[];
}

function makeWarnings(): Warnings {
  const items: string[] = [];
  let more = 0;
  return {
    add(message) {
      if (items.length < MAX_WARNINGS) items.push(message);
      else more++;
    },
    list() {
      return more > 0 ? [...items, `…and ${more} more changes`] : [...items];
    },
  };
}

/** A value as shown in a warning: short, never throws. */
function show(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (value === undefined) return 'nothing';
  try {
    const text = JSON.stringify(value);
    if (text === undefined) return typeof value;
    return text.length > 40 ? `${text.slice(0, 37)}...` : text;
  } catch {
    return typeof value;
  }
}

function showShape(shape: readonly number[]): string {
  return `[${shape.map(show).join(', ')}]`;
}

function clampNumber(v: number, min: number, max: number, int: boolean): number {
  let out = v;
  if (out === Infinity) out = max;
  else if (out === -Infinity) out = min;
  if (int) out = Math.round(out);
  out = Math.min(max, Math.max(min, out));
  return out === 0 ? 0 : out; // no -0
}

/**
 * One field: the value when it passes the strict schema, otherwise a repaired value (clamped,
 * rounded or the fallback) with a warning that names `where` and the field.
 */
function normalizeField(f: NormField, raw: unknown, fallback: unknown, where: string, w: Warnings): unknown {
  const parsed = schemaFor(f).safeParse(raw);
  if (parsed.success) {
    if (f.type === 'shape' && Array.isArray(parsed.data)) return [...(parsed.data as number[])];
    return parsed.data === 0 ? 0 : parsed.data;
  }
  const fallbackCopy = Array.isArray(fallback) ? [...(fallback as unknown[])] : fallback;
  const fallbackText = Array.isArray(fallback)
    ? showShape(fallback as number[])
    : typeof fallback === 'string'
      ? fallback
      : show(fallback);
  if (raw === undefined) {
    w.add(`${where}${f.label} missing; using ${fallbackText}`);
    return fallbackCopy;
  }
  switch (f.type) {
    case 'int':
    case 'float': {
      if (typeof raw !== 'number' || Number.isNaN(raw)) {
        w.add(`${where}${f.label} ${show(raw)} is not a number; using ${fallbackText}`);
        return fallbackCopy;
      }
      const out = clampNumber(raw, f.min, f.max, f.type === 'int');
      const rounded = f.type === 'int' && Number.isFinite(raw) && out === Math.round(raw);
      w.add(`${where}${f.label} ${show(raw)} ${rounded ? 'rounded' : 'clamped'} to ${show(out)}`);
      return out;
    }
    case 'select':
      w.add(`${where}${f.label} ${show(raw)} is not a known option; using ${fallbackText}`);
      return fallbackCopy;
    case 'shape': {
      if (
        !Array.isArray(raw) ||
        raw.length < f.minLength ||
        raw.length > f.maxLength ||
        !raw.every((v) => typeof v === 'number' && !Number.isNaN(v))
      ) {
        w.add(`${where}${f.label} ${show(raw)} is not ${f.minLength} to ${f.maxLength} numbers; using ${fallbackText}`);
        return fallbackCopy;
      }
      const out = (raw as number[]).map((v) => clampNumber(v, f.min, f.max, true));
      w.add(`${where}${f.label} ${showShape(raw as number[])} changed to ${showShape(out)}`);
      return out;
    }
  }
}

function normalizeLayer(raw: unknown, where: string, w: Warnings): LayerSpec | null {
  const head = LooseLayerSchema.safeParse(raw);
  if (!head.success) {
    const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
    if (isObject && 'kind' in raw) {
      w.add(`${where}: unknown layer kind ${show(raw.kind)} removed (it may come from a newer version of the app)`);
    } else {
      w.add(`${where}: ${show(raw)} is not a layer; removed`);
    }
    return null;
  }
  const kind = head.data.kind;
  const record = head.data as Record<string, unknown>;
  const defaults = LAYER_KINDS[kind].defaults as unknown as Record<string, unknown>;
  const label = `${where} (${LAYER_KINDS[kind].label}): `;
  const out: Record<string, unknown> = { kind };
  for (const f of layerFields(kind)) out[f.key] = normalizeField(f, record[f.key], defaults[f.key], label, w);
  return out as unknown as LayerSpec;
}

/** Who the messages name: "This link ...", "This file ...", "This data ...". */
export type Source = 'link' | 'file' | 'data';

function fail(error: string): DecodeResult {
  return { ok: false, error };
}

function normalizeInternal(value: unknown, source: Source, warnings: Warnings): DecodeResult {
  const noun = `This ${source}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`${noun} has no experiment in it`);
  const record = value as Record<string, unknown>;
  if (record.encoder === undefined && record.decoder === undefined) return fail(`${noun} has no experiment in it`);
  for (const stack of ['encoder', 'decoder'] as const) {
    const list = record[stack];
    if (!Array.isArray(list)) return fail(`${noun} is damaged (its ${stack} is not a list of layers)`);
    if (list.length > MAX_LAYERS_PER_STACK) {
      return fail(`${noun} has too many layers (${list.length} in the ${stack}; the most is ${MAX_LAYERS_PER_STACK})`);
    }
  }
  const loose = LooseSpecSchema.safeParse(value);
  if (!loose.success) return fail(`${noun} is damaged (its contents are not an experiment)`);
  const read = loose.data as Record<string, unknown>;
  // An experiment from before the autoencoder family (#16) has none of its fields: it is a plain
  // autoencoder, filled in silently (a missing field among others still gets its warning).
  const data = Object.keys(VARIANT_DEFAULTS).some((k) => k in read) ? read : { ...VARIANT_DEFAULTS, ...read };

  const settings: Record<string, unknown> = {};
  for (const f of SETTING_FIELDS) settings[f.key] = normalizeField(f, data[f.key], DEFAULT_SPEC[f.key], '', warnings);
  const stacks: Record<'encoder' | 'decoder', LayerSpec[]> = { encoder: [], decoder: [] };
  for (const stack of ['encoder', 'decoder'] as const) {
    loose.data[stack].forEach((raw, i) => {
      const layer = normalizeLayer(raw, `${stack} layer ${i + 1}`, warnings);
      if (layer) stacks[stack].push(layer);
    });
  }
  const candidate = {
    dataset: settings.dataset,
    encoder: stacks.encoder,
    decoder: stacks.decoder,
    loss: settings.loss,
    optimizer: settings.optimizer,
    learningRate: settings.learningRate,
    batchSize: settings.batchSize,
    epochs: settings.epochs,
    seed: settings.seed,
    trainSize: settings.trainSize,
    backend: settings.backend,
    variant: settings.variant,
    corruption: settings.corruption,
    noise: settings.noise,
    sparsity: settings.sparsity,
    codeDropout: settings.codeDropout,
    codeNoise: settings.codeNoise,
    beta: settings.beta,
  };
  // Safety net: normalisation must always produce a valid spec.
  const checked = ExperimentSpecSchema.safeParse(candidate);
  if (!checked.success) return fail(`${noun} could not be read (${checked.error.issues[0]?.message ?? 'invalid'})`);
  return { ok: true, spec: candidate as ExperimentSpec, warnings: warnings.list() };
}

/**
 * Checks and repairs a plain object in the ExperimentSpec shape (JSON import, localStorage):
 * clamps numbers, replaces unknown options and missing fields with defaults (with warnings),
 * drops unknown layers and ignores extra fields. Never throws.
 */
export function normalizeSpec(value: unknown, source: Source = 'data'): DecodeResult {
  try {
    return normalizeInternal(value, source, makeWarnings());
  } catch {
    return fail(`This ${source} could not be read`);
  }
}
