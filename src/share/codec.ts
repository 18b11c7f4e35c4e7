/**
 * The share codec: an experiment to a short URL-safe string and back, plus the JSON file
 * envelope used by Export/Import and localStorage. Pure: no React, no tfjs.
 *
 * Link format, version 1:  `1.` + lzString.compressToEncodedURIComponent(JSON.stringify(payload))
 *   payload  = [settings, encoder, decoder]
 *   settings = [dataset, loss, optimizer, learningRate, batchSize, epochs, seed, trainSize, backend]
 *   layer    = [kindCode, ...field values]
 * Kind codes, field order and select option indices come from the frozen V1 tables below, NOT from
 * the live catalogue: reordering the catalogue must never change what an old link means.
 *
 * Decoding never throws. A link is read by the reader for its version into a plain object in the
 * ExperimentSpec shape, which then goes through the same normalisation as an imported JSON file:
 * a zod check per field; anything out of range is clamped / rounded, anything unknown or missing
 * falls back to its default, and each repair adds a warning for the user.
 *
 * Growing the format (version 2): leave V1_* and readV1 exactly as they are. Add V2 tables (copy
 * V1 and append new kinds, fields or options), an encodeV2, and a readV2 that produces the same
 * plain-object shape; set LINK_VERSION = 2 and add `2: readV2` to LINK_READERS. If readV1 must
 * fill a new spec field, give it the value that reproduces the v1 behaviour (not a warning).
 * The fixtures in fixtures.ts must keep decoding to exactly the same specs.
 */
import { compressToEncodedURIComponent, decompressFromEncodedURIComponent } from 'lz-string';
import { z } from 'zod';
import { LAYER_KINDS, LAYER_KIND_LIST, type FieldDef } from '../model/catalogue';
import { SETTING_LIMITS } from '../model/inferShapes';
import { DEFAULT_SPEC } from '../model/presets';
import { lzDecompressedLength } from './lzLength';
import {
  BACKEND_CHOICES,
  DATASETS,
  LOSSES,
  OPTIMIZERS,
  type ExperimentSpec,
  type LayerKind,
  type LayerSpec,
} from '../model/spec';

export type DecodeResult = { ok: true; spec: ExperimentSpec; warnings: string[] } | { ok: false; error: string };

/** The version new links are written with. */
export const LINK_VERSION = 1;
/** The version of the JSON file envelope written by specToJson. */
export const JSON_VERSION = 1;
export const JSON_APP_ID = 'autoencoder-playground';

/** Longest link payload accepted (a real link is well under 5,000 characters). */
export const MAX_LINK_CHARS = 20_000;
/** Longest text a link may unpack to (checked before unpacking; a real one is under 10,000). */
export const MAX_LINK_JSON_CHARS = 100_000;
/** Longest JSON file accepted. */
export const MAX_JSON_CHARS = 1_000_000;
/** Most layers per stack (encoder or decoder). */
export const MAX_LAYERS_PER_STACK = 64;
/** Most warnings listed; the rest are counted in one last line. */
export const MAX_WARNINGS = 30;

// ---------------------------------------------------------------------------------------------
// Frozen v1 wire tables. Append-only history: never reorder or edit these.
// ---------------------------------------------------------------------------------------------

interface WireField {
  key: string;
  /** For select fields: the value is written as its index in this list. */
  options?: readonly string[];
}

const V1_KINDS: readonly LayerKind[] = [
  'conv2d',
  'conv2dTranspose',
  'maxPool2d',
  'avgPool2d',
  'upSampling2d',
  'batchNorm',
  'activation',
  'dense',
  'flatten',
  'reshape',
  'dropout',
];
const V1_INLINE_ACTIVATIONS = ['linear', 'relu', 'sigmoid', 'tanh', 'elu', 'selu', 'softplus'] as const;
const V1_ACTIVATIONS = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'elu', 'selu', 'softplus'] as const;
const V1_PADDINGS = ['same', 'valid'] as const;

