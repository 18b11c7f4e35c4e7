/**
 * The fused binary cross-entropy on wasm (bce.ts) must be lossFn's tfjs form: the same value and the
 * same gradients (also at and beyond the clip bounds, and for the targets), NaN kept, nothing leaked.
 * References: the tfjs form on the cpu backend, and a float64 closed form computed here.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bceKernelCalls, fusedBceEnabled } from './bce';
import { registerTrainingKernels } from './kernels';
import { lossFn } from './training';

beforeAll(() => {
  const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  setWasmPaths(join(dirname(pkg), 'dist') + '/');
  registerTrainingKernels();
});

afterEach(() => {
  fusedBceEnabled.on = true;
});

const bce = { loss: 'bce' } as const;

/** Outputs in (0, 1) with some exactly at, beyond and inside the clip bounds; targets in [0, 1]. */
function operands(n: number): { t: Float32Array; o: Float32Array } {
  let a = 12345;
  const r = (): number => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
  const t = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : i % 5 === 1 ? 1 : r()));
  const o = Float32Array.from({ length: n }, (_, i) => (i % 13 === 0 ? 0 : i % 13 === 1 ? 1 : i % 13 === 2 ? 1e-7 : i % 13 === 3 ? 1 - 1e-7 : 0.02 + 0.96 * r()));
  return { t, o };
}

async function lossAndGrads(backend: 'cpu' | 'wasm', t: Float32Array, o: Float32Array, shape: number[]): Promise<{ loss: number; dO: Float32Array; dT: Float32Array }> {
  expect(await tf.setBackend(backend)).toBe(true);
  await tf.ready();
  const before = tf.memory().numTensors;
  const tt = tf.tensor(t, shape);
  const ot = tf.tensor(o, shape);
  const { value, grads } = tf.tidy(() => {
    const g = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) => lossFn(bce, a, b));
    const r = g([tt, ot]);
    return { value: r.value, grads: r.grads };
  });
  const out = { loss: (await value.data())[0], dT: Float32Array.from(await grads[0].data()), dO: Float32Array.from(await grads[1].data()) };
  tf.dispose([value, ...grads, tt, ot]);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('binary cross-entropy on wasm: our two kernels', () => {
  it('the value and both gradients of lossFn’s tfjs form (cpu) and of the float64 closed form, bounds included', async () => {
    const shape = [3, 7, 9, 1];
    const n = 3 * 7 * 9;
    const { t, o } = operands(n);
    const ref = await lossAndGrads('cpu', t, o, shape);
    const calls = { ...bceKernelCalls };
    const got = await lossAndGrads('wasm', t, o, shape);
    expect(bceKernelCalls.loss).toBe(calls.loss + 1);
    expect(bceKernelCalls.grad).toBe(calls.grad + 1);
    // float64 closed form
    const eps = 1e-7;
    let sum = 0;
    const dO = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const p = Math.min(Math.max(o[i], eps), Math.fround(1 - eps));
      sum += t[i] * Math.log(p) + (1 - t[i]) * Math.log(Math.fround(1 - p));
      dO[i] = o[i] >= eps && o[i] <= Math.fround(1 - eps) ? -(t[i] / p - (1 - t[i]) / Math.fround(1 - p)) / n : 0;
    }
    expect(got.loss).toBeCloseTo(-sum / n, 5);
    expect(got.loss).toBeCloseTo(ref.loss, 5);
    // gradients reach ~1e5/n at the bounds: compare relative to each one's scale
    const scale = Math.max(...Array.from(ref.dO, Math.abs));
    expect(maxAbsDiff(got.dO, ref.dO) / scale).toBeLessThan(1e-5);
    expect(maxAbsDiff(got.dO, dO) / scale).toBeLessThan(1e-5);
    expect(maxAbsDiff(got.dT, ref.dT)).toBeLessThan(1e-5);
    // beyond the bounds the clip passes no gradient
    expect(got.dO[0]).toBe(0);
    expect(got.dO[1]).toBe(0);
  });

  it('its logarithm is float32-accurate from 1e-7 to 1 − 1e-7 (through the targets’ gradient, −(ln p − ln(1 − p))/n)', async () => {
    const n = 1001;
    const o = Float32Array.from({ length: n }, (_, i) => (i < 500 ? 10 ** (-7 + (7 * i) / 500) : 1 - 10 ** (-7 + (7 * (1000 - i)) / 500)));
    const t = new Float32Array(n).fill(0.5);
    const got = await lossAndGrads('wasm', t, o, [n]);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const p = Math.min(Math.max(o[i], 1e-7), Math.fround(1 - 1e-7));
      const exact = -(Math.log(p) - Math.log(Math.fround(1 - p)));
      worst = Math.max(worst, Math.abs(got.dT[i] * n - exact) / Math.max(1, Math.abs(exact)));
    }
    expect(worst).toBeLessThan(2e-6);
  });

  it('off: lossFn’s tfjs form on wasm too, same numbers', async () => {
    const { t, o } = operands(50);
    const fused = await lossAndGrads('wasm', t, o, [50]);
    fusedBceEnabled.on = false;
    const calls = bceKernelCalls.loss;
    const plain = await lossAndGrads('wasm', t, o, [50]);
    expect(bceKernelCalls.loss).toBe(calls);
    expect(fused.loss).toBeCloseTo(plain.loss, 5);
    expect(maxAbsDiff(fused.dT, plain.dT)).toBeLessThan(1e-5);
  });

  it('a NaN output gives a NaN loss (divergence is noticed) and the gradients tfjs gives (0 for that output)', async () => {
    // 9 values: two vectors and a scalar tail, a NaN in each part
    const t = Float32Array.from([0.5, 1, 0, 0.2, 0.9, 0.1, 1, 0, 0.4]);
    const o = Float32Array.from([0.3, NaN, 0.2, 0.6, 0.7, NaN, 0.5, 0.1, NaN]);
    const ref = await lossAndGrads('cpu', t, o, [9]);
    const got = await lossAndGrads('wasm', t, o, [9]);
    expect(Number.isNaN(got.loss)).toBe(true);
    expect(Number.isNaN(ref.loss)).toBe(true);
    for (let i = 0; i < 9; i++) {
      expect(Number.isNaN(got.dO[i])).toBe(Number.isNaN(ref.dO[i]));
      if (!Number.isNaN(ref.dO[i])) expect(got.dO[i]).toBeCloseTo(ref.dO[i], 5);
      expect(Number.isNaN(got.dT[i])).toBe(Number.isNaN(ref.dT[i]));
    }
    expect(got.dO[1]).toBe(0);
  });
});
