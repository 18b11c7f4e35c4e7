/**
 * The model file (#18): a trained model in the TensorFlow.js layers format, `model.json` (topology,
 * weights manifest, our metadata) + `model.weights.bin` (the weights, little-endian, in manifest
 * order), as tfjs' own browserDownloads writes them, so any tfjs program loads it with
 * tf.loadLayersModel. This module writes model.json and reads the pair back (checks and clear
 * messages); the worker (worker/exportModel.ts) makes the artifacts and loads the weights.
 * Pure: no tfjs, no React.
 */
import { normalizeSpec } from '../model/validate';
import type { BackendName, ExperimentSpec } from '../model/spec';

export const MODEL_JSON_NAME = 'model.json';
export const WEIGHTS_NAME = 'model.weights.bin';
/** The key of our metadata in model.json's `userDefinedMetadata` (tfjs keeps that field when it loads and saves). */
export const METADATA_KEY = 'autoencoderPlayground';
export const MODEL_FILE_VERSION = 1;
/** model.json bigger than this is not ours (a topology of 128 layers is well under 1 MB). */
const MAX_MODEL_JSON_BYTES = 10_000_000;

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** The dtypes our weights can have (tfjs' WeightsManifestEntry, without quantization). */
export type WeightDtype = 'float32' | 'int32' | 'bool';
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: WeightDtype;
}

/** What the model was trained on, as the page knew it when it exported. */
export interface TrainedInfo {
  /** Training steps done. */
  steps: number;
  /** Epochs finished (an export while paused can be mid-epoch). */
  epochs: number;
  /** The backend it trained on, if known. */
  backend: BackendName | null;
}

/** Our metadata in model.json: the spec the model came from and the link back to the experiment. */
export interface ModelFileMetadata {
  version: number;
  spec: ExperimentSpec;
  /** The share link of `spec` (opens the experiment in the playground). */
  link: string;
  trained: TrainedInfo;
  exportedAt: string;
}

/** What the worker's export hands the page: tfjs' artifacts and the spec the model was built from. */
export interface ExportedModel {
  modelTopology: JsonObject;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
  spec: ExperimentSpec;
  generatedBy: string;
}

/** A model file read on the page, checked, for the worker to load. */
export interface ModelFileContents {
  modelTopology: JsonObject;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
  spec: ExperimentSpec;
  trained: TrainedInfo;
}

/** model.json's text: tfjs' ModelJSON (format 'layers-model') with our metadata. */
export function modelJsonText(model: ExportedModel, meta: Omit<ModelFileMetadata, 'version' | 'spec'>): string {
  const metadata: ModelFileMetadata = { version: MODEL_FILE_VERSION, spec: model.spec, ...meta };
  return JSON.stringify({
    format: 'layers-model',
    generatedBy: model.generatedBy,
    convertedBy: null,
    modelTopology: model.modelTopology,
    weightsManifest: [{ paths: [`./${WEIGHTS_NAME}`], weights: model.weightSpecs }],
    userDefinedMetadata: { [METADATA_KEY]: metadata },
  });
}

const DTYPE_BYTES: Record<WeightDtype, number> = { float32: 4, int32: 4, bool: 1 };

/** Bytes the weights of these specs take in the weights file. */
export function weightBytes(specs: readonly WeightSpec[]): number {
  return specs.reduce((sum, w) => sum + w.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[w.dtype], 0);
}

