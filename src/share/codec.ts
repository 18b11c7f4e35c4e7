/**
 * The share codec: the wire formats of an experiment. A short URL-safe link string and back, and the
 * JSON file envelope used by Export/Import. What a valid experiment is, and how a read one is
 * checked and repaired, is not here: both come from model/validate.ts. Pure: no React, no tfjs.
 *
 * Link format, version 1:  `1.` + lzString.compressToEncodedURIComponent(JSON.stringify(payload))
 *   payload  = [settings, encoder, decoder]
 *   settings = [dataset, loss, optimizer, learningRate, batchSize, epochs, seed, trainSize, backend]
 *   layer    = [kindCode, ...field values]
 * Kind codes, field order and select option indices come from the frozen V1 tables below, NOT from
 * the live catalogue or settings table: reordering either must never change what an old link means.
 *
 * Decoding never throws. A link is read by the reader for its version into a plain object in the
 * ExperimentSpec shape, which then goes through normalizeSpec (model/validate.ts), the same
 * normalisation an imported JSON file, a stored design and a saved run take.
 *
 * Growing the format (version 2): leave V1_* and readV1 exactly as they are. Add V2 tables (copy
 * V1 and append new kinds, fields or options), an encodeV2, and a readV2 that produces the same
 * plain-object shape; set LINK_VERSION = 2 and add `2: readV2` to LINK_READERS. If readV1 must
 * fill a new spec field, give it the value that reproduces the v1 behaviour (not a warning).
 * The fixtures in testdata/links-v1.json must keep decoding to exactly the same specs.
 */
import { compressToEncodedURIComponent, decompressFromEncodedURIComponent } from 'lz-string';
import { z } from 'zod';
import { MAX_LAYERS_PER_STACK, normalizeSpec, type DecodeResult } from '../model/validate';
import type { ExperimentSpec, LayerKind, LayerSpec } from '../model/spec';
import { VARIANT_DEFAULTS } from '../model/presets';
import { lzDecompressedLength } from './lzLength';

export type { DecodeResult } from '../model/validate';

/** The version new links are written with. */
export const LINK_VERSION = 3;
/** The version of the JSON file envelope written by specToJson. */
export const JSON_VERSION = 1;
export const JSON_APP_ID = 'autoencoder-playground';

/** Longest link payload accepted (a real link is well under 5,000 characters). */
export const MAX_LINK_CHARS = 20_000;
/** Longest text a link may unpack to (checked before unpacking; a real one is under 10,000). */
export const MAX_LINK_JSON_CHARS = 100_000;
/** Longest JSON file accepted. */
export const MAX_JSON_CHARS = 1_000_000;

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

// Version 2 (#16, the autoencoder family): v1's kinds and layer fields; the settings gain the L1 loss
// (appended to the loss options) and the variant fields (appended to the settings). Frozen as v1 is.
const V2_KINDS = V1_KINDS;
const V2_LAYER_FIELDS = V1_LAYER_FIELDS;
const V2_SETTINGS: readonly WireField[] = [
  { key: 'dataset', options: ['mnist', 'fashion-mnist'] },
  { key: 'loss', options: ['mse', 'bce', 'l1'] },
  { key: 'optimizer', options: ['adam', 'sgd', 'rmsprop'] },
  { key: 'learningRate' },
  { key: 'batchSize' },
  { key: 'epochs' },
  { key: 'seed' },
  { key: 'trainSize' },
  { key: 'backend', options: ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] },
  { key: 'variant', options: ['plain', 'denoising', 'sparse', 'vae', 'rankOrdered'] },
  { key: 'corruption', options: ['gaussian', 'saltPepper', 'mask'] },
  { key: 'noise' },
  { key: 'sparsity' },
  { key: 'codeDropout' },
  { key: 'codeNoise' },
  { key: 'beta' },
];

/** The v2 tables, for the test that checks they cover the live catalogue. */
export const V2_WIRE = { kinds: V2_KINDS, layerFields: V2_LAYER_FIELDS, settings: V2_SETTINGS } as const;