const V1_CONV: readonly WireField[] = [
  { key: 'filters' },
  { key: 'kernelSize' },
  { key: 'strides' },
  { key: 'padding', options: V1_PADDINGS },
  { key: 'activation', options: V1_INLINE_ACTIVATIONS },
];
const V1_POOL: readonly WireField[] = [{ key: 'poolSize' }, { key: 'strides' }];

const V1_LAYER_FIELDS: Record<LayerKind, readonly WireField[]> = {
  conv2d: V1_CONV,
  conv2dTranspose: V1_CONV,
  maxPool2d: V1_POOL,
  avgPool2d: V1_POOL,
  upSampling2d: [{ key: 'size' }],
  batchNorm: [],
  activation: [{ key: 'activation', options: V1_ACTIVATIONS }, { key: 'alpha' }],
  dense: [{ key: 'units' }, { key: 'activation', options: V1_INLINE_ACTIVATIONS }],
  flatten: [],
  reshape: [{ key: 'targetShape' }],
  dropout: [{ key: 'rate' }],
};

const V1_SETTINGS: readonly WireField[] = [
  { key: 'dataset', options: ['mnist', 'fashion-mnist'] },
  { key: 'loss', options: ['mse', 'bce'] },
  { key: 'optimizer', options: ['adam', 'sgd', 'rmsprop'] },
  { key: 'learningRate' },
  { key: 'batchSize' },
  { key: 'epochs' },
  { key: 'seed' },
  { key: 'trainSize' },
  { key: 'backend', options: ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] },
];

/** The v1 tables, exported for the test that checks they cover the live catalogue. */
export const V1_WIRE = { kinds: V1_KINDS, layerFields: V1_LAYER_FIELDS, settings: V1_SETTINGS } as const;

// ---------------------------------------------------------------------------------------------
// Field descriptions used by normalisation (live ranges from the catalogue and SETTING_LIMITS).
// ---------------------------------------------------------------------------------------------

type NormField =
  | { key: string; label: string; type: 'int' | 'float'; min: number; max: number }
  | { key: string; label: string; type: 'select'; options: readonly string[] }
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

type SettingKey = Exclude<keyof ExperimentSpec, 'encoder' | 'decoder'>;

const SETTING_FIELDS: readonly (NormField & { key: SettingKey })[] = [
  { key: 'dataset', label: 'data set', type: 'select', options: DATASETS },
  { key: 'loss', label: 'loss', type: 'select', options: LOSSES },
  { key: 'optimizer', label: 'optimizer', type: 'select', options: OPTIMIZERS },
  { key: 'learningRate', label: 'learning rate', type: 'float', ...SETTING_LIMITS.learningRate },
  { key: 'batchSize', label: 'batch size', type: 'int', ...SETTING_LIMITS.batchSize },
  { key: 'epochs', label: 'epochs', type: 'int', ...SETTING_LIMITS.epochs },
  { key: 'seed', label: 'seed', type: 'int', ...SETTING_LIMITS.seed },
  { key: 'trainSize', label: 'training images', type: 'int', ...SETTING_LIMITS.trainSize },
  { key: 'backend', label: 'backend', type: 'select', options: BACKEND_CHOICES },
];

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
    case 'select':
      return z.enum(f.options);
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
  const data = loose.data as Record<string, unknown>;

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

// ---------------------------------------------------------------------------------------------
// Links.
// ---------------------------------------------------------------------------------------------

function encodeFieldsV1(record: Record<string, unknown>, fields: readonly WireField[]): unknown[] {
  return fields.map((f) => {
    const v = record[f.key];
    if (!f.options) return v ?? null;
    return typeof v === 'string' ? f.options.indexOf(v) : -1;
  });
}

function encodeV1(spec: ExperimentSpec): string {
  const layer = (l: LayerSpec): unknown[] => [
    V1_KINDS.indexOf(l.kind),
    ...encodeFieldsV1(l as unknown as Record<string, unknown>, V1_LAYER_FIELDS[l.kind] ?? []),
  ];
  const payload = [
    encodeFieldsV1(spec as unknown as Record<string, unknown>, V1_SETTINGS),
    spec.encoder.map(layer),
    spec.decoder.map(layer),
  ];
  return `1.${compressToEncodedURIComponent(JSON.stringify(payload))}`;
}