export type ReadModelResult = { ok: true; model: ModelFileContents; warnings: string[] } | { ok: false; error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isJsonObject(v: unknown): v is JsonObject {
  return isObject(v);
}

function baseName(path: string): string {
  return path.split('/').pop() ?? path;
}

function readWeightSpec(v: unknown): WeightSpec | string {
  if (!isObject(v) || typeof v.name !== 'string' || !Array.isArray(v.shape)) return 'an entry of its weights manifest is damaged';
  const shape = v.shape;
  if (!shape.every((d): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 0)) return `the shape of weight ${v.name} is damaged`;
  if (v.quantization !== undefined) return `weight ${v.name} is quantized, which the playground does not read`;
  if (v.dtype !== 'float32' && v.dtype !== 'int32' && v.dtype !== 'bool') return `weight ${v.name} has dtype ${String(v.dtype)}, which the playground does not read`;
  return { name: v.name, shape, dtype: v.dtype };
}

function readTrained(v: unknown): TrainedInfo {
  const r = isObject(v) ? v : {};
  const count = (x: unknown): number => (typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : 0);
  const backends: readonly string[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
  const backend = typeof r.backend === 'string' && backends.includes(r.backend) ? (r.backend as BackendName) : null;
  return { steps: count(r.steps), epochs: count(r.epochs), backend };
}

/**
 * Reads a model file chosen on the page: model.json and the weights file(s) its manifest names,
 * matched by file name. Checks what can be checked without tfjs (JSON, the tfjs fields, our
 * metadata and its spec, every weights file there, the byte count); never throws.
 */
export function readModelFiles(files: readonly { name: string; bytes: ArrayBuffer }[]): ReadModelResult {
  const fail = (error: string): ReadModelResult => ({ ok: false, error });
  const jsons = files.filter((f) => f.name.toLowerCase().endsWith('.json'));
  if (jsons.length === 0) return fail(`Choose ${MODEL_JSON_NAME} together with its weights file (${WEIGHTS_NAME}): no .json file was chosen`);
  if (jsons.length > 1) return fail(`Choose one model at a time: ${jsons.map((f) => f.name).join(', ')} are all .json files`);
  const json = jsons[0];
  if (json.bytes.byteLength > MAX_MODEL_JSON_BYTES) return fail(`${json.name} is too big to be a model description (${json.bytes.byteLength} bytes)`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json.bytes));
  } catch {
    return fail(`${json.name} is not valid JSON`);
  }
  if (!isObject(value) || !isJsonObject(value.modelTopology) || !Array.isArray(value.weightsManifest)) {
    return fail(`${json.name} is not a TensorFlow.js layers model (it has no modelTopology and weightsManifest)`);
  }
  const udm = value.userDefinedMetadata;
  const meta = isObject(udm) ? udm[METADATA_KEY] : undefined;
  if (!isObject(meta)) {
    return fail(`${json.name} was not exported by the Autoencoder Playground (it has no playground metadata, so the experiment it belongs to is unknown)`);
  }
  if (typeof meta.version !== 'number' || meta.version > MODEL_FILE_VERSION) {
    return fail(`${json.name} was written by a newer version of the playground (model file version ${String(meta.version)})`);
  }
  const decoded = normalizeSpec(meta.spec, 'file');
  if (!decoded.ok) return fail(`${json.name}: ${decoded.error}`);

  const weightSpecs: WeightSpec[] = [];
  const parts: ArrayBuffer[] = [];
  for (const group of value.weightsManifest) {
    if (!isObject(group) || !Array.isArray(group.paths) || !Array.isArray(group.weights)) return fail(`${json.name}: its weights manifest is damaged`);
    for (const w of group.weights) {
      const spec = readWeightSpec(w);
      if (typeof spec === 'string') return fail(`${json.name}: ${spec}`);
      weightSpecs.push(spec);
    }
    for (const path of group.paths) {
      if (typeof path !== 'string') return fail(`${json.name}: its weights manifest is damaged`);
      const name = baseName(path);
      const file = files.find((f) => f.name === name);
      if (!file) return fail(`The weights file ${name} is missing: choose it together with ${json.name}`);
      parts.push(file.bytes);
    }
  }
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const expected = weightBytes(weightSpecs);
  if (total !== expected) {
    return fail(`The weights file has ${total} bytes but ${json.name} describes ${expected}: it is not this model's weights file, or it is damaged`);
  }
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    weightData.set(new Uint8Array(p), at);
    at += p.byteLength;
  }
  return {
    ok: true,
    model: { modelTopology: value.modelTopology, weightSpecs, weightData: weightData.buffer, spec: decoded.spec, trained: readTrained(meta.trained) },
    warnings: decoded.warnings,
  };
}
