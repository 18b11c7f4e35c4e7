import { describe, expect, it } from 'vitest';
// The app's tfjs loss is the yardstick (test-only; the fused kernels themselves import no tfjs).
import * as tf from '@tensorflow/tfjs';
import { lossFn } from '../worker/training';
import { lossKernels, type FusedLoss } from './loss';
import type { OpKernels } from './reduce';
import { actRef, dactRef, type FusedActivation } from './wgsl';
import { download, gpuAvailable, randomArray, runKernel, testDevice, upload } from './testDevice';

async function runOp(device: GPUDevice, op: OpKernels, buffers: Record<string, GPUBuffer>): Promise<void> {
  for (const kernel of op.kernels) await runKernel(device, kernel, kernel.bindings.map((b) => buffers[b.name]));
}

const LO = Math.fround(1e-7);
const HI = Math.fround(1 - 1e-7);

/** The app's losses in float64 on the float32 inputs: the mean loss and dL/dz. */
function reference(loss: FusedLoss, y: Float32Array, t: Float32Array, act: FusedActivation, alpha?: number): { loss: number; dz: Float64Array } {
  const n = y.length;
  let sum = 0;
  const dz = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const yv = y[i];
    const tv = t[i];
    let dy: number;
    if (loss === 'mse') {
      sum += (yv - tv) ** 2;
      dy = (2 * (yv - tv)) / n;
    } else if (loss === 'l1') {
      sum += Math.abs(tv - yv);
      dy = -(tv - yv > 0 ? 1 : -1) / n; // tfjs' Abs gradient: step(u, −1) at u = t − y (a tie gives +1/n)
    } else {
      const p = Math.min(Math.max(yv, LO), HI);
      sum += -(tv * Math.log(p) + (1 - tv) * Math.log(1 - p));
      dy = yv >= LO && yv <= HI ? -(tv / p - (1 - tv) / (1 - p)) / n : 0;
    }
    dz[i] = dy * dactRef(act, yv, alpha);
  }
  return { loss: sum / n, dz };
}