/** The experiment as a compact URL-safe string (for `#x=`); starts with the version, e.g. `1.`. */
export function encodeExperiment(spec: ExperimentSpec): string {
  return encodeV1(spec);
}

/** Reads tuple values into a plain object; select indices become option names (unknown ones stay raw). */
function readFieldsV1(tuple: readonly unknown[], offset: number, fields: readonly WireField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    if (offset + i >= tuple.length) return; // missing: the normaliser supplies the default
    const v = tuple[offset + i];
    if (f.options && typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < f.options.length) {
      out[f.key] = f.options[v];
    } else {
      out[f.key] = v;
    }
  });
  return out;
}

function readLayerV1(tuple: unknown): unknown {
  if (!Array.isArray(tuple) || tuple.length === 0) return tuple;
  const code: unknown = tuple[0];
  const kind = typeof code === 'number' && Number.isInteger(code) ? V1_KINDS[code] : undefined;
  if (kind === undefined) return { kind: code };
  return { kind, ...readFieldsV1(tuple, 1, V1_LAYER_FIELDS[kind]) };
}

type ReadResult = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

const V1PayloadSchema = z.tuple([z.array(z.unknown()), z.array(z.unknown()), z.array(z.unknown())]).rest(z.unknown());

function readV1(payload: unknown): ReadResult {
  const parsed = V1PayloadSchema.safeParse(payload);
  if (!parsed.success) return { ok: false, error: 'This link is damaged (its contents are not an experiment)' };
  const [settings, encoder, decoder] = parsed.data;
  for (const [name, list] of [
    ['encoder', encoder],
    ['decoder', decoder],
  ] as const) {
    if (list.length > MAX_LAYERS_PER_STACK) {
      return {
        ok: false,
        error: `This link has too many layers (${list.length} in the ${name}; the most is ${MAX_LAYERS_PER_STACK})`,
      };
    }
  }
  return {
    ok: true,
    value: {
      ...readFieldsV1(settings, 0, V1_SETTINGS),
      encoder: encoder.map(readLayerV1),
      decoder: decoder.map(readLayerV1),
    },
  };
}

/** One reader per link version ever written. Never remove one. */
const LINK_READERS: Record<number, (payload: unknown) => ReadResult> = {
  1: readV1,
};

const URI_SAFE = /^[A-Za-z0-9+\-$]*$/;

/** The payload of a link, a hash or a bare `1.xxx` string: whitespace removed, %-escapes undone. */
function extractPayload(text: string): string {
  let s = text.trim();
  const hashAt = s.indexOf('#');
  if (hashAt >= 0) {
    const fromHash = hashPart(s.slice(hashAt));
    if (fromHash !== null) s = fromHash;
  } else if (s.startsWith('x=')) {
    s = s.slice(2);
  }
  if (s.includes('%')) {
    try {
      s = decodeURIComponent(s);
    } catch {
      // keep it as it is; the alphabet check below reports it
    }
  }
  // Mail clients wrap long links; URL decoders may turn '+' into a space.
  return s.replace(/[\r\n\t]/g, '').replace(/ /g, '+');
}

/**
 * Reads an experiment from a link string made by encodeExperiment (a whole pasted URL or hash is
 * accepted too). Never throws; problems come back as ok:false with a message for people, repairs
 * as warnings.
 */
export function decodeExperiment(text: string): DecodeResult {
  try {
    return decodeInternal(text);
  } catch {
    return fail('This link is damaged (it could not be read)');
  }
}

