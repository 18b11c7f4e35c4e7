/**
 * The model file's reader (#18): what a user can choose wrongly gets a clear message, and a good
 * pair reads back exactly what was written (spec, weights byte for byte, what it was trained on).
 */
import { describe, expect, it } from 'vitest';
import { PRESETS } from '../model/presets';
import { METADATA_KEY, modelJsonText, readModelFiles, weightBytes, WEIGHTS_NAME, type ExportedModel } from './modelFile';

const spec = PRESETS[0].spec;

/** A stand-in export: two float32 weights, 3×2 and 2, so 8 floats = 32 bytes. */
function exported(): ExportedModel {
  const weights = Float32Array.from([1, 2, 3, 4, 5, 6, -1, 0.5]);
  return {
    modelTopology: { class_name: 'Model', config: { name: 'autoencoder', layers: [] } },
    weightSpecs: [
      { name: 'enc0_dense/kernel', shape: [3, 2], dtype: 'float32' },
      { name: 'enc0_dense/bias', shape: [2], dtype: 'float32' },
    ],
    weightData: weights.buffer,
    spec,
    generatedBy: 'test',
  };
}

const encode = (text: string): ArrayBuffer => new TextEncoder().encode(text).buffer;
const meta = { link: 'https://example.org/#x=1.abc', trained: { steps: 12, epochs: 2, backend: 'wasm' as const }, exportedAt: '2026-12-04T00:00:00Z' };

function files(json: string, weights: ArrayBuffer | null = exported().weightData): { name: string; bytes: ArrayBuffer }[] {
  return weights ? [{ name: 'model.json', bytes: encode(json) }, { name: WEIGHTS_NAME, bytes: weights }] : [{ name: 'model.json', bytes: encode(json) }];
}

describe('model.json', () => {
  it('is tfjs’ ModelJSON with the weights file named as downloaded, and our metadata', () => {
    const json = JSON.parse(modelJsonText(exported(), meta)) as Record<string, unknown>;
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest).toEqual([{ paths: ['./model.weights.bin'], weights: exported().weightSpecs }]);
    expect(json.userDefinedMetadata).toEqual({ [METADATA_KEY]: { version: 1, spec, ...meta } });
  });

  it('reads back what was written, weights byte for byte', () => {
    const r = readModelFiles(files(modelJsonText(exported(), meta)));
    if (!r.ok) throw new Error(r.error);
    expect(r.model.spec).toEqual(spec);
    expect(r.model.trained).toEqual(meta.trained);
    expect(Array.from(new Float32Array(r.model.weightData))).toEqual([1, 2, 3, 4, 5, 6, -1, 0.5]);
    expect(weightBytes(r.model.weightSpecs)).toBe(32);
  });

  it('says what is wrong with a bad choice of files', () => {
    const good = modelJsonText(exported(), meta);
    const cases: [ReturnType<typeof files>, RegExp][] = [
      [[{ name: WEIGHTS_NAME, bytes: exported().weightData }], /no \.json file was chosen/],
      [[{ name: 'model.json', bytes: encode('{"format": "layers-mo') }, { name: WEIGHTS_NAME, bytes: exported().weightData }], /model\.json is not valid JSON/],
      [files('{"hello": 1}'), /not a TensorFlow\.js layers model/],
      [files(good, null), /The weights file model\.weights\.bin is missing/],
      [files(good, new ArrayBuffer(28)), /has 28 bytes but model\.json describes 32/],
      [files(JSON.stringify({ ...JSON.parse(good), userDefinedMetadata: {} })), /not exported by the Autoencoder Playground/],
      [files(JSON.stringify({ ...JSON.parse(good), userDefinedMetadata: { [METADATA_KEY]: { version: 1, spec: { hello: 1 } } } })), /no experiment in it/],
      [[...files(good), { name: 'other.json', bytes: encode('{}') }], /one model at a time/],
    ];
    for (const [chosen, message] of cases) {
      const r = readModelFiles(chosen);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(message);
    }
  });
});
