/**
 * The fused path inside tfjs (fusedTrainer.ts) on tfjs-backend-webgpu, in Node on Dawn over SwiftShader:
 * the in-app gradient check of the fused path (against tfjs' stock WebGPU kernels and finite differences),
 * and training steps that keep the model's variables current, take replaced weights and leave no tensor behind.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPreset } from '../../model/presets';
import { gpuAvailable } from '../fused/testDevice';
import { buildModel } from './buildModel';
import { fusedGradientCheck } from './fusedGradcheck';
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
});
