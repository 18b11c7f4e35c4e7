/**
 * The latent explorer's worker side (#17) against independent computations: a separately built decoder
 * with the weights copied in, the encoder and model run directly, and a dense decoder computed by hand.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedDataset } from '../../data/decode';
import { mulberry32 } from '../../data/split';
import type { LayerSpec } from '../../model/spec';
import { buildDecoder, buildModel, type BuiltModel, type ModelFields } from './buildModel';
import { decodeCodes, latentSnapshot } from './latent';

const guard = <T,>(p: Promise<T>): Promise<T> => p;

beforeAll(() => {
  const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  setWasmPaths(join(dirname(pkg), 'dist') + '/');
});

const SIDE = 8;
const conv = (filters: number, activation: 'linear' | 'sigmoid' = 'linear'): LayerSpec => ({ kind: 'conv2d', filters, kernelSize: 3, strides: 1, padding: 'same', activation });
const leaky: LayerSpec = { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 };

const SPECS: Record<'conv' | 'dense' | 'linear', ModelFields> = {
  /** Tiny conv AE: 8×8×1 → 4×4×2 code → 8×8×1. */
  conv: {
    seed: 3,
    encoder: [conv(4), leaky, { kind: 'maxPool2d', poolSize: 2, strides: 2 }, conv(2), leaky],
    decoder: [{ kind: 'upSampling2d', size: 2 }, conv(1, 'sigmoid')],
  },
  /** Dense AE with a 3-value code and a sigmoid output. */
  dense: {
    seed: 5,
    encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 3, activation: 'linear' }],
    decoder: [
      { kind: 'dense', units: SIDE * SIDE, activation: 'sigmoid' },
      { kind: 'reshape', targetShape: [SIDE, SIDE, 1] },
    ],
  },
  /** Dense AE with a linear output, so that clipping to [0, 1] matters. */
  linear: {
    seed: 7,
    encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 3, activation: 'linear' }],
    decoder: [
      { kind: 'dense', units: SIDE * SIDE, activation: 'linear' },
      { kind: 'reshape', targetShape: [SIDE, SIDE, 1] },
    ],
  },
};

function dataset(count: number, seed: number): DecodedDataset {
  const rand = mulberry32(seed);
  const pixels = Uint8Array.from({ length: count * SIDE * SIDE }, () => Math.floor(rand() * 256));
  const labels = Uint8Array.from({ length: count }, (_, i) => (i * 7) % 5);
  return { count, height: SIDE, width: SIDE, channels: 1, labels, pixels };
}

/** Runs a model on images `idx` of `data`, as floats in [0, 1] (the independent path). */
function predictOn(model: tf.LayersModel, data: DecodedDataset, idx: ArrayLike<number>): Float32Array {
  const per = data.height * data.width * data.channels;
  const x = new Float32Array(idx.length * per);
  for (let i = 0; i < idx.length; i++) for (let j = 0; j < per; j++) x[i * per + j] = data.pixels[idx[i] * per + j] / 255;
  return tf.tidy(() => {
    const out = model.predict(tf.tensor4d(x, [idx.length, data.height, data.width, data.channels])) as tf.Tensor;
    return out.dataSync() as Float32Array;
  });
}

