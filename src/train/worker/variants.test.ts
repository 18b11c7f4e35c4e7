/**
 * The autoencoder family's pieces against hand-computed values and closed forms (#16), and every
 * variant training for real under the CPU backend with a flat tensor count.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../data/split';
import { VARIANT_DEFAULTS } from '../../model/presets';
import type { ExperimentSpec, VariantId } from '../../model/spec';
import { buildModel } from './buildModel';
import { lossFn, makeTrainingOptimizer, variantObjective, variantStep } from './training';
import { corrupt, klPerExample, klTerm, l1Penalty, reparameterize, topRMask, trelu } from './variants';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (t: tf.Tensor): number[] => Array.from(t.dataSync());

describe('losses', () => {
  it('mse, l1 and bce of a 2×2 image equal their hand-computed values', () => {
    const target = tf.tensor4d([0, 1, 0.5, 0.25], [1, 2, 2, 1]);
    const output = tf.tensor4d([0.1, 0.7, 0.5, 0.45], [1, 2, 2, 1]);
    // differences 0.1, 0.3, 0, 0.2
    expect(lossFn({ loss: 'mse' }, target, output).dataSync()[0]).toBeCloseTo((0.01 + 0.09 + 0 + 0.04) / 4, 6);
    expect(lossFn({ loss: 'l1' }, target, output).dataSync()[0]).toBeCloseTo((0.1 + 0.3 + 0 + 0.2) / 4, 6);
    const bce = -(Math.log(0.9) + Math.log(0.7) + (0.5 * Math.log(0.5) + 0.5 * Math.log(0.5)) + (0.25 * Math.log(0.45) + 0.75 * Math.log(0.55))) / 4;
    expect(lossFn({ loss: 'bce' }, target, output).dataSync()[0]).toBeCloseTo(bce, 5);
  });
});

describe('the VAE pieces', () => {
  it('KL equals the closed form KL(N(mu, sigma²) ‖ N(0, 1)) = ½ (sigma² + mu² − 1 − ln sigma²), summed per example', () => {
    const mu = tf.tensor2d([[0.5, -1], [0, 0]]);
    const logVar = tf.tensor2d([[Math.log(0.25), 0], [0, Math.log(4)]]);
    const closed = (m: number, s2: number): number => 0.5 * (s2 + m * m - 1 - Math.log(s2));
    const expected = [closed(0.5, 0.25) + closed(-1, 1), closed(0, 1) + closed(0, 4)];
    const got = values(klPerExample(mu, logVar));
    expect(got[0]).toBeCloseTo(expected[0], 5);
    expect(got[1]).toBeCloseTo(expected[1], 5);
    // The term the loss adds: batch mean, per input value (D = 784).
    expect(klTerm(mu, logVar, 784).dataSync()[0]).toBeCloseTo((expected[0] + expected[1]) / 2 / 784, 8);
    // A code that is exactly the prior costs nothing.
    expect(klPerExample(tf.zeros([1, 3]), tf.zeros([1, 3])).dataSync()[0]).toBeCloseTo(0, 7);
  });

  it('reparameterize is mu + sigma · eps, and its gradient w.r.t. logvar is ½ sigma · eps', () => {
    const mu = tf.tensor1d([1, -2]);
    const logVar = tf.tensor1d([Math.log(4), 0]);
    const eps = tf.tensor1d([0.5, -1]);
    expect(values(reparameterize(mu, logVar, eps))).toEqual([1 + 2 * 0.5, -2 + 1 * -1]);
    const g = tf.grad((lv: tf.Tensor) => tf.sum(reparameterize(mu, lv, eps)))(logVar);
    const got = values(g);
    expect(got[0]).toBeCloseTo(0.5 * 2 * 0.5, 6);
    expect(got[1]).toBeCloseTo(0.5 * 1 * -1, 6);
  });
});

describe('the sparse penalty', () => {
  it('is the mean |code|', () => {
    expect(l1Penalty(tf.tensor2d([[1, -2], [0, 3]])).dataSync()[0]).toBeCloseTo(6 / 4, 6);
  });
});

describe('the rank-ordered pieces', () => {
  it('TReLU clips to [0, 1]; its gradient passes inside, and outside only towards [0, 1]', () => {
    const x = tf.tensor1d([-0.5, 0.3, 1.5, -0.5, 1.5]);
    expect(values(trelu(x))).toEqual([0, 0.3, 1, 0, 1].map((v) => Math.fround(v)));
    // d/dx of Σ c·trelu(x): dy = c. Below 0 only dy < 0 (which raises x) passes; above 1 only dy > 0 (lowers x).
    const c = tf.tensor1d([-1, 2, 3, 1, -1]);
    const g = values(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(trelu(v), c)))(x));
    expect(g).toEqual([-1, 2, 3, 0, 0]);
  });

  it('top-r keeps each example’s r largest values, and the gradient only reaches those', () => {
    const code = tf.tensor2d([
      [0.1, 0.9, 0.5, 0.3],
      [0.7, 0.2, 0.8, 0.4],
    ]);
    const r = tf.tensor1d([1, 3]);
    expect(values(topRMask(code, r)).map((v) => Math.round(v * 10) / 10)).toEqual([0, 0.9, 0, 0, 0.7, 0, 0.8, 0.4]);
    const g = values(tf.grad((c: tf.Tensor) => tf.sum(topRMask(c, r)))(code));
    expect(g).toEqual([0, 1, 0, 0, 1, 0, 1, 1]);
  });
});

describe('denoising corruption', () => {
  const x = tf.fill([4, 16, 16, 1], 0.5);
  it('gaussian: the clean image plus noise of the given sigma (clipped to [0, 1]); a seed repeats it', () => {
    const y = corrupt(x, 'gaussian', 0.1, 7);
    const d = values(tf.sub(y, x));
    const mean = d.reduce((a, v) => a + v, 0) / d.length;
    const sd = Math.sqrt(d.reduce((a, v) => a + (v - mean) ** 2, 0) / d.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(sd).toBeGreaterThan(0.085);
    expect(sd).toBeLessThan(0.115);
    expect(values(corrupt(x, 'gaussian', 0.1, 7))).toEqual(values(y));
    expect(Math.max(...values(corrupt(x, 'gaussian', 5, 3)))).toBeLessThanOrEqual(1);
  });
  it('salt and pepper: a share `rate` of the pixels set to 0 or 1, half each; the rest untouched', () => {
    const v = values(corrupt(x, 'saltPepper', 0.4, 11));
    const salt = v.filter((p) => p === 1).length / v.length;
    const pepper = v.filter((p) => p === 0).length / v.length;
    expect(salt + pepper).toBeGreaterThan(0.34);
    expect(salt + pepper).toBeLessThan(0.46);
    expect(Math.abs(salt - pepper)).toBeLessThan(0.06);
    expect(v.filter((p) => p === 0.5).length / v.length).toBeCloseTo(1 - salt - pepper, 6);
  });
  it('masking: a share `rate` of the pixels set to 0', () => {
    const v = values(corrupt(x, 'mask', 0.25, 5));
    const zero = v.filter((p) => p === 0).length / v.length;
    expect(zero).toBeGreaterThan(0.2);
    expect(zero).toBeLessThan(0.3);
    expect(v.every((p) => p === 0 || p === 0.5)).toBe(true);
  });
});

const SIDE = 6;
function specFor(variant: VariantId, extra: Partial<ExperimentSpec> = {}): ExperimentSpec {
  return {
    dataset: 'mnist',
    encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 12, activation: 'relu' }, { kind: 'dense', units: 4, activation: 'linear' }],
    decoder: [
      { kind: 'dense', units: SIDE * SIDE, activation: 'sigmoid' },
      { kind: 'reshape', targetShape: [SIDE, SIDE, 1] },
    ],
    loss: 'mse',
    optimizer: 'adam',
    learningRate: 0.01,
    batchSize: 8,
    epochs: 1,
    seed: 3,
    trainSize: 64,
    backend: 'cpu',
    ...VARIANT_DEFAULTS,
    variant,
    ...extra,
  };
}

describe('every variant trains', () => {
  const rand = mulberry32(4);
  const data = tf.tensor4d(Float32Array.from({ length: 32 * SIDE * SIDE }, () => (rand() < 0.3 ? 1 : 0)), [32, SIDE, SIDE, 1]);
  const cases: [VariantId, Partial<ExperimentSpec>][] = [
    ['plain', {}],
    ['denoising', { corruption: 'saltPepper', noise: 0.2 }],
    ['sparse', { sparsity: 0.1, codeDropout: 0.2, codeNoise: 0.1 }],
    ['vae', { beta: 1 }],
    ['rankOrdered', {}],
  ];
  for (const [variant, extra] of cases) {
    it(`${variant}: the objective falls over 150 steps, the tensor count stays flat`, () => {
      const spec = specFor(variant, extra);
      const built = buildModel(spec, [SIDE, SIDE, 1]);
      const optimizer = makeTrainingOptimizer(spec);
      const evalLoss = (): number =>
        tf.tidy(() => variantObjective(spec, data, built.train.predict(data) as tf.Tensor[]).recon.dataSync()[0]);
      const before = evalLoss();
      // Warm up (the optimizer's slots), then count.
      const first = variantStep(optimizer, spec, built, data);
      first.loss.dispose();
      first.terms?.dispose();
      const count = tf.memory().numTensors;
      for (let i = 0; i < 150; i++) {
        const r = variantStep(optimizer, spec, built, data);
        if (variant === 'vae') expect(r.terms).not.toBeNull();
        r.loss.dispose();
        r.terms?.dispose();
      }
      expect(tf.memory().numTensors).toBe(count);
      const after = evalLoss();
      expect(after).toBeLessThan(before * 0.9);
      optimizer.dispose();
      built.model.dispose();
    });
  }

  it('the vae has mean and log-variance heads (both in the model’s weights) and decodes the mean when not training', () => {
    const spec = specFor('vae');
    const built = buildModel(spec, [SIDE, SIDE, 1]);
    const names = built.model.weights.map((w) => w.name);
    expect(names.some((n) => n.startsWith('enc2_dense_logvar'))).toBe(true);
    expect(names.some((n) => n.startsWith('enc2_dense/'))).toBe(true);
    // Inference: twice the same reconstruction (mu, no sampling); training: samples differ.
    const a = built.model.predict(data) as tf.Tensor;
    const b = built.model.predict(data) as tf.Tensor;
    expect(values(a)).toEqual(values(b));
    const [mu] = [built.encoder.predict(data) as tf.Tensor];
    expect(mu.shape).toEqual([32, 4]);
    built.model.dispose();
  });
});
