import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tfAct } from './testRefs';
import { activationBackwardKernel, activationForwardKernel, dropoutBackwardKernel, dropoutForwardKernel, dropoutMaskRef } from './elementwise';
import { download, gpuAvailable, randomArray, runKernel, testDevice, upload } from './testDevice';
import { actRef, dactAtInput, type FusedActivation } from './wgsl';

const ACTS: FusedActivation[] = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'elu', 'selu', 'softplus'];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('elementwise kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('activation forward and backward (with a dact epilogue) match float64 and tfjs', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    const count = 1003;
    const z = randomArray(count, 1, -3, 3);
    const dy = randomArray(count, 2);
    const z0 = randomArray(count, 3, -2, 2); // the previous layer's pre-activation
    const prev: FusedActivation = 'elu';
    const aux = z0.map((v) => actRef(prev, v));
    for (const act of ACTS) {
      const alpha = 0.3;
      const zb = upload(device, z);
      const yb = upload(device, count);
      const dyb = upload(device, dy);
      const auxb = upload(device, aux);
      const dxb = upload(device, count);
      const dx2b = upload(device, count);
      await runKernel(device, activationForwardKernel(count, act, alpha), [zb, yb]);
      await runKernel(device, activationBackwardKernel(count, act, { alpha }), [dyb, yb, dxb]);
      await runKernel(device, activationBackwardKernel(count, act, { alpha, dact: { act: prev } }), [dyb, yb, auxb, dx2b]);
      const y = await download(device, yb, count);
      const dx = await download(device, dxb, count);
      const dx2 = await download(device, dx2b, count);
      const yRef = Array.from(z, (v) => actRef(act, v, alpha));
      const dxRef = Array.from(z, (v, i) => dy[i] * dactAtInput(act, v, alpha));
      const dx2Ref = dxRef.map((v, i) => v * dactAtInput(prev, z0[i]));
      expect(maxAbsDiff(y, yRef), act).toBeLessThan(1e-5);
      expect(maxAbsDiff(dx, dxRef), act).toBeLessThan(1e-4);
      expect(maxAbsDiff(dx2, dx2Ref), act).toBeLessThan(1e-4);

      const zt = tf.tensor1d(z);
      const dyt = tf.tensor1d(dy);
      const yt = tfAct(act, zt, alpha);
      const gt = tf.grad((t: tf.Tensor) => tfAct(act, t, alpha))(zt, dyt);
      expect(maxAbsDiff(y, yt.dataSync()), act).toBeLessThan(1e-5);
      expect(maxAbsDiff(dx, gt.dataSync()), act).toBeLessThan(1e-4);
      tf.dispose([zt, dyt, yt, gt]);
      [zb, yb, dyb, auxb, dxb, dx2b].forEach((b) => b.destroy());
    }
  });

  it('dropoutMaskRef keeps about 1 − rate, and differs between seeds', () => {
    const n = 100000;
    for (const rate of [0.1, 0.25, 0.5, 0.8]) {
      let kept = 0;
      let same = 0;
      for (let i = 0; i < n; i++) {
        const k = dropoutMaskRef(1234, i, rate);
        if (k) kept++;
        if (k === dropoutMaskRef(1235, i, rate)) same++;
      }
      expect(Math.abs(kept / n - (1 - rate))).toBeLessThan(0.01);
      // Two seeds' masks are independent: they agree with probability rate² + (1 − rate)².
      expect(Math.abs(same / n - (rate * rate + (1 - rate) * (1 - rate)))).toBeLessThan(0.01);
    }
    for (let i = 0; i < 100; i++) expect(dropoutMaskRef(7, i, 0)).toBe(true);
    expect(() => dropoutMaskRef(7, 0, 1)).toThrow();
  });

  it('dropout on the GPU: the TypeScript mask, the kept fraction, scaling, and the backward pass reusing the mask', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    const count = 100000;
    const rate = 0.3;
    const seed = 0xdeadbeef;
    const x = randomArray(count, 21, 0.5, 1.5); // no zeros: y = 0 exactly where dropped
    const dy = randomArray(count, 22, 0.5, 1.5);
    const z0 = randomArray(count, 23, -2, 2);
    const aux = z0.map((v) => actRef('sigmoid', v));
    const xb = upload(device, x);
    const seedb = upload(device, Uint32Array.of(seed));
    const yb = upload(device, count);
    const dyb = upload(device, dy);
    const auxb = upload(device, aux);
    const dxb = upload(device, count);
    const dx2b = upload(device, count);
    await runKernel(device, dropoutForwardKernel(count, rate), [xb, seedb, yb]);
    await runKernel(device, dropoutBackwardKernel(count, rate), [dyb, seedb, dxb]);
    await runKernel(device, dropoutBackwardKernel(count, rate, { dact: { act: 'sigmoid' } }), [dyb, seedb, auxb, dx2b]);
    const y = await download(device, yb, count);
    const dx = await download(device, dxb, count);
    const dx2 = await download(device, dx2b, count);
    let kept = 0;
    let mismatches = 0;
    let err = 0;
    for (let i = 0; i < count; i++) {
      const keep = dropoutMaskRef(seed, i, rate);
      if (y[i] !== 0) kept++;
      if (y[i] !== 0 !== keep || dx[i] !== 0 !== keep) mismatches++;
      const s = keep ? 1 / (1 - rate) : 0;
      err = Math.max(err, Math.abs(y[i] - x[i] * s), Math.abs(dx[i] - dy[i] * s));
      const sg = actRef('sigmoid', z0[i]);
      err = Math.max(err, Math.abs(dx2[i] - dy[i] * s * sg * (1 - sg)));
    }
    expect(mismatches).toBe(0);
    expect(Math.abs(kept / count - (1 - rate))).toBeLessThan(0.01);
    expect(err).toBeLessThan(1e-5);

    // A different seed gives a different mask.
    device.queue.writeBuffer(seedb, 0, Uint32Array.of(seed + 1));
    await runKernel(device, dropoutForwardKernel(count, rate), [xb, seedb, yb]);
    const y2 = await download(device, yb, count);
    let differ = 0;
    for (let i = 0; i < count; i++) if (y2[i] !== 0 !== (y[i] !== 0)) differ++;
    expect(differ / count).toBeGreaterThan(0.3);

    // tfjs' dropout is inverted dropout too: same scale, same kept fraction (its mask is its own RNG).
    const xt = tf.tensor1d(x);
    const yt = tf.dropout(xt, rate);
    const yd = yt.dataSync();
    let tfKept = 0;
    for (let i = 0; i < count; i++) {
      if (yd[i] !== 0) {
        tfKept++;
        expect(Math.abs(yd[i] - x[i] / (1 - rate))).toBeLessThan(1e-5);
      }
    }
    expect(Math.abs(tfKept / count - kept / count)).toBeLessThan(0.02);
    tf.dispose([xt, yt]);
    [xb, seedb, yb, dyb, auxb, dxb, dx2b].forEach((b) => b.destroy());
  });
});
