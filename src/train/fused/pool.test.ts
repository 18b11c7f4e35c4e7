import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tfAct } from './testRefs';
import { avgPoolBackwardKernel, avgPoolForwardKernel, maxPoolBackwardKernel, maxPoolForwardKernel, poolGeometry, type PoolGeometry } from './pool';
import { download, gpuAvailable, randomArray, runKernel, testDevice, upload } from './testDevice';
import { actRef, dactAtInput, type FusedActivation } from './wgsl';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Float64 reference: y, first-max argmax (flat index into x), and the scattered gradients. */
function poolRef(g: PoolGeometry, x: Float32Array, dy: Float32Array) {
  const { N, H, W, C, pool: P, stride: S, OH, OW } = g;
  const ymax = new Float64Array(N * OH * OW * C);
  const arg = new Uint32Array(ymax.length);
  const yavg = new Float64Array(ymax.length);
  const dxMax = new Float64Array(N * H * W * C);
  const dxAvg = new Float64Array(dxMax.length);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let c = 0; c < C; c++) {
          const o = ((n * OH + oh) * OW + ow) * C + c;
          let best = -Infinity;
          let at = -1;
          let sum = 0;
          for (let a = 0; a < P; a++)
            for (let b = 0; b < P; b++) {
              const k = ((n * H + oh * S + a) * W + ow * S + b) * C + c;
              sum += x[k];
              if (x[k] > best) {
                best = x[k];
                at = k;
              }
            }
          ymax[o] = best;
          arg[o] = at;
          yavg[o] = sum / (P * P);
          dxMax[at] += dy[o];
          for (let a = 0; a < P; a++)
            for (let b = 0; b < P; b++) dxAvg[((n * H + oh * S + a) * W + ow * S + b) * C + c] += dy[o] / (P * P);
        }
  return { ymax, arg, yavg, dxMax, dxAvg };
}

const CASES: Array<{ name: string; shape: [number, number, number, number, number, number]; ties?: boolean }> = [
  { name: 'odd sizes, pool 2 stride 2 (last row/column unused)', shape: [2, 7, 5, 3, 2, 2] },
  { name: 'overlapping pool 3 stride 2', shape: [1, 9, 8, 2, 3, 2] },
  { name: 'overlapping pool 2 stride 1, C = 1', shape: [2, 6, 5, 1, 2, 1] },
  { name: 'pool 3 stride 3 with leftovers', shape: [1, 8, 7, 4, 3, 3] },
  { name: 'ties (few distinct values), overlapping pool 3 stride 2', shape: [2, 9, 7, 3, 3, 2], ties: true },
  { name: 'all equal (every window a tie)', shape: [1, 5, 5, 2, 3, 1], ties: true },
];

