/**
 * The flat optimizer must train exactly like the stock one (same formula per element), with far
 * fewer kernel launches per step, no leaked tensors, and weights set from outside respected.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPreset } from '../../model/presets';
import type { ExperimentSpec } from '../../model/spec';
import { buildModel } from './buildModel';
import { FLAT_MAX_SIZE, FlatOptimizer } from './flatOptimizer';
import { lossFn, makeOptimizer, makeTrainingOptimizer } from './training';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function spec(optimizer: ExperimentSpec['optimizer'], preset = 'default'): ExperimentSpec {
  const p = findPreset(preset);
  if (!p) throw new Error('preset');
  return { ...structuredClone(p.spec), optimizer, learningRate: 0.01 };
}

function batch(seed: number, n = 4): tf.Tensor4D {
  return tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', seed) as tf.Tensor4D;
}

/** Trains `steps` steps and returns the final weights and the losses. */
function train(s: ExperimentSpec, opt: tf.Optimizer, steps: number): { weights: Float32Array[]; losses: number[] } {
  const { model } = buildModel(s, [28, 28, 1]);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const x = batch(i);
    const loss = opt.minimize(() => lossFn(s, x, model.apply(x, { training: true }) as tf.Tensor), true) as tf.Scalar;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    x.dispose();
  }
  const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  opt.dispose();
  return { weights, losses };
}

describe('FlatOptimizer', () => {
  it.each([
    ['adam', 'default'],
    ['sgd', 'default'],
    ['rmsprop', 'default'],
    ['adam', 'dense'], // large kernels go to the optimizer directly, the small tensors flat, in one call
  ] as const)('%s on %s: same weights and losses as the stock optimizer', (name, preset) => {
    const s = spec(name, preset);
    const stock = train(s, makeOptimizer(s), 5);
    const flat = train(s, makeTrainingOptimizer(s), 5);
    expect(flat.losses.length).toBe(5);
    flat.losses.forEach((l, i) => expect(l).toBeCloseTo(stock.losses[i], 5));
    expect(flat.weights.length).toBe(stock.weights.length);
    flat.weights.forEach((w, i) => {
      let maxDiff = 0;
      for (let j = 0; j < w.length; j++) maxDiff = Math.max(maxDiff, Math.abs(w[j] - stock.weights[i][j]));
      expect(maxDiff).toBeLessThan(1e-5);
    });
    // and it trained: the weights moved
    const { model } = buildModel(s, [28, 28, 1]);
    expect(model.getWeights().some((w) => w.size > FLAT_MAX_SIZE)).toBe(preset === 'dense');
    const init = model.getWeights()[0].dataSync();
    model.dispose();
    expect(flat.weights[0].reduce((m, v, j) => Math.max(m, Math.abs(v - init[j])), 0)).toBeGreaterThan(1e-4);
  });

  it('launches far fewer working kernels per step than stock Adam, and leaks no tensors', async () => {
    const s = spec('adam');
    const count = async (opt: tf.Optimizer): Promise<{ kernels: number; leaked: number }> => {
      const { model } = buildModel(s, [28, 28, 1]);
      const x = batch(1);
      const step = (): void => {
        const loss = opt.minimize(() => lossFn(s, x, model.apply(x, { training: true }) as tf.Tensor), true);
        loss?.dispose();
      };
      step(); // creates the optimizer's state
      const before = tf.memory().numTensors;
      const info = await tf.profile(step);
      step();
      const leaked = tf.memory().numTensors - before;
      x.dispose();
      model.dispose();
      opt.dispose();
      // Reshape and Identity move no data on any backend: count the kernels that launch work.
      return { kernels: info.kernels.filter((k) => k.name !== 'Reshape' && k.name !== 'Identity').length, leaked };
    };
    const stock = await count(makeOptimizer(s));
    const flat = await count(makeTrainingOptimizer(s));
    expect(flat.leaked).toBe(0);
    expect(stock.leaked).toBe(0);
    console.log(`kernels per step: stock ${stock.kernels}, flat ${flat.kernels}`);
    expect(flat.kernels).toBeLessThan(stock.kernels * 0.6);
  });

  it('respects weights set from outside between steps (snapshot restore)', () => {
    const s = spec('adam');
    const { model } = buildModel(s, [28, 28, 1]);
    const opt = new FlatOptimizer(tf.train.sgd(0)); // learning rate 0: a step changes nothing
    const x = batch(2);
    const step = (): void => {
      opt.minimize(() => lossFn(s, x, model.apply(x, { training: true }) as tf.Tensor), true)?.dispose();
    };
    step();
    const zeros = model.getWeights().map((w) => tf.zerosLike(w));
    model.setWeights(zeros);
    zeros.forEach((z) => z.dispose());
    step();
    for (const w of model.getWeights()) expect(Math.max(...Array.from(w.dataSync(), Math.abs))).toBe(0);
    x.dispose();
    model.dispose();
    opt.dispose();
  });

  it('disposes its state', () => {
    const s = spec('adam');
    const before = tf.memory().numTensors;
    const { model } = buildModel(s, [28, 28, 1]);
    const opt = makeTrainingOptimizer(s);
    const x = batch(3);
    opt.minimize(() => lossFn(s, x, model.apply(x, { training: true }) as tf.Tensor), true)?.dispose();
    x.dispose();
    model.dispose();
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