function decodeInternal(text: unknown): DecodeResult {
  if (typeof text !== 'string') return fail('This link has no experiment in it');
  if (text.length > MAX_LINK_CHARS * 2) return fail(`This link is too long to be an experiment (${text.length} characters)`);
  const s = extractPayload(text);
  if (s.length === 0) return fail('This link has no experiment in it');
  if (s.length > MAX_LINK_CHARS) {
    return fail(`This link is too long to be an experiment (${s.length} characters; the most is ${MAX_LINK_CHARS})`);
  }
  const m = /^(\d{1,9})\.([\s\S]*)$/.exec(s);
  if (!m) return fail('This link is damaged (it has no version marker)');
  const version = Number(m[1]);
  const body = m[2];
  if (version > LINK_VERSION) return fail(`This link was made by a newer version (v${version}) of the app`);
  const reader = LINK_READERS[version];
  if (!reader) return fail(`This link is damaged (unknown format v${version})`);
  if (body.length === 0) return fail('This link has no experiment in it');
  if (!URI_SAFE.test(body)) return fail('This link is damaged (it contains characters a link never has)');
  const unpacked = lzDecompressedLength(body, MAX_LINK_JSON_CHARS);
  if (unpacked === null) return fail('This link is damaged (could not decompress it)');
  if (unpacked > MAX_LINK_JSON_CHARS) return fail('This link is damaged (it unpacks to far more than an experiment)');
  let json: string | null;
  try {
    json = decompressFromEncodedURIComponent(body);
  } catch {
    json = null;
  }
  if (!json) return fail('This link is damaged (could not decompress it)');
  let payload: unknown;
  try {
    payload = JSON.parse(json);
  } catch {
    return fail('This link is damaged (could not read what is in it)');
  }
  const read = reader(payload);
  if (!read.ok) return fail(read.error);
  return normalizeSpec(read.value, 'link');
}

/** The `x=` value of a location hash (`#x=...`, `#a=b&x=...`), or null when there is none. */
function hashPart(hash: string): string | null {
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  for (const part of h.split('&')) {
    if (part.startsWith('x=')) return part.slice(2);
  }
  return null;
}

/** Decodes the experiment in a location hash; null when the hash has no `x=` part. */
export function readHash(hash: string): DecodeResult | null {
  if (typeof hash !== 'string') return null;
  const part = hashPart(hash);
  return part === null ? null : decodeExperiment(part);
}

/** The location hash that shares this experiment: `#x=1....`. */
export function hashFor(spec: ExperimentSpec): string {
  return `#x=${encodeExperiment(spec)}`;
}

// ---------------------------------------------------------------------------------------------
// JSON files (Export / Import).
// ---------------------------------------------------------------------------------------------

/** Pretty JSON in the `{"app":"autoencoder-playground","version":1,"experiment":{...}}` envelope. */
export function specToJson(spec: ExperimentSpec): string {
  return JSON.stringify({ app: JSON_APP_ID, version: JSON_VERSION, experiment: spec }, null, 2);
}

/** One reader per JSON envelope version; each returns the experiment as a plain object. */
const JSON_READERS: Record<number, (envelope: Record<string, unknown>) => unknown> = {
  1: (envelope) => envelope.experiment,
};

/** Reads a file written by specToJson. Never throws. */
export function specFromJson(text: string): DecodeResult {
  try {
    if (typeof text !== 'string' || text.trim().length === 0) return fail('This file is empty');
    if (text.length > MAX_JSON_CHARS) {
      return fail(`This file is too big to be an experiment (${text.length} characters; the most is ${MAX_JSON_CHARS})`);
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return fail('This file is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return fail('This file is not an Autoencoder Playground experiment');
    }
    const envelope = value as Record<string, unknown>;
    if (envelope.app !== JSON_APP_ID) return fail('This file is not an Autoencoder Playground experiment');
    const version = envelope.version;
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
      return fail('This file is damaged (it has no valid version number)');
    }
    if (version > JSON_VERSION) return fail(`This file was made by a newer version (v${version}) of the app`);
    const reader = JSON_READERS[version];
    if (!reader) return fail(`This file is damaged (unknown format v${version})`);
    const experiment = reader(envelope);
    if (experiment === undefined || experiment === null) return fail('This file has no experiment in it');
    return normalizeSpec(experiment, 'file');
  } catch {
    return fail('This file could not be read');
  }
}
