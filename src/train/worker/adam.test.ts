/**
 * Our Adam (adam.ts) must train exactly as tf.train.adam does, on wasm with its one fused kernel per
 * variable (our SIMD module) and elsewhere with tfjs' chain of ops; leak nothing; and its first step
 * must be the closed form −lr·sign(g) (bias correction makes m̂ = g and v̂ = g² at t = 1).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPreset } from '../../model/presets';
import type { ExperimentSpec } from '../../model/spec';
import { adamKernelCalls, FusedAdamOptimizer } from './adam';
import { buildModel } from './buildModel';
import { FlatOptimizer } from './flatOptimizer';
import { registerTrainingKernels } from './kernels';
import { lossFn } from './training';

beforeAll(() => {
  const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  setWasmPaths(join(dirname(pkg), 'dist') + '/');
  registerTrainingKernels();
});

async function use(backend: 'cpu' | 'wasm'): Promise<void> {
  expect(await tf.setBackend(backend)).toBe(true);
  await tf.ready();
}

function spec(preset: string): ExperimentSpec {
  const p = findPreset(preset);
  if (!p) throw new Error('preset');
  return { ...structuredClone(p.spec), optimizer: 'adam', learningRate: 0.01 };
}

function train(s: ExperimentSpec, opt: tf.Optimizer, steps: number): { weights: Float32Array[]; losses: number[] } {
  const { model } = buildModel(s, [28, 28, 1]);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', i) as tf.Tensor4D;
    const loss = opt.minimize(() => lossFn(s, x, model.apply(x, { training: true }) as tf.Tensor), true) as tf.Scalar;
    losses.push(loss.dataSync()[0]);
    loss.dispose();
    x.dispose();
  }
  const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
  model.dispose();
  opt.dispose();
  return { weights, losses };
}

function maxRelDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((w, i) => {
    for (let j = 0; j < w.length; j++) worst = Math.max(worst, Math.abs(w[j] - b[i][j]) / Math.max(1e-3, Math.abs(b[i][j])));
  });
  return worst;
}

describe('FusedAdamOptimizer', () => {
  it.each([
    ['wasm', 'dense'],
    ['wasm', 'default'],
    ['cpu', 'dense'],
  ] as const)('on %s, %s preset: the weights and losses of tf.train.adam, 6 steps', async (backend, preset) => {
    await use(backend);
    const s = spec(preset);
    const stock = train(s, tf.train.adam(s.learningRate), 6);
    const calls0 = adamKernelCalls.count;
    const before = tf.memory().numTensors;
    const ours = train(s, new FusedAdamOptimizer(s.learningRate), 6);
    expect(tf.memory().numTensors).toBe(before);
    const { model } = buildModel(s, [28, 28, 1]);
    const nVars = model.trainableWeights.length;
    model.dispose();
    // one fused kernel per variable and step on wasm; none elsewhere
    expect(adamKernelCalls.count - calls0).toBe(backend === 'wasm' ? 6 * nVars : 0);
    ours.losses.forEach((l, i) => expect(l).toBeCloseTo(stock.losses[i], 5));
    expect(maxRelDiff(ours.weights, stock.weights)).toBeLessThan(1e-4);
    // and wrapped in the flat optimizer, as the app trains: on wasm it hands every variable to our Adam
    // as it is (one kernel each: flattening would only add concats and slices)
    const calls1 = adamKernelCalls.count;
    const flat = train(s, new FlatOptimizer(new FusedAdamOptimizer(s.learningRate)), 6);
    expect(adamKernelCalls.count - calls1).toBe(backend === 'wasm' ? 6 * nVars : 0);
    expect(maxRelDiff(flat.weights, stock.weights)).toBeLessThan(1e-4);
  });

  it('first step on wasm: value − lr·sign(g) (closed form), odd sizes and a SIMD remainder', async () => {
    await use('wasm');
    const n = 4 * 7 + 3;
    const g0 = Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? -1 : 1) * (0.5 + i / n));
    const v0 = Float32Array.from({ length: n }, (_, i) => i / 10);
    const w = tf.variable(tf.tensor1d(v0), true, 'adamClosedForm');
    const opt = new FusedAdamOptimizer(0.05);
    const calls0 = adamKernelCalls.count;
    const g = tf.tensor1d(g0);
    opt.applyGradients({ adamClosedForm: g });
    expect(adamKernelCalls.count - calls0).toBe(1);
    const got = w.dataSync();
    for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(v0[i] - 0.05 * Math.sign(g0[i]), 5);
    g.dispose();
    w.dispose();
    opt.dispose();
  });

  it('getWeights / setWeights: training resumed on a new optimizer goes on as if never stopped', async () => {
    await use('wasm');
    const w = tf.variable(tf.tensor1d([0.3, -0.2, 0.7, 1.1, -0.9]), true, 'adamResume');
    const grads = [0, 1, 2, 3].map((k) => tf.tensor1d([0.1 * k + 0.2, -0.3, 0.05 * k, 0.4, -0.1 * k - 0.1]));
    const first = new FusedAdamOptimizer(0.02);
    first.applyGradients({ adamResume: grads[0] });
    first.applyGradients({ adamResume: grads[1] });
    // getWeights hands out the live state (as tfjs' optimizers do): copy it, as a checkpoint would
    const saved = (await first.getWeights()).map((e) => ({ name: e.name, tensor: e.tensor.clone() }));
    const atTwo = w.dataSync().slice();
    first.applyGradients({ adamResume: grads[2] });
    first.applyGradients({ adamResume: grads[3] });
    const straight = w.dataSync().slice();
    w.assign(tf.tensor1d(atTwo));
    const second = new FusedAdamOptimizer(0.02);
    await second.setWeights(saved);
    second.applyGradients({ adamResume: grads[2] });
    second.applyGradients({ adamResume: grads[3] });
    const resumed = w.dataSync();
    for (let i = 0; i < 5; i++) expect(resumed[i]).toBeCloseTo(straight[i], 6);
    first.dispose();
    second.dispose();
    saved.forEach((e) => e.tensor.dispose());
    grads.forEach((t) => t.dispose());
    w.dispose();
  });
});