// Version 3 (#17, own images and synthetic sets): v2's kinds, layer fields and settings, but the data
// set is written as its id (a string: 'mnist', 'shapes', 'own:<name>') rather than an option index, so a
// link names an own image set. Frozen as v1 and v2 are.
const V3_KINDS = V2_KINDS;
const V3_LAYER_FIELDS = V2_LAYER_FIELDS;
const V3_SETTINGS: readonly WireField[] = [
  { key: 'dataset' },
  { key: 'loss', options: ['mse', 'bce', 'l1'] },
  { key: 'optimizer', options: ['adam', 'sgd', 'rmsprop'] },
  { key: 'learningRate' },
  { key: 'batchSize' },
  { key: 'epochs' },
  { key: 'seed' },
  { key: 'trainSize' },
  { key: 'backend', options: ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'] },
  { key: 'variant', options: ['plain', 'denoising', 'sparse', 'vae', 'rankOrdered'] },
  { key: 'corruption', options: ['gaussian', 'saltPepper', 'mask'] },
  { key: 'noise' },
  { key: 'sparsity' },
  { key: 'codeDropout' },
  { key: 'codeNoise' },
  { key: 'beta' },
];

/** The v3 tables (the link format written now), for the test that checks they cover the live catalogue. */
export const V3_WIRE = { kinds: V3_KINDS, layerFields: V3_LAYER_FIELDS, settings: V3_SETTINGS } as const;

function fail(error: string): DecodeResult {
  return { ok: false, error };
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

/** A link of `version` written with that version's tables. */
function encodeWith(spec: ExperimentSpec, version: number, wire: { kinds: readonly LayerKind[]; layerFields: Record<LayerKind, readonly WireField[]>; settings: readonly WireField[] }): string {
  const layer = (l: LayerSpec): unknown[] => [wire.kinds.indexOf(l.kind), ...encodeFieldsV1(l as unknown as Record<string, unknown>, wire.layerFields[l.kind] ?? [])];
  const payload = [encodeFieldsV1(spec as unknown as Record<string, unknown>, wire.settings), spec.encoder.map(layer), spec.decoder.map(layer)];
  return `${version}.${compressToEncodedURIComponent(JSON.stringify(payload))}`;
}

/** The v1 writer, kept so tests can make v1 links as old versions of the app did. */
export function encodeV1(spec: ExperimentSpec): string {
  return encodeWith(spec, 1, V1_WIRE);
}

/** The v2 writer, kept so tests can make v2 links as the #16 version of the app did. */
export function encodeV2(spec: ExperimentSpec): string {
  return encodeWith(spec, 2, V2_WIRE);
}

function encodeV3(spec: ExperimentSpec): string {
  return encodeWith(spec, 3, V3_WIRE);
}

/** The experiment as a compact URL-safe string (for `#x=`); starts with the version, e.g. `3.`. */
export function encodeExperiment(spec: ExperimentSpec): string {
  return encodeV3(spec);
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

type ReadResult = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

const V1PayloadSchema = z.tuple([z.array(z.unknown()), z.array(z.unknown()), z.array(z.unknown())]).rest(z.unknown());

function readV1(payload: unknown): ReadResult {
  return readTuples(payload, V1_SETTINGS, V1_KINDS, V1_LAYER_FIELDS, VARIANT_DEFAULTS);
}

function readV2(payload: unknown): ReadResult {
  return readTuples(payload, V2_SETTINGS, V2_KINDS, V2_LAYER_FIELDS, {});
}

function readV3(payload: unknown): ReadResult {
  return readTuples(payload, V3_SETTINGS, V3_KINDS, V3_LAYER_FIELDS, {});
}

/** A v1, v2 or v3 payload (same layout, different tables); `fill`: what the version means by the fields it lacks. */
function readTuples(
  payload: unknown,
  settingsTable: readonly WireField[],
  kinds: readonly LayerKind[],
  layerFields: Record<LayerKind, readonly WireField[]>,
  fill: Record<string, unknown>,
): ReadResult {
  const readLayer = (tuple: unknown): unknown => {
    if (!Array.isArray(tuple) || tuple.length === 0) return tuple;
    const code: unknown = tuple[0];
    const kind = typeof code === 'number' && Number.isInteger(code) ? kinds[code] : undefined;
    if (kind === undefined) return { kind: code };
    return { kind, ...readFieldsV1(tuple, 1, layerFields[kind]) };
  };
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
      // v1 links were made before the autoencoder family: plain autoencoders (#16), no warning.
      ...fill,
      ...readFieldsV1(settings, 0, settingsTable),
      encoder: encoder.map(readLayer),
      decoder: decoder.map(readLayer),
    },
  };
}

/** One reader per link version ever written. Never remove one. */
const LINK_READERS: Record<number, (payload: unknown) => ReadResult> = {
  1: readV1,
  2: readV2,
  3: readV3,
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
