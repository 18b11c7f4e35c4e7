/**
 * The fused path inside tfjs (fusedTrainer.ts) on tfjs-backend-webgpu, in Node on Dawn over SwiftShader:
 * the in-app gradient check of the fused path (against tfjs' stock WebGPU kernels and finite differences),
 * and training steps that keep the model's variables current, take replaced weights and leave no tensor behind.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPreset } from '../../model/presets';
import { shapeSize } from '../../model/spec';
import { gpuAvailable } from '../fused/testDevice';
import { buildModel } from './buildModel';
import { FUSED_CASES, fusedGradientCheck } from './fusedGradcheck';
import { FusedTrainer } from './fusedTrainer';
import { registerTrainingKernels } from './kernels';
import { makeTrainingOptimizer, lossFn } from './training';

let ready = false;

beforeAll(async () => {
  if (!(await gpuAvailable())) return;
  // testDevice's import of Dawn put WebGPU's globals in place; tfjs-backend-webgpu wants navigator.gpu and a window.
  const dawn = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  (globalThis as Record<string, unknown>).__keepDawn = gpu; // collected, it takes its devices with it
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true });
  Object.defineProperty(globalThis, 'window', { value: globalThis, configurable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  ready = await tf.setBackend('webgpu');
  await tf.ready();
  registerTrainingKernels();
});

describe('fused trainer on tfjs-backend-webgpu (Dawn, SwiftShader)', () => {
  it('the gradient check of the fused path passes (against stock kernels and finite differences)', async ({ skip }) => {
    if (!ready) skip();
    const rows = await fusedGradientCheck();
    for (const r of rows) console.log(`${r.kind}: ${r.maxRelError.toExponential(2)} ${r.ok ? 'ok' : 'FAILED'} — ${r.detail}`);
    expect(rows.length).toBe(5);
    expect(rows.filter((r) => !r.ok).map((r) => `${r.kind}: ${r.detail}`)).toEqual([]);
  });

  it('trains the dense preset: the variables follow, replaced weights are taken, the tensor count stays flat', async ({ skip }) => {
    if (!ready) skip();
    const preset = findPreset('dense');
    if (!preset) throw new Error('no dense preset');
    const spec = { ...preset.spec, batchSize: 8 };
    const built = buildModel(spec, [28, 28, 1]);
    const optimizer = makeTrainingOptimizer(spec);
    const { trainer, report } = FusedTrainer.create(spec, built.model, [28, 28, 1]);
    if (!trainer) throw new Error(report.detail);
    expect(report.fused).toBe(true);
    const pixels = Float32Array.from({ length: 8 * 784 }, (_, i) => ((i * 7919) % 255) / 255);
    const x = tf.tensor(pixels, [8, 28, 28, 1]);
    const evalLoss = async (): Promise<number> => {
      const l = tf.tidy(() => lossFn(spec, x, built.model.predict(x) as tf.Tensor));
      const v = (await l.data())[0];
      l.dispose();
      return v;
    };
    const before = await evalLoss();
    const start = built.model.weights.map((w) => w.read().clone());
    const counts: number[] = [];
    const losses: number[] = [];
    for (let s = 0; s < 12; s++) {
      const loss = trainer.step(pixels, 8, optimizer, spec.learningRate);
      losses.push((await loss.data())[0]);
      loss.dispose();
      counts.push(tf.memory().numTensors);
    }
    // The step's loss is the loss of the weights before it: the first equals the model's loss before training.
    expect(losses[0]).toBeCloseTo(before, 4);
    const after = await evalLoss();
    expect(after).toBeLessThan(before * 0.9);
    expect(new Set(counts.slice(2)).size).toBe(1);
    // Weights replaced from outside (the divergence rule's restore) are what the next step starts from.
    built.model.setWeights(start);
    const again = trainer.step(pixels, 8, optimizer, spec.learningRate);
    expect((await again.data())[0]).toBeCloseTo(before, 4);
    again.dispose();
    tf.dispose(start);
    x.dispose();
    trainer.dispose();
    optimizer.dispose();
    built.model.dispose();
  });

  it('evaluates in inference mode (moving statistics, no dropout) as model.predict does on the cpu backend, at any batch size', async ({ skip }) => {
    if (!ready) skip();
    for (const [i, c] of FUSED_CASES.entries()) {
      const spec = { encoder: c.encoder, decoder: c.decoder, seed: 5 + i, loss: c.loss, optimizer: 'adam' as const, variant: 'plain' as const, learningRate: 0.01 };
      const built = buildModel(spec, c.inputShape);
      const optimizer = makeTrainingOptimizer(spec);
      const { trainer, report } = FusedTrainer.create(spec, built.model, c.inputShape);
      if (!trainer) throw new Error(report.detail);
      const size = shapeSize(c.inputShape);
      const pixels = (n: number, salt: number): Float32Array => Float32Array.from({ length: n * size }, (_, j) => ((j * 7919 + salt * 104729) % 1000) / 1000);
      // A few steps first: the moving statistics leave their initial values (else inference = identity statistics).
      for (let s = 0; s < 4; s++) trainer.step(pixels(4, s), 4, optimizer, spec.learningRate).dispose();
      // The reference: the same weights in the same model on tfjs' cpu backend.
      // Layer by layer (model.weights lists the trainable weights first, setWeights wants each layer's order).
      const weights = await Promise.all(built.model.layers.map((l) => Promise.all(l.getWeights().map(async (w) => ({ shape: w.shape, values: (await w.data()) as Float32Array })))));
      await tf.setBackend('cpu');
      const cpuModel = buildModel(spec, c.inputShape);
      tf.tidy(() => cpuModel.model.layers.forEach((l, k) => l.setWeights(weights[k].map((w) => tf.tensor(w.values, w.shape)))));
      const cpuLoss = (px: Float32Array, n: number, training: boolean): number =>
        tf.tidy(() => {
          const x = tf.tensor(px, [n, ...c.inputShape]);
          const y = (training ? cpuModel.model.apply(x, { training: true }) : cpuModel.model.predict(x)) as tf.Tensor;
          return lossFn(spec, x, y).dataSync()[0];
        });
      const cases = [5, 9].map((n) => ({ n, px: pixels(n, 10 + n) }));
      // Every predict before any training-mode pass: those update the moving statistics.
      const predicts = cases.map(({ n, px }) => cpuLoss(px, n, false));
      // Dropout's training mode is random and may move a bce loss near log 2 by less than the tolerance
      // above: its modes are told apart by the outputs (the largest element-wise difference) instead.
      const outputGap = (px: Float32Array, n: number): number =>
        tf.tidy(() => {
          const x = tf.tensor(px, [n, ...c.inputShape]);
          const train = cpuModel.model.apply(x, { training: true }) as tf.Tensor;
          return tf.max(tf.abs(tf.sub(train, cpuModel.model.predict(x) as tf.Tensor))).dataSync()[0];
        });
      const refs = cases.map(({ n, px }, k) => ({ predict: predicts[k], training: cpuLoss(px, n, true), gap: outputGap(px, n) }));
      cpuModel.model.dispose();
      await tf.setBackend('webgpu');
      for (const [k, { n, px }] of cases.entries()) {
        const fusedLoss = trainer.inferLoss(px, n);
        const got = (await fusedLoss.data())[0];
        fusedLoss.dispose();
        const { predict, training, gap } = refs[k];
        console.log(`${c.label}, n = ${n}: fused inference ${got.toFixed(6)}, cpu predict ${predict.toFixed(6)}, cpu training mode ${training.toFixed(6)}`);
        expect(Math.abs(got - predict) / Math.abs(predict), c.label).toBeLessThan(2e-5);
        // Batch norm and dropout make training mode differ: the comparison above tells the two modes apart.
        if (c.label.includes('batch norm')) expect(Math.abs(training - predict) / predict).toBeGreaterThan(1e-3);
        if (c.label.includes('dropout')) expect(gap).toBeGreaterThan(1e-3);
      }
      trainer.dispose();
      optimizer.dispose();
      built.model.dispose();
    }
  });
});
