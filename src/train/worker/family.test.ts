/** The family's worker analyses against hand-computed values: PCA's error, the manifold's codes, the rank curve, Generate. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../data/split';
import { pcaReconstruct, pcaTrainingMse } from '../../model/pca';
import { VARIANT_DEFAULTS } from '../../model/presets';
import type { ExperimentSpec } from '../../model/spec';
import { buildModel } from './buildModel';
import { fitPca, generate, manifoldCodes, normalQuantile, pcaBaseline, rankCurve, rankPoints } from './family';
import { lossFn, pixelsOf } from './training';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const guard = <T,>(p: Promise<T>): Promise<T> => p;
const noYield = async (): Promise<void> => undefined;

const SIDE = 4;
function dataset(count: number, seed: number): { count: number; height: number; width: number; channels: number; labels: Uint8Array; pixels: Uint8Array } {
  const rand = mulberry32(seed);
  // Images on a 2-D plane through pixel space, plus a little noise: PCA with k = 2 explains nearly all.
  const pixels = new Uint8Array(count * SIDE * SIDE);
  for (let i = 0; i < count; i++) {
    const a = rand();
    const b = rand();
    for (let j = 0; j < SIDE * SIDE; j++) {
      const v = 60 + 120 * a * (j % 2) + 60 * b * (j < 8 ? 1 : 0) + 10 * rand();
      pixels[i * SIDE * SIDE + j] = Math.round(v);
    }
  }
  return { count, height: SIDE, width: SIDE, channels: 1, labels: new Uint8Array(count), pixels };
}

describe('PCA baseline in the worker', () => {
  it('its training MSE equals the left-out eigenvalues / D, and its reconstructions are PCA’s', async () => {
    const data = dataset(400, 3);
    const all = Uint32Array.from({ length: 400 }, (_, i) => i);
    const fit = await fitPca(data, all, guard, noYield);
    const before = tf.memory().numTensors;
    const base = await pcaBaseline(fit, 2, { loss: 'mse' }, data, { trainIdx: all, testIdx: all, displayIdx: all.subarray(0, 4) });
    expect(tf.memory().numTensors).toBe(before);
    const expected = pcaTrainingMse({ ...fit, k: 2 });
    expect(base.trainLoss).toBeCloseTo(expected, 5);
    expect(base.testMse).toBeCloseTo(expected, 5);
    // The first display image, reconstructed in float64 on the CPU, matches the worker's (clipped) pixels.
    const x = Array.from(data.pixels.subarray(0, SIDE * SIDE), (v) => v / 255);
    const y = pcaReconstruct({ ...fit, k: 2 }, x);
    for (let j = 0; j < SIDE * SIDE; j++) expect(base.pixels[j]).toBeCloseTo(Math.min(1, Math.max(0, y[j])), 4);
    // k = D: exact.
    const full = await pcaBaseline(fit, SIDE * SIDE, { loss: 'mse' }, data, { trainIdx: all, testIdx: all, displayIdx: all.subarray(0, 4) });
    expect(full.testMse).toBeLessThan(1e-9);
  });

  it('measures each loss as the training step’s lossFn does, on at most 2,000 images', async () => {
    const data = dataset(2300, 5);
    const all = Uint32Array.from({ length: 2300 }, (_, i) => i);
    const fit = await fitPca(data, all, guard, noYield);
    // Test images in reverse order, so that the first 2,000 are not the training images' first 2,000.
    const testIdx = all.slice().reverse();
    for (const loss of ['mse', 'l1', 'bce'] as const) {
      for (const k of [0, 1, 3]) {
        const base = await pcaBaseline(fit, k, { loss }, data, { trainIdx: all, testIdx, displayIdx: all.subarray(0, 2) });
        // The truth: per-image float64 reconstructions, measured with tfjs (cpu) and the worker's lossFn.
        const truth = (indices: Uint32Array): [number, number] => {
          const x = pixelsOf(data, indices, 0, 2000);
          const y = new Float32Array(x.length);
          for (let i = 0; i < 2000; i++) y.set(pcaReconstruct({ ...fit, k }, x.subarray(i * 16, i * 16 + 16)), i * 16);
          return tf.tidy(() => {
            const xt = tf.tensor4d(x, [2000, SIDE, SIDE, 1]);
            const yt = tf.tensor4d(y, [2000, SIDE, SIDE, 1]);
            return [lossFn({ loss }, xt, yt).dataSync()[0], tf.losses.meanSquaredError(xt, yt).dataSync()[0]];
          });
        };
        const [testLoss, testMse] = truth(testIdx);
        const [trainLoss] = truth(all);
        expect(base.k).toBe(k);
        expect(base.testLoss).toBeCloseTo(testLoss, 5);
        expect(base.testMse).toBeCloseTo(testMse, 5);
        expect(base.trainLoss).toBeCloseTo(trainLoss, 5);
        expect(base.testLoss).not.toBeCloseTo(base.trainLoss, 7);
      }
    }
  });
});

describe('Generate', () => {
  it('the manifold codes are the normal quantiles on a grid', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 9);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.05)).toBeCloseTo(-1.644854, 5);
    const codes = manifoldCodes(10);
    expect(codes.length).toBe(200);
    expect(codes[0]).toBeCloseTo(normalQuantile(0.05), 6); // first column
    expect(codes[1]).toBeCloseTo(normalQuantile(0.95), 6); // top row: the largest second value
    expect(codes[2 * 9]).toBeCloseTo(normalQuantile(0.95), 6);
  });

  it('decodes prior samples with the model’s decoder weights, leaves no tensor behind', async () => {
    const spec = {
      encoder: [{ kind: 'flatten' as const }, { kind: 'dense' as const, units: 2, activation: 'linear' as const }],
      decoder: [{ kind: 'dense' as const, units: SIDE * SIDE, activation: 'sigmoid' as const }, { kind: 'reshape' as const, targetShape: [SIDE, SIDE, 1] }],
      seed: 1,
    };
    const built = buildModel(spec, [SIDE, SIDE, 1]);
    const before = tf.memory().numTensors;
    const g = await generate(spec, [2], built.model, 5, 42, guard);
    expect(tf.memory().numTensors).toBe(before);
    expect(g.pixels.length).toBe(5 * SIDE * SIDE);
    expect(g.manifold?.side).toBe(10);
    // By hand: the sigmoid of the decoder's dense layer at the manifold's first code.
    const [kernel, bias] = built.model.getLayer('dec0_dense').getWeights().map((w) => w.arraySync() as number[][] | number[]);
    const z = [normalQuantile(0.05), normalQuantile(0.95)];
    const k = kernel as number[][];
    const b = bias as number[];
    for (let j = 0; j < SIDE * SIDE; j++) {
      const pre = z[0] * k[0][j] + z[1] * k[1][j] + b[j];
      expect(g.manifold?.pixels[j]).toBeCloseTo(1 / (1 + Math.exp(-pre)), 5);
    }
    // Same seed, same samples.
    const again = await generate(spec, [2], built.model, 5, 42, guard);
    expect(Array.from(again.pixels)).toEqual(Array.from(g.pixels));
    built.model.dispose();
  });
});

describe('the rank curve', () => {
  it('equals the hand-computed error with each image’s r largest code values kept', async () => {
    const spec: ExperimentSpec = {
      dataset: 'mnist',
      encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 3, activation: 'linear' }],
      decoder: [{ kind: 'dense', units: SIDE * SIDE, activation: 'linear' }, { kind: 'reshape', targetShape: [SIDE, SIDE, 1] }],
      loss: 'mse',
      optimizer: 'adam',
      learningRate: 0.01,
      batchSize: 8,
      epochs: 1,
      seed: 2,
      trainSize: 16,
      backend: 'cpu',
      ...VARIANT_DEFAULTS,
    };
    const built = buildModel(spec, [SIDE, SIDE, 1]);
    const data = dataset(6, 9);
    const idx = Uint32Array.from({ length: 6 }, (_, i) => i);
    const before = tf.memory().numTensors;
    const curve = await rankCurve(spec, built, data, idx, guard, noYield);
    expect(tf.memory().numTensors).toBe(before);
    expect(curve.ranks).toEqual([1, 2, 3]);
    // By hand, with the weights read out: code = x·W1 + b1; keep the r largest |code|; out = kept·W2 + b2.
    const [w1, b1] = built.model.getLayer('enc1_dense').getWeights().map((w) => w.arraySync()) as [number[][], number[]];
    const [w2, b2] = built.model.getLayer('dec0_dense').getWeights().map((w) => w.arraySync()) as [number[][], number[]];
    for (let r = 1; r <= 3; r++) {
      let err = 0;
      for (let i = 0; i < 6; i++) {
        const x = Array.from(data.pixels.subarray(i * 16, i * 16 + 16), (v) => v / 255);
        const code = b1.map((bb, c) => bb + x.reduce((a, v, j) => a + v * w1[j][c], 0));
        const order = code.map((_, c) => c).sort((a, b) => Math.abs(code[b]) - Math.abs(code[a]));
        const kept = code.map((v, c) => (order.indexOf(c) < r ? v : 0));
        for (let j = 0; j < 16; j++) {
          const y = b2[j] + kept.reduce((a, v, c) => a + v * w2[c][j], 0);
          err += (x[j] - y) ** 2;
        }
      }
      expect(curve.errors[r - 1]).toBeCloseTo(err / (6 * 16), 5);
    }
    expect(rankPoints(200)).toHaveLength(64);
    expect(rankPoints(200)[0]).toBe(1);
    expect(rankPoints(200)[63]).toBe(200);
    built.model.dispose();
  });
});