describe('pool kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('poolGeometry computes valid-padding output sizes', () => {
    expect(poolGeometry(1, 7, 5, 1, 2, 2)).toMatchObject({ OH: 3, OW: 2 });
    expect(poolGeometry(1, 9, 8, 1, 3, 2)).toMatchObject({ OH: 4, OW: 3 });
    expect(() => poolGeometry(1, 2, 2, 1, 3, 1)).toThrow();
  });

  for (const { name, shape, ties } of CASES) {
    it(`max and avg pool, forward and backward: ${name}`, async ({ skip }) => {
      if (!(await gpuAvailable())) skip();
      const device = (await testDevice()) as GPUDevice;
      const g = poolGeometry(...shape);
      const { N, H, W, C, pool, stride, OH, OW } = g;
      const inCount = N * H * W * C;
      const outCount = N * OH * OW * C;
      let x = randomArray(inCount, 11 + inCount);
      if (ties) x = name.startsWith('all') ? new Float32Array(inCount).fill(0.5) : x.map((v) => Math.round(v * 1.5) / 2);
      const dy = randomArray(outCount, 5 + outCount);
      const ref = poolRef(g, x, dy);

      const xb = upload(device, x);
      const yb = upload(device, outCount);
      const argb = upload(device, outCount);
      const dyb = upload(device, dy);
      const dxb = upload(device, inCount);
      const ya = upload(device, outCount);
      const dxa = upload(device, inCount);
      await runKernel(device, maxPoolForwardKernel(g), [xb, yb, argb]);
      await runKernel(device, maxPoolBackwardKernel(g), [dyb, argb, dxb]);
      await runKernel(device, avgPoolForwardKernel(g), [xb, ya]);
      await runKernel(device, avgPoolBackwardKernel(g), [dyb, dxa]);
      const y = await download(device, yb, outCount);
      const arg = new Uint32Array((await download(device, argb, outCount)).buffer);
      const dx = await download(device, dxb, inCount);
      const yAvg = await download(device, ya, outCount);
      const dxAvg = await download(device, dxa, inCount);

      // Independent float64 reference.
      expect(Array.from(arg)).toEqual(Array.from(ref.arg));
      expect(maxAbsDiff(y, ref.ymax)).toBe(0);
      expect(maxAbsDiff(dx, ref.dxMax)).toBeLessThan(1e-5);
      expect(maxAbsDiff(yAvg, ref.yavg)).toBeLessThan(1e-6);
      expect(maxAbsDiff(dxAvg, ref.dxAvg)).toBeLessThan(1e-6);

      // tfjs cpu, including its tie rule in the max pool's gradient.
      const xt = tf.tensor4d(x, [N, H, W, C]);
      const dyt = tf.tensor4d(dy, [N, OH, OW, C]);
      const tfMax = tf.maxPool(xt, pool, stride, 'valid');
      const tfMaxGrad = tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, pool, stride, 'valid'))(xt, dyt);
      const tfAvg = tf.avgPool(xt, pool, stride, 'valid');
      const tfAvgGrad = tf.grad((t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, pool, stride, 'valid'))(xt, dyt);
      expect(maxAbsDiff(y, tfMax.dataSync())).toBe(0);
      expect(maxAbsDiff(dx, tfMaxGrad.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(yAvg, tfAvg.dataSync())).toBeLessThan(1e-6);
      expect(maxAbsDiff(dxAvg, tfAvgGrad.dataSync())).toBeLessThan(1e-6);
      tf.dispose([xt, dyt, tfMax, tfMaxGrad, tfAvg, tfAvgGrad]);
      [xb, yb, argb, dyb, dxb, ya, dxa].forEach((b) => b.destroy());
    });
  }

  for (const act of ['relu', 'elu', 'tanh'] as FusedActivation[]) {
    it(`backward kernels' dact epilogue (${act}) matches tfjs' gradient through the previous activation`, async ({ skip }) => {
      if (!(await gpuAvailable())) skip();
      const device = (await testDevice()) as GPUDevice;
      const g = poolGeometry(2, 7, 7, 3, 3, 2);
      const { N, H, W, C, pool, stride, OH, OW } = g;
      const inCount = N * H * W * C;
      const outCount = N * OH * OW * C;
      const z = randomArray(inCount, 99, -2, 2);
      const aux = z.map((v) => actRef(act, v));
      const dy = randomArray(outCount, 7);
      const ref = poolRef(g, aux, dy);

      const auxb = upload(device, aux);
      const yb = upload(device, outCount);
      const argb = upload(device, outCount);
      const dyb = upload(device, dy);
      const dxb = upload(device, inCount);
      const dxa = upload(device, inCount);
      await runKernel(device, maxPoolForwardKernel(g), [auxb, yb, argb]);
      await runKernel(device, maxPoolBackwardKernel(g, { dact: { act } }), [dyb, argb, auxb, dxb]);
      await runKernel(device, avgPoolBackwardKernel(g, { dact: { act } }), [dyb, auxb, dxa]);
      const dx = await download(device, dxb, inCount);
      const dxAvg = await download(device, dxa, inCount);

      const refMax = ref.dxMax.map((v, i) => v * dactAtInput(act, z[i]));
      const refAvg = ref.dxAvg.map((v, i) => v * dactAtInput(act, z[i]));
      expect(maxAbsDiff(dx, refMax)).toBeLessThan(1e-4);
      expect(maxAbsDiff(dxAvg, refAvg)).toBeLessThan(1e-4);

      const zt = tf.tensor4d(z, [N, H, W, C]);
      const dyt = tf.tensor4d(dy, [N, OH, OW, C]);
      const gMax = tf.grad((t: tf.Tensor) => tf.maxPool(tfAct(act, t) as tf.Tensor4D, pool, stride, 'valid'))(zt, dyt);
      const gAvg = tf.grad((t: tf.Tensor) => tf.avgPool(tfAct(act, t) as tf.Tensor4D, pool, stride, 'valid'))(zt, dyt);
      expect(maxAbsDiff(dx, gMax.dataSync())).toBeLessThan(1e-5);
      expect(maxAbsDiff(dxAvg, gAvg.dataSync())).toBeLessThan(1e-5);
      tf.dispose([zt, dyt, gMax, gAvg]);
      [auxb, yb, argb, dyb, dxb, dxa].forEach((b) => b.destroy());
    });
  }
});
