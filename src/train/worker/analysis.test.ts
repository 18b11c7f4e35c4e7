/**
 * The copy test and the linear probe (analysis.ts) on data with a known answer, on the cpu backend:
 * - the probe separates codes that are linearly separable by construction (~100%) and is at chance
 *   on labels drawn independently of the images;
 * - the copy test's error is 0 for a model whose output is its input, and for a constant-output model
 *   it is the mean squared error computed here by hand (noise: the closed form E(U − c)² = 1/3 − c + c²).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DecodedDataset } from '../../data/decode';
import { mulberry32 } from '../../data/split';
import { copyTest, linearProbe } from './analysis';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const SIDE = 4;
const SIZE = SIDE * SIDE;
const CLASSES = 10;

/**
 * Images whose class c shows as pixel c at full brightness over dim noise (0-100 of 255): the pixels,
 * and so an identity encoder's codes, are linearly separable. `randomLabels`: labels drawn apart from the images.
 */
function dataset(count: number, seed: number, randomLabels: boolean): DecodedDataset {
  const rand = mulberry32(seed);
  const labels = new Uint8Array(count);
  const pixels = new Uint8Array(count * SIZE);
  for (let i = 0; i < count; i++) {
    const c = Math.floor(rand() * CLASSES);
    for (let j = 0; j < SIZE; j++) pixels[i * SIZE + j] = Math.floor(rand() * 101);
    pixels[i * SIZE + c] = 255;
    labels[i] = randomLabels ? Math.floor(rand() * CLASSES) : c;
  }
  return { count, height: SIDE, width: SIDE, channels: 1, labels, pixels };
}

const range = (from: number, to: number): Uint32Array => Uint32Array.from({ length: to - from }, (_, i) => from + i);

function identityModel(): tf.LayersModel {
  return tf.sequential({ layers: [tf.layers.activation({ activation: 'linear', inputShape: [SIDE, SIDE, 1] })] });
}

/** Outputs `c` everywhere, whatever the input (zero kernel, bias c). */
function constantModel(c: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [SIDE, SIDE, 1] }),
      tf.layers.dense({ units: SIZE, kernelInitializer: 'zeros', biasInitializer: tf.initializers.constant({ value: c }) }),
      tf.layers.reshape({ targetShape: [SIDE, SIDE, 1] }),
    ],
  });
}

/** Mean of f(pixel in [0, 1]) over the first n images of idx, in float64. */
function meanOver(data: DecodedDataset, idx: Uint32Array, n: number, f: (v: number) => number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < SIZE; j++) sum += f(data.pixels[idx[i] * SIZE + j] / 255);
  return sum / (n * SIZE);
}

describe('linear probe', () => {
  it('reaches ~100% on linearly separable codes', async () => {
    const data = dataset(3000, 1, false);
    const encoder = identityModel();
    const r = await linearProbe(encoder, data, range(0, 2000), range(2000, 3000), CLASSES);
    encoder.dispose();
    expect(r.trainCount).toBe(2000);
    expect(r.testCount).toBe(1000);
    expect(r.codeSize).toBe(SIZE);
    expect(r.codeAccuracy).toBeGreaterThanOrEqual(0.98);
    expect(r.pixelAccuracy).toBeGreaterThanOrEqual(0.98);
  });

  it('is at chance on labels drawn independently of the images', async () => {
    // Whatever the classifier predicts, each of the 1,000 test labels matches it with probability 1/10
    // independently: accuracy ~ Binomial(1000, 0.1)/1000, standard deviation 0.0095. ±0.05 is over 5σ.
    const data = dataset(3000, 2, true);
    const encoder = identityModel();
    const r = await linearProbe(encoder, data, range(0, 2000), range(2000, 3000), CLASSES);
    encoder.dispose();
    expect(Math.abs(r.codeAccuracy - 0.1)).toBeLessThan(0.05);
    expect(Math.abs(r.pixelAccuracy - 0.1)).toBeLessThan(0.05);
  });
});

describe('copy test', () => {
  const data = dataset(300, 3, false);
  const other = dataset(250, 4, false);
  const testIdx = range(0, 300);
  const otherIdx = range(0, 250);
  const n = 200; // COPY_N of each kind

  it('a model whose output is its input copies everything: error 0', async () => {
    const model = identityModel();
    const before = tf.memory().numTensors;
    const results = await copyTest({ seed: 1 }, model, data, testIdx, { data: other, testIdx: otherIdx, label: 'other' });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    expect(results.map((r) => r.category)).toEqual(['test', 'noise', 'otherDataset', 'inverted']);
    for (const r of results) {
      expect(r.count).toBe(n);
      expect(r.loss).toBe(0);
      expect(Array.from(r.samples.reconstructions)).toEqual(Array.from(r.samples.originals));
    }
  });

  it('a constant-output model has the mean squared error computed by hand', async () => {
    const c = 0.3;
    const model = constantModel(c);
    const results = await copyTest({ seed: 1 }, model, data, testIdx, { data: other, testIdx: otherIdx, label: 'other' });
    model.dispose();
    const loss = Object.fromEntries(results.map((r) => [r.category, r.loss]));
    const cf = Math.fround(c);
    expect(loss.test).toBeCloseTo(meanOver(data, testIdx, n, (v) => (v - cf) ** 2), 5);
    expect(loss.otherDataset).toBeCloseTo(meanOver(other, otherIdx, n, (v) => (v - cf) ** 2), 5);
    expect(loss.inverted).toBeCloseTo(meanOver(data, testIdx, n, (v) => (1 - v - cf) ** 2), 5);
    // Uniform noise: E(U − c)² = 1/3 − c + c²; over 3,200 values the mean's standard deviation is 0.0024.
    expect(Math.abs(loss.noise - (1 / 3 - c + c * c))).toBeLessThan(0.0125);
  });
});
