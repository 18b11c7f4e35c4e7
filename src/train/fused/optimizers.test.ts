import { describe, expect, it } from 'vitest';
// tfjs' own optimizers are the yardstick (test-only; the fused kernels themselves import no tfjs).
import * as tf from '@tensorflow/tfjs';
import { adamHyper, adamKernel, momentumHyper, momentumKernel, rmspropHyper, rmspropKernel } from './optimizers';
import type { KernelSource } from './wgsl';
import { download, gpuAvailable, randomArray, runKernel, testDevice, upload } from './testDevice';

type Opt = 'adam' | 'momentum' | 'rmsprop';
const STEPS = 3;
const LR = 0.01;

/** Float64 references of tfjs' update formulas (adam with tfjs' β^t, ε 1e-7; momentum 0.9; rmsprop decay 0.9, momentum 0, ε 1e-7). */
function reference(opt: Opt, p0: Float32Array, grads: Float32Array[], lr: number): Float64Array {
  const p = Float64Array.from(p0);
  const s1 = new Float64Array(p.length);
  const s2 = new Float64Array(p.length);
  grads.forEach((g, step) => {
    const t = step + 1;
    for (let i = 0; i < p.length; i++) {
      if (opt === 'adam') {
        s1[i] = 0.9 * s1[i] + 0.1 * g[i];
        s2[i] = 0.999 * s2[i] + 0.001 * g[i] * g[i];
        const mHat = s1[i] / (1 - 0.9 ** t);
        const vHat = s2[i] / (1 - 0.999 ** t);
        p[i] -= (lr * mHat) / (Math.sqrt(vHat) + 1e-7);
      } else if (opt === 'momentum') {
        s1[i] = 0.9 * s1[i] + g[i];
        p[i] -= lr * s1[i];
      } else {
        s1[i] = 0.9 * s1[i] + 0.1 * g[i] * g[i];
        s2[i] = 0 * s2[i] + (lr * g[i]) / Math.sqrt(s1[i] + 1e-7);
        p[i] -= s2[i];
      }
    }
  });
  return p;
}

function kernelFor(opt: Opt, n: number): { kernel: KernelSource; hyper: (step: number) => Float32Array; state: number } {
  if (opt === 'adam') return { kernel: adamKernel(n), hyper: (step) => adamHyper(LR, step), state: 2 };
  if (opt === 'momentum') return { kernel: momentumKernel(n), hyper: () => momentumHyper(LR), state: 1 };
  return { kernel: rmspropKernel(n), hyper: () => rmspropHyper(LR), state: 2 };
}

/** Runs the kernel for `grads.length` steps (state starting at zero) and returns the parameters. */
async function runGpu(device: GPUDevice, opt: Opt, p0: Float32Array, grads: Float32Array[]): Promise<Float32Array> {
  const n = p0.length;
  const { kernel, hyper, state } = kernelFor(opt, n);
  const param = upload(device, p0);
  const states = Array.from({ length: state }, () => upload(device, n));
  const hyperBuf = upload(device, 4);
  for (let s = 0; s < grads.length; s++) {
    const grad = upload(device, grads[s]);
    device.queue.writeBuffer(hyperBuf, 0, hyper(s + 1));
    await runKernel(device, kernel, [param, grad, ...states, hyperBuf]);
    grad.destroy();
  }
  const out = await download(device, param, n);
  [param, hyperBuf, ...states].forEach((b) => b.destroy());
  return out;
}

/** Gradients for each step: random, with exact zeros and a few large and tiny values. */
function gradients(n: number, steps: number): Float32Array[] {
  return Array.from({ length: steps }, (_, s) => {
    const g = randomArray(n, 100 + s, -2, 2);
    for (let i = 0; i < n; i += 13) g[i] = 0;
    for (let i = 5; i < n; i += 17) g[i] = i % 2 ? 1e-5 : 40;
    return g;
  });
}

describe('optimizer kernels', () => {
  it('declares their bindings and hyper-parameters', () => {
    expect(adamKernel(10).bindings.map((b) => `${b.name}:${b.access}`)).toEqual(['param:read_write', 'grad:read', 'm:read_write', 'v:read_write', 'hyper:read']);
    expect(momentumKernel(10).bindings.map((b) => `${b.name}:${b.access}`)).toEqual(['param:read_write', 'grad:read', 'accum:read_write', 'hyper:read']);
    expect(rmspropKernel(10).bindings.map((b) => `${b.name}:${b.access}`)).toEqual(['param:read_write', 'grad:read', 'ms:read_write', 'mom:read_write', 'hyper:read']);
    // tfjs accumulates β^t in float32: β, then β·β rounded, ...
    const h3 = adamHyper(0.5, 3);
    const b1 = Math.fround(0.9);
    expect(h3[0]).toBe(0.5);
    expect(h3[1]).toBe(Math.fround(1 - Math.fround(Math.fround(b1 * b1) * b1)));
    expect(adamHyper(0.5, 1)[2]).toBe(Math.fround(1 - Math.fround(0.999)));
    // Later, earlier and repeated steps agree with a fresh computation (the powers are cached).
    const h100 = adamHyper(1, 100);
    adamHyper(1, 7);
    expect(adamHyper(1, 100)).toEqual(h100);
    expect(adamHyper(1, 100, 0.8, 0.99)[1]).not.toBe(h100[1]);
    expect(momentumHyper(0.1)[0]).toBe(Math.fround(0.1));
    expect(rmspropHyper(0.1)[0]).toBe(Math.fround(0.1));
  });

  for (const opt of ['adam', 'momentum', 'rmsprop'] as const) {
    it(`${opt}: ${STEPS} steps match float64 formulas (relative 1e-5 of the change, plus 1e-6 · |p|) and tfjs' cpu optimizer (relative 1e-5)`, async ({ skip }) => {
      if (!(await gpuAvailable())) skip();
      const device = (await testDevice()) as GPUDevice;
      const n = 1000; // several workgroups, the last partial
      const p0 = randomArray(n, 7, -1, 1);
      for (let i = 0; i < n; i += 2) p0[i] = p0[i] >= 0 ? p0[i] + 0.5 : p0[i] - 0.5; // most away from 0, for the relative check
      const grads = gradients(n, STEPS);
      const got = await runGpu(device, opt, p0, grads);

      const want = reference(opt, p0, grads, LR);
      for (let i = 0; i < n; i++) {
        const tol = 1e-5 * Math.abs(want[i] - p0[i]) + 1e-6 * Math.abs(want[i]) + 1e-9;
        if (!(Math.abs(got[i] - want[i]) <= tol)) expect.fail(`${opt} float64: p[${i}] = ${got[i]}, want ${want[i]} (from ${p0[i]})`);
      }

      await tf.setBackend('cpu');
      const optimizer = opt === 'adam' ? tf.train.adam(LR) : opt === 'momentum' ? tf.train.momentum(LR, 0.9) : tf.train.rmsprop(LR);
      const v = tf.variable(tf.tensor1d(p0));
      for (const g of grads) {
        const gt = tf.tensor1d(g);
        optimizer.applyGradients([{ name: v.name, tensor: gt }]);
        gt.dispose();
      }
      const tfValues = await v.data();
      v.dispose();
      optimizer.dispose();
      for (let i = 0; i < n; i++) {
        if (!(Math.abs(got[i] - tfValues[i]) <= 1e-5 * Math.abs(tfValues[i]) + 1e-9)) expect.fail(`${opt} vs tfjs: p[${i}] = ${got[i]}, tfjs ${tfValues[i]} (from ${p0[i]})`);
      }
    });
  }
});