const clip01 = (v: number): number => Math.min(1, Math.max(0, v));
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe.each(['cpu', 'wasm'] as const)('latent explorer on %s', (backend) => {
  const built: Partial<Record<keyof typeof SPECS, BuiltModel>> = {};
  const get = (k: keyof typeof SPECS): BuiltModel => {
    const b = built[k];
    if (!b) throw new Error(`model ${k} not built`);
    return b;
  };
  const data = dataset(640, 11);

  beforeAll(async () => {
    await tf.setBackend(backend);
    await tf.ready();
    expect(tf.getBackend()).toBe(backend);
    for (const k of Object.keys(SPECS) as (keyof typeof SPECS)[]) built[k] = buildModel(SPECS[k], [SIDE, SIDE, 1]);
  });
  afterAll(() => {
    for (const b of Object.values(built)) b?.model.dispose();
  });

  const codeShapeOf = (k: keyof typeof SPECS): number[] => get(k).encoder.outputs[0].shape.slice(1) as number[];

  it('the code shapes are the ones the specs make', () => {
    expect(codeShapeOf('conv')).toEqual([4, 4, 2]);
    expect(codeShapeOf('dense')).toEqual([3]);
  });

  it.each(['conv', 'dense', 'linear'] as const)('(a) decodeCodes equals a separately built decoder with copied weights, clipped (%s)', async (k) => {
    const b = get(k);
    const codeShape = codeShapeOf(k);
    const d = codeShape.reduce((x, y) => x * y, 1);
    const n = 6;
    const rand = mulberry32(99);
    const codes = Float32Array.from({ length: n * d }, () => (rand() - 0.5) * 6);
    const got = await decodeCodes(b, SPECS[k], codes, n, guard);
    expect(got.length).toBe(n * SIDE * SIDE);
    const decoder = buildDecoder(SPECS[k], codeShape, b.model);
    try {
      const expected = tf.tidy(() => (decoder.predict(tf.tensor(codes, [n, ...codeShape])) as tf.Tensor).dataSync());
      expect(maxAbsDiff(got, Array.from(expected, clip01))).toBeLessThan(1e-5);
      if (k === 'linear') {
        // The linear decoder's raw output leaves [0, 1]: the clipping is tested, not vacuous.
        expect(expected.some((v) => v < 0) && expected.some((v) => v > 1)).toBe(true);
        expect(got.some((v) => v === 0) && got.some((v) => v === 1)).toBe(true);
      }
    } finally {
      decoder.dispose();
    }
    for (const v of got) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it.each(['dense', 'linear'] as const)('(a) decodeCodes of a dense decoder equals clip(act(c·W + b)) computed by hand in float64 (%s)', async (k) => {
    const b = get(k);
    const [W, bias] = b.model.getLayer('dec0_dense').getWeights().map((t) => Array.from(t.dataSync()));
    const D = SIDE * SIDE;
    expect(W.length).toBe(3 * D);
    const codes = Float32Array.from([0.5, -1.25, 2, -3, 0, 1.5, 0, 0, 0]);
    const got = await decodeCodes(b, SPECS[k], codes, 3, guard);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < D; j++) {
        let z = bias[j];
        for (let c = 0; c < 3; c++) z += codes[i * 3 + c] * W[c * D + j];
        const y = k === 'dense' ? 1 / (1 + Math.exp(-z)) : z;
        expect(Math.abs(got[i * D + j] - clip01(y))).toBeLessThan(1e-5);
      }
    }
  });

  it.each(['conv', 'dense', 'linear'] as const)('(b) latentSnapshot: codes, reconstructions, originals and labels of the test images (%s)', async (k) => {
    const b = get(k);
    const d = codeShapeOf(k).reduce((x, y) => x * y, 1);
    const per = SIDE * SIDE;
    // A shuffled test split of 600 images: more than one batch of 250.
    const rand = mulberry32(5);
    const testIdx = Uint32Array.from({ length: 640 }, (_, i) => i);
    for (let i = testIdx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [testIdx[i], testIdx[j]] = [testIdx[j], testIdx[i]];
    }
    const split = testIdx.slice(0, 600);
    const snap = await latentSnapshot(b, data, split, 1000, guard);
    expect(snap.count).toBe(600);
    expect(snap.codeShape).toEqual(codeShapeOf(k));
    expect(Array.from(snap.indices)).toEqual(Array.from(split));
    expect(snap.codes.length).toBe(600 * d);
    expect(snap.originals.length).toBe(600 * per);
    expect(snap.reconstructions.length).toBe(600 * per);

    const codes = predictOn(b.encoder, data, split);
    expect(maxAbsDiff(snap.codes, codes)).toBeLessThan(1e-5);
    const recon = Array.from(predictOn(b.model, data, split), (v) => Math.round(clip01(v) * 255));
    expect(maxAbsDiff(snap.reconstructions, recon)).toBeLessThanOrEqual(1);
    // Bytes that sit far from a rounding boundary are equal exactly (nearly all of them).
    const exact = recon.filter((v, i) => v === snap.reconstructions[i]).length;
    expect(exact).toBeGreaterThan(recon.length * 0.99);
    for (let i = 0; i < 600; i++) {
      const src = split[i];
      expect(snap.labels[i]).toBe((src * 7) % 5);
      for (let j = 0; j < per; j++) {
        if (snap.originals[i * per + j] !== data.pixels[src * per + j]) {
          expect([i, j, snap.originals[i * per + j]]).toEqual([i, j, data.pixels[src * per + j]]);
        }
      }
    }
  });

  it('(b) the count is capped by max and by the test split’s length', async () => {
    const b = get('conv');
    const idx = Uint32Array.from([9, 3, 7, 1, 0, 5, 2]);
    const all = await latentSnapshot(b, data, idx, 100, guard);
    expect(all.count).toBe(7);
    expect(Array.from(all.indices)).toEqual([9, 3, 7, 1, 0, 5, 2]);
    expect(Array.from(all.labels)).toEqual([9, 3, 7, 1, 0, 5, 2].map((i) => (i * 7) % 5));
    const three = await latentSnapshot(b, data, idx, 3, guard);
    expect(three.count).toBe(3);
    expect(Array.from(three.indices)).toEqual([9, 3, 7]);
    expect(three.codes.length).toBe(3 * 32);
    expect(three.reconstructions.length).toBe(3 * SIDE * SIDE);
    // The first three are the same as in the longer snapshot.
    expect(maxAbsDiff(three.codes, all.codes.subarray(0, 3 * 32))).toBeLessThan(1e-6);
    const none = await latentSnapshot(b, data, idx, 0, guard);
    expect(none.count).toBe(0);
    expect(none.codes.length).toBe(0);
  });

  it.each(['conv', 'dense', 'linear'] as const)('(c) decoding an image’s code gives its reconstruction (within 1/255) (%s)', async (k) => {
    const b = get(k);
    const per = SIDE * SIDE;
    const idx = Uint32Array.from([4, 17, 250, 399, 612]);
    const snap = await latentSnapshot(b, data, idx, 10, guard);
    const decoded = await decodeCodes(b, SPECS[k], snap.codes, snap.count, guard);
    expect(decoded.length).toBe(snap.count * per);
    const bytes = Array.from(decoded, (v) => Math.round(v * 255));
    expect(maxAbsDiff(bytes, snap.reconstructions)).toBeLessThanOrEqual(1);
  });

  it('(d) no tensors leak over 5 decodeCodes and 2 latentSnapshot calls', async () => {
    const b = get('conv');
    const idx = Uint32Array.from({ length: 300 }, (_, i) => i);
    // Warm up once, so lazily created state is not counted.
    await decodeCodes(b, SPECS.conv, new Float32Array(32), 1, guard);
    await latentSnapshot(b, data, idx, 300, guard);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await decodeCodes(b, SPECS.conv, new Float32Array(32 * (i + 1)).fill(0.1 * i), i + 1, guard);
    await latentSnapshot(b, data, idx, 300, guard);
    await latentSnapshot(b, data, idx, 10, guard);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('(e) decodeCodes with the wrong number of values rejects with a message', async () => {
    const b = get('dense');
    await expect(decodeCodes(b, SPECS.dense, new Float32Array(7), 2, guard)).rejects.toThrow(/expected 2 codes of 3 values, got 7 values/);
    await expect(decodeCodes(b, SPECS.dense, new Float32Array(3), 2, guard)).rejects.toThrow(/3 values/);
    const before = tf.memory().numTensors;
    await expect(decodeCodes(get('conv'), SPECS.conv, new Float32Array(31), 1, guard)).rejects.toThrow(/32 values/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