describe('loss kernels', () => {
  it('binds by name and splits large counts', () => {
    const op = lossKernels({ loss: 'mse', count: 256 * 32 * 32 * 3, outAct: 'sigmoid' });
    expect(op.kernels.map((k) => k.bindings.map((b) => `${b.name}:${b.access}`))).toEqual([
      ['y:read', 't:read', 'dz:read_write', 'partial:read_write'],
      ['partial:read', 'loss:read_write'],
    ]);
    expect(op.scratch.partial).toBeLessThanOrEqual(256);
    expect(lossKernels({ loss: 'bce', count: 100, outAct: 'linear' }).kernels[0].bindings.map((b) => b.name)).toEqual(['y', 't', 'dz', 'loss']);
  });

  it('matches float64 references (loss: relative 1e-5; dz: 1e-5 · max|dz| + relative 1e-4) near the clip bounds', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    // Values at and around BCE's clip bounds (float32), 0, 1, and exact ties y = t (l1's gradient there).
    const special = [0, LO, Math.fround(LO * 0.5), Math.fround(LO * 1.5), HI, 1, Math.fround(1 - 2e-7), Math.fround(1 - 3e-8), 0.5, 1e-3, 0.999];
    const cases: Array<{ loss: FusedLoss; act: FusedActivation; count: number; alpha?: number }> = [
      { loss: 'bce', act: 'sigmoid', count: 1 },
      { loss: 'bce', act: 'sigmoid', count: 77 },
      { loss: 'bce', act: 'linear', count: 5000 },
      { loss: 'mse', act: 'sigmoid', count: 3 },
      { loss: 'mse', act: 'linear', count: 5000 },
      { loss: 'mse', act: 'tanh', count: 70001 },
      { loss: 'l1', act: 'sigmoid', count: 300 },
      { loss: 'l1', act: 'leakyRelu', alpha: 0.1, count: 4099 },
      { loss: 'bce', act: 'relu', count: 300 },
    ];
    for (const c of cases) {
      const n = c.count;
      const y = randomArray(n, n, 0, 1);
      const t = randomArray(n, n + 1, 0, 1);
      for (let i = 0; i < n; i += 3) y[i] = special[(i / 3) % special.length];
      for (let i = 0; i < n; i += 7) t[i] = i % 2 ? 1 : 0; // binary targets
      for (let i = 0; i < n; i += 11) t[i] = y[i]; // ties
      if (c.act === 'linear' || c.act === 'leakyRelu' || c.act === 'tanh') {
        // Outputs outside [0, 1] too (for bce: clipped, zero gradient).
        for (let i = 1; i < n; i += 5) y[i] = actRef(c.act, 3 * y[i] - 1.5, c.alpha);
      }
      const op = lossKernels({ loss: c.loss, count: n, outAct: c.act, alpha: c.alpha });
      const buffers: Record<string, GPUBuffer> = {
        y: upload(device, y),
        t: upload(device, t),
        dz: upload(device, randomArray(n, 3, 1e6, 2e6)),
        loss: upload(device, Float32Array.from([7, 7, 7, 7])),
      };
      for (const [name, size] of Object.entries(op.scratch)) buffers[name] = upload(device, size);
      await runOp(device, op, buffers);
      const gotLoss = await download(device, buffers.loss, 4);
      const gotDz = await download(device, buffers.dz, n);
      Object.values(buffers).forEach((b) => b.destroy());
      const want = reference(c.loss, y, t, c.act, c.alpha);
      const name = `${c.loss}/${c.act}/${n}`;
      expect(Math.abs(gotLoss[0] - want.loss), `${name}: loss ${gotLoss[0]} vs ${want.loss}`).toBeLessThanOrEqual(1e-5 * Math.abs(want.loss) + 1e-7);
      expect(Array.from(gotLoss.slice(1)), `${name}: nothing else written to loss`).toEqual([7, 7, 7]);
      let maxDz = 0;
      for (const v of want.dz) maxDz = Math.max(maxDz, Math.abs(v));
      for (let i = 0; i < n; i++) {
        const tol = 1e-5 * maxDz + 1e-4 * Math.abs(want.dz[i]);
        if (!(Math.abs(gotDz[i] - want.dz[i]) <= tol)) expect.fail(`${name}: dz[${i}] = ${gotDz[i]}, want ${want.dz[i]} (y ${y[i]}, t ${t[i]})`);
        if (c.loss === 'bce' && (y[i] < LO || y[i] > HI)) expect(gotDz[i], `${name}: clipped y ${y[i]} passes no gradient`).toBe(0);
        if (c.loss === 'l1' && y[i] === t[i]) expect(gotDz[i], `${name}: tfjs' |u|'(0) = −1, so dL/dy = +1/n at ties`).toBeCloseTo(dactRef(c.act, y[i], c.alpha) / n, 9);
      }
    }
  });

  it('matches the app\'s tfjs loss and its gradient (cpu backend; relative 1e-5, dz + 1e-8 absolute for rounding noise at zero)', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    await tf.setBackend('cpu');
    const n = 600;
    const y = randomArray(n, 11, -0.2, 1.2);
    const t = randomArray(n, 12, 0, 1);
    const special = [0, LO, Math.fround(LO * 0.5), Math.fround(LO * 1.5), HI, 1, Math.fround(1 - 2e-7), Math.fround(1 - 3e-8)];
    for (let i = 0; i < n; i += 4) y[i] = special[(i / 4) % special.length];
    for (let i = 0; i < n; i += 9) t[i] = y[i];
    for (const loss of ['bce', 'mse', 'l1'] as const) {
      const yt = tf.tensor1d(y);
      const tt = tf.tensor1d(t);
      const { value, grad } = tf.valueAndGrad((out: tf.Tensor) => lossFn({ loss }, tt, out))(yt);
      const wantLoss = (await value.data())[0];
      const wantDy = await grad.data();
      tf.dispose([yt, tt, value, grad]);
      const op = lossKernels({ loss, count: n, outAct: 'linear' });
      const buffers: Record<string, GPUBuffer> = { y: upload(device, y), t: upload(device, t), dz: upload(device, n), loss: upload(device, 4) };
      for (const [name, size] of Object.entries(op.scratch)) buffers[name] = upload(device, size);
      await runOp(device, op, buffers);
      const gotLoss = (await download(device, buffers.loss, 1))[0];
      const gotDz = await download(device, buffers.dz, n);
      Object.values(buffers).forEach((b) => b.destroy());
      expect(Math.abs(gotLoss - wantLoss), `${loss}: ${gotLoss} vs tfjs ${wantLoss}`).toBeLessThanOrEqual(1e-5 * Math.abs(wantLoss));
      for (let i = 0; i < n; i++) {
        if (!(Math.abs(gotDz[i] - wantDy[i]) <= 1e-5 * Math.abs(wantDy[i]) + 1e-8)) expect.fail(`${loss}: dz[${i}] = ${gotDz[i]}, tfjs ${wantDy[i]} (y ${y[i]}, t ${t[i]})`);
      }
    }
  });
});
