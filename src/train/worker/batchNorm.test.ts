import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrainingBatchNorm } from './batchNorm';
import { registerTrainingKernels } from './kernels';

beforeAll(() => {
  const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  setWasmPaths(join(dirname(pkg), 'dist') + '/');
  registerTrainingKernels();
});

/** Deterministic values in [lo, lo + 1). */
function values(n: number, seed: number, lo = -0.5): Float32Array {
  let a = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return lo + a / 4294967296;
  });
}

interface Outcome {
  /** training-mode output, gradients w.r.t. x, γ, β, then the moving mean and variance after the call, then the inference output */
  parts: Float32Array[];
}

/** Runs one batch-norm layer (ours or tfjs-layers') through the checks above, with the same weights. */
function run(layer: tf.layers.Layer, shape: number[]): Outcome {
  const C = shape[shape.length - 1];
  const x = tf.tensor(values(shape.reduce((p, q) => p * q, 1), 11, 0.3).map((v, i) => v * (1 + (i % C))), shape);
  const w = tf.tensor(values(x.size, 12), shape);
  layer.apply(tf.input({ shape: shape.slice(1) }));
  const weights = [tf.tensor1d(values(C, 13, 0.5)), tf.tensor1d(values(C, 14)), tf.tensor1d(values(C, 15)), tf.tensor1d(values(C, 16, 0.5))];
  layer.setWeights(weights);
  weights.forEach((t) => t.dispose());
  const trainable = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar, trainable);
  const dx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t, { training: true }) as tf.Tensor, w)))(x);
  const y = tf.tidy(() => layer.apply(x, { training: true }) as tf.Tensor);
  const moving = layer.getWeights().slice(2); // the variables themselves: not ours to dispose
  const inference = layer.apply(x, { training: false }) as tf.Tensor;
  const parts = [y, dx, ...trainable.map((v) => grads[v.name]), ...moving, inference].map((t) => t.dataSync().slice() as Float32Array);
  for (const t of [x, w, value, y, dx, inference, ...Object.values(grads)]) t.dispose();
  return { parts };
}

describe.each(['cpu', 'wasm'] as const)('TrainingBatchNorm on %s', (backend) => {
  it.each([
    ['conv-shaped', [4, 5, 3, 6]],
    ['dense-shaped', [7, 5]],
  ] as const)('matches tfjs-layers’ BatchNormalization (%s): output, gradients, moving statistics, inference', async (_label, shape) => {
    expect(await tf.setBackend(backend)).toBe(true);
    const before = tf.memory().numTensors;
    const stock = tf.layers.batchNormalization({});
    const ours = new TrainingBatchNorm({});
    const a = run(stock, [...shape]);
    const b = run(ours, [...shape]);
    expect(ours.getWeights().map((t) => t.shape)).toEqual(stock.getWeights().map((t) => t.shape));
    expect(ours.weights.map((v) => v.name.split('/').pop())).toEqual(['gamma', 'beta', 'moving_mean', 'moving_variance']);
    expect(b.parts.length).toBe(a.parts.length);
    a.parts.forEach((p, i) => {
      let m = 0;
      let scale = 0;
      for (let j = 0; j < p.length; j++) {
        m = Math.max(m, Math.abs(p[j] - b.parts[i][j]));
        scale = Math.max(scale, Math.abs(p[j]));
      }
      expect(m / Math.max(1, scale), `part ${i}`).toBeLessThan(2e-5);
    });
    stock.dispose();
    ours.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('runs no Mean gradient (no full-size tensor of ones) when trained', async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    const layer = new TrainingBatchNorm({});
    const x = tf.tensor(values(2 * 4 * 4 * 3, 21), [2, 4, 4, 3]);
    layer.apply(x);
    const names: string[] = [];
    const kernelNames = ['Mean', 'Fill', 'OnesLike', 'Tile'];
    const saved = kernelNames.flatMap((name) => {
      const k = tf.getKernel(name, backend);
      if (k == null) return [];
      tf.unregisterKernel(name, backend);
      tf.registerKernel({ ...k, kernelFunc: (args) => (names.push(name), k.kernelFunc(args)) });
      return [k];
    });
    try {
      const g = tf.variableGrads(() => tf.sum(layer.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, layer.trainableWeights.map((v) => v.read() as tf.Variable));
      g.value.dispose();
      Object.values(g.grads).forEach((t) => t.dispose());
    } finally {
      for (const k of saved) {
        tf.unregisterKernel(k.kernelName, backend);
        tf.registerKernel(k);
      }
    }
    // forward: the batch mean and the variance's mean; nothing else (the gradient is one closed form)
    expect(names.filter((n) => n === 'Mean')).toHaveLength(2);
    expect(names.filter((n) => n !== 'Mean')).toEqual([]);
    x.dispose();
    layer.dispose();
  });
});
