import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tfAct } from './testRefs';
import { upsampleBackwardKernel, upsampleForwardKernel } from './upsample';
import { download, gpuAvailable, randomArray, runKernel, testDevice, upload } from './testDevice';
import { actRef, dactAtInput, type FusedActivation } from './wgsl';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const CASES: Array<[number, number, number, number, number]> = [
  [2, 3, 5, 3, 2],
  [1, 4, 3, 1, 3],
  [3, 5, 5, 4, 1],
  [1, 2, 3, 7, 4],
];

describe('upsample kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [N, H, W, C, s] of CASES) {
    for (const act of [null, 'relu', 'sigmoid', 'leakyRelu'] as Array<FusedActivation | null>) {
      it(`N${N} H${H} W${W} C${C} s${s}, dact ${act ?? 'none'}`, async ({ skip }) => {
        if (!(await gpuAvailable())) skip();
        const device = (await testDevice()) as GPUDevice;
        const OH = H * s;
        const OW = W * s;
        const inCount = N * H * W * C;
        const outCount = N * OH * OW * C;
        const z = randomArray(inCount, 3 + inCount, -2, 2);
        const x = act ? z.map((v) => actRef(act, v)) : z;
        const dy = randomArray(outCount, 8 + outCount);

        // Float64 reference: forward by the formula, backward by scattering dy.
        const yRef = new Float64Array(outCount);
        const dxRef = new Float64Array(inCount);
        for (let n = 0; n < N; n++)
          for (let i = 0; i < OH; i++)
            for (let j = 0; j < OW; j++)
              for (let c = 0; c < C; c++) {
                const src = ((n * H + Math.floor(i / s)) * W + Math.floor(j / s)) * C + c;
                const o = ((n * OH + i) * OW + j) * C + c;
                yRef[o] = x[src];
                dxRef[src] += dy[o];
              }
        if (act) for (let i = 0; i < inCount; i++) dxRef[i] *= dactAtInput(act, z[i]);

        const xb = upload(device, x);
        const yb = upload(device, outCount);
        const dyb = upload(device, dy);
        const dxb = upload(device, inCount);
        await runKernel(device, upsampleForwardKernel(N, H, W, C, s), [xb, yb]);
        const backward = upsampleBackwardKernel(N, H, W, C, s, act ? { dact: { act } } : {});
        await runKernel(device, backward, act ? [dyb, xb, dxb] : [dyb, dxb]);
        const y = await download(device, yb, outCount);
        const dx = await download(device, dxb, inCount);
        expect(maxAbsDiff(y, yRef)).toBe(0);
        expect(maxAbsDiff(dx, dxRef)).toBeLessThan(1e-4);

        // tfjs cpu: the upSampling2d layer forward, resizeNearestNeighbor's gradient backward.
        const zt = tf.tensor4d(z, [N, H, W, C]);
        const xt = act ? tfAct(act, zt) : zt;
        const layer = tf.layers.upSampling2d({ size: [s, s] });
        const yt = layer.apply(xt) as tf.Tensor;
        expect(maxAbsDiff(y, yt.dataSync())).toBe(0);
        // tfjs cpu's ResizeNearestNeighborGrad (tfjs 4.x) is wrong for batch > 1 (every batch item after the first
        // gets the first's offsets), so its gradient is checked one batch item at a time.
        const dyt = tf.tensor4d(dy, [N, OH, OW, C]);
        for (let n = 0; n < N; n++) {
          const zn = tf.slice(zt, [n, 0, 0, 0], [1, H, W, C]);
          const dyn = tf.slice(dyt, [n, 0, 0, 0], [1, OH, OW, C]);
          const grad = tf.grad((t: tf.Tensor) => tf.image.resizeNearestNeighbor((act ? tfAct(act, t) : t) as tf.Tensor4D, [OH, OW]))(zn, dyn);
          expect(maxAbsDiff(dx.subarray(n * H * W * C, (n + 1) * H * W * C), grad.dataSync())).toBeLessThan(1e-5);
          tf.dispose([zn, dyn, grad]);
        }
        tf.dispose([zt, xt, yt, dyt]);
        [xb, yb, dyb, dxb].forEach((b) => b.destroy());
      });
    }
  }
});
