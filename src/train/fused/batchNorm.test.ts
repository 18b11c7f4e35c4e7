import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { tfAct } from './testRefs';
import { batchNormTraining, TrainingBatchNorm } from '../worker/batchNorm';
import { batchNormBackwardKernels, batchNormForwardKernels, batchNormInferenceKernel, batchNormSplit, type BatchNormStyle } from './batchNorm';
import type { OpKernels } from './reduce';
import { download, gpuAvailable, randomArray, runKernel, testDevice, upload } from './testDevice';
import { actRef, dactAtInput, type FusedActivation } from './wgsl';

const EPS = 1e-3;
const MOMENTUM = 0.99;

/** max |a − b| / max(1, max |b|). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return Number.isNaN(m) ? Infinity : m / scale;
}

/** Runs an op's kernels in order, binding by name; scratch buffers start as NaN (no zero-init assumed). */
async function runOps(device: GPUDevice, ops: OpKernels, buffers: Record<string, GPUBuffer>): Promise<void> {
  const scratch: Record<string, GPUBuffer> = {};
  for (const [name, floats] of Object.entries(ops.scratch)) scratch[name] = upload(device, new Float32Array(floats).fill(NaN));
  const all = { ...buffers, ...scratch };
  for (const kernel of ops.kernels) {
    const bound = kernel.bindings.map((b) => {
      const buffer = all[b.name];
      if (!buffer) throw new Error(`${kernel.label}: no buffer named ${b.name}`);
      return buffer;
    });
    await runKernel(device, kernel, bound);
  }
  Object.values(scratch).forEach((b) => b.destroy());
}

interface Case {
  name: string;
  shape: number[]; // [..., C]
  act: FusedActivation;
  prev?: FusedActivation; // the previous layer's activation (x = prev(z)); the dact epilogue
  offset?: number; // added to x: a large mean
  direct?: boolean; // also run the 'direct' style
}

const CASES: Case[] = [
  { name: 'C = 1, odd spatial size', shape: [2, 5, 7, 1], act: 'linear' },
  { name: 'C = 64, relu after, elu before', shape: [3, 5, 3, 64], act: 'relu', prev: 'elu' },
  { name: 'C = 3 (lanes not a power of two), leakyRelu, mean 100', shape: [4, 9, 9, 3], act: 'leakyRelu', offset: 100, direct: true },
  { name: 'dense [N, units], sigmoid after, relu before', shape: [10, 5], act: 'sigmoid', prev: 'relu', direct: true },
  { name: 'C = 300 (two channel blocks), tanh', shape: [7, 300], act: 'tanh', direct: true },
  { name: 'C = 8, R = 1200 (3 chunks: backward without a combine kernel), relu', shape: [12, 10, 10, 8], act: 'relu', direct: true },
  { name: 'C = 16, R = 20000 (79 chunks), selu, softplus before', shape: [20, 25, 40, 16], act: 'selu', prev: 'softplus', direct: true },
  { name: 'C = 1, R = 40000 (several chunks)', shape: [4, 100, 100, 1], act: 'elu' },
  { name: 'C = 2, R = 30000 (many chunks), mean 1000', shape: [3, 100, 100, 2], act: 'linear', offset: 1000, direct: true },
];

describe('batch norm pass structure', () => {
  const labels = (ops: { kernels: Array<{ label: string }> }): string[] => ops.kernels.map((k) => k.label.slice(k.label.lastIndexOf('.') + 1));
  const names = (ops: { kernels: Array<{ bindings: Array<{ name: string }> }> }): string[][] => ops.kernels.map((k) => k.bindings.map((b) => b.name));

  it('forward: stats, combine, normalize (3 kernels); 2 when one chunk covers the rows', () => {
    for (const style of ['tiled', 'direct'] as const) {
      const many = batchNormForwardKernels(32 * 28 * 28, 64, { style });
      const { P } = batchNormSplit(32 * 28 * 28, 64);
      expect(P).toBe(256);
      expect(labels(many)).toEqual(['stats', 'combine', 'normalize']);
      expect(names(many)).toEqual([
        ['x', 'bnPartial'],
        ['bnPartial', 'mean', 'invStd', 'movingMean', 'movingVar'],
        ['x', 'mean', 'invStd', 'gamma', 'beta', 'y'],
      ]);
      expect(many.scratch).toEqual({ bnPartial: 2 * P * 64 });
      for (const [R, C] of [[20000, 16], [40000, 1]]) expect(batchNormForwardKernels(R, C, { style }).kernels).toHaveLength(3);
      const one = batchNormForwardKernels(32, 128, { style, act: 'relu' });
      expect(batchNormSplit(32, 128).P).toBe(1);
      expect(labels(one)).toEqual(['stats', 'normalize']);
      expect(names(one)[0]).toEqual(['x', 'mean', 'invStd', 'movingMean', 'movingVar']);
      expect(one.scratch).toEqual({});
    }
  });

  it('backward: sums, combine, dx for many chunks; sums, dx for at most 8', () => {
    for (const style of ['tiled', 'direct'] as const) {
      const many = batchNormBackwardKernels(32 * 28 * 28, 64, { style, act: 'relu' });
      expect(labels(many)).toEqual(['sums', 'combine', 'dx']);
      expect(names(many)).toEqual([
        ['dy', 'y', 'x', 'mean', 'invStd', 'bnPartial'],
        ['bnPartial', 'gamma', 'invStd', 'dbeta', 'dgamma', 'bnCoef'],
        ['dy', 'y', 'x', 'mean', 'bnCoef', 'dx'],
      ]);
      expect(many.scratch).toEqual({ bnPartial: 2 * 256 * 64, bnCoef: 3 * 64 });
      for (const [R, C] of [[1200, 8], [32, 128], [7, 300]]) {
        const { P } = batchNormSplit(R, C);
        expect(P).toBeLessThanOrEqual(8);
        const few = batchNormBackwardKernels(R, C, { style, act: 'relu' });
        expect(labels(few)).toEqual(['sums', 'dx']);
        expect(names(few)).toEqual([
          ['dy', 'y', 'x', 'mean', 'invStd', 'gamma', 'bnPartial'],
          ['dy', 'y', 'x', 'bnPartial', 'dx', 'dgamma', 'dbeta'],
        ]);
        expect(few.scratch).toEqual({ bnPartial: (2 * P + 3) * C });
      }
      expect(batchNormSplit(1200, 8).P).toBe(3);
    }
  });

  it("'direct' kernels use no workgroup memory or barriers; 'tiled' partial kernels do", () => {
    for (const ops of [batchNormForwardKernels(20000, 16, { style: 'direct' }), batchNormBackwardKernels(20000, 16, { style: 'direct' })]) {
      for (const k of ops.kernels) expect(k.code).not.toMatch(/var<workgroup>|workgroupBarrier/);
    }
    expect(batchNormForwardKernels(20000, 16).kernels[0].code).toMatch(/workgroupBarrier/);
  });
});

describe('batch norm kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('splits the rows into at most 256 chunks of whole lanes', () => {
    expect(batchNormSplit(200704, 64)).toMatchObject({ CB: 64, L: 4, blocks: 1, P: 256 });
    expect(batchNormSplit(200704, 1)).toMatchObject({ CB: 1, L: 256, P: 49 });
    expect(batchNormSplit(7, 300)).toMatchObject({ CB: 256, L: 1, blocks: 2, P: 1 });
    for (const [R, C] of [[200704, 3], [70, 1], [1, 1], [20000, 16]]) {
      const s = batchNormSplit(R, C);
      expect(s.P * s.rowsPerChunk).toBeGreaterThanOrEqual(R);
      expect((s.P - 1) * s.rowsPerChunk).toBeLessThan(R);
      expect(s.P).toBeLessThanOrEqual(256);
    }
  });

  const runs = CASES.flatMap((c) => (c.direct ? [{ ...c, style: 'tiled' as BatchNormStyle }, { ...c, style: 'direct' as BatchNormStyle }] : [{ ...c, style: 'tiled' as BatchNormStyle }]));
  for (const { name, shape, act, prev, offset = 0, style } of runs) {
    it(`${name} (${style})`, async ({ skip }) => {
      if (!(await gpuAvailable())) skip();
      const device = (await testDevice()) as GPUDevice;
      const C = shape[shape.length - 1];
      const count = shape.reduce((a, b) => a * b, 1);
      const R = count / C;
      const seed = count + C;
      const z = randomArray(count, seed, -2, 2).map((v, i) => v * (1 + (i % C) / C) + offset);
      const x = prev ? z.map((v) => actRef(prev, v)) : z;
      const gamma = randomArray(C, seed + 1, 0.5, 1.5);
      const beta = randomArray(C, seed + 2, -0.5, 0.5);
      const mm0 = randomArray(C, seed + 3, -0.2, 0.2);
      const mv0 = randomArray(C, seed + 4, 0.8, 1.2);
      const dy = randomArray(count, seed + 5);

      // ---- float64 reference ----
      const mean = new Float64Array(C);
      const variance = new Float64Array(C);
      for (let i = 0; i < count; i++) mean[i % C] += x[i] / R;
      for (let i = 0; i < count; i++) variance[i % C] += (x[i] - mean[i % C]) ** 2 / R;
      const invStd = variance.map((v) => 1 / Math.sqrt(v + EPS));
      const xHat = Float64Array.from(x, (v, i) => (v - mean[i % C]) * invStd[i % C]);
      const yRef = xHat.map((v, i) => actRef(act, gamma[i % C] * v + beta[i % C]));
      const g = Float64Array.from(dy, (d, i) => d * dactAtInput(act, gamma[i % C] * xHat[i] + beta[i % C]));
      const dBeta = new Float64Array(C);
      const dGamma = new Float64Array(C);
      for (let i = 0; i < count; i++) {
        dBeta[i % C] += g[i];
        dGamma[i % C] += g[i] * xHat[i];
      }
      const dxRef = g.map((gi, i) => {
        const c = i % C;
        const d = gamma[c] * invStd[c] * (gi - (xHat[i] * dGamma[c]) / R - dBeta[c] / R);
        return prev ? d * dactAtInput(prev, z[i]) : d;
      });
      const mmRef = Array.from(mm0, (m, c) => m - (m - mean[c]) * (1 - MOMENTUM));
      const mvRef = Array.from(mv0, (m, c) => m - (m - variance[c]) * (1 - MOMENTUM));

      // ---- GPU ----
      const nan = (n: number) => upload(device, new Float32Array(n).fill(NaN));
      const b = {
        x: upload(device, x),
        gamma: upload(device, gamma),
        beta: upload(device, beta),
        movingMean: upload(device, mm0),
        movingVar: upload(device, mv0),
        y: nan(count),
        mean: nan(C),
        invStd: nan(C),
        dy: upload(device, dy),
        dx: nan(count),
        dgamma: nan(C),
        dbeta: nan(C),
      };
      const forward = batchNormForwardKernels(R, C, { act, style });
      const backward = batchNormBackwardKernels(R, C, { act, dact: prev ? { act: prev } : undefined, style });
      const { P } = batchNormSplit(R, C);
      expect(forward.kernels).toHaveLength(P === 1 ? 2 : 3);
      expect(backward.kernels).toHaveLength(P <= 8 ? 2 : 3);
      expect(forward.kernels.every((k) => k.bindings.length <= 8) && backward.kernels.every((k) => k.bindings.length <= 8)).toBe(true);
      await runOps(device, forward, b);
      await runOps(device, backward, b);
      const got = {
        y: await download(device, b.y, count),
        mean: await download(device, b.mean, C),
        invStd: await download(device, b.invStd, C),
        movingMean: await download(device, b.movingMean, C),
        movingVar: await download(device, b.movingVar, C),
        dx: await download(device, b.dx, count),
        dgamma: await download(device, b.dgamma, C),
        dbeta: await download(device, b.dbeta, C),
      };
      Object.values(b).forEach((buf) => buf.destroy());

      const tol = offset ? 1e-4 : 2e-5; // the relative error of float32 (x − mean) with |x| ≈ 100
      expect(relErr(got.mean, mean), 'mean').toBeLessThan(1e-6);
      expect(relErr(got.invStd, invStd), 'invStd').toBeLessThan(tol);
      expect(relErr(got.movingMean, mmRef), 'movingMean').toBeLessThan(1e-6);
      expect(relErr(got.movingVar, mvRef), 'movingVar').toBeLessThan(1e-5);
      expect(relErr(got.y, yRef), 'y').toBeLessThan(tol * 5);
      expect(relErr(got.dbeta, dBeta), 'dbeta').toBeLessThan(1e-5);
      expect(relErr(got.dgamma, dGamma), 'dgamma').toBeLessThan(tol * 5);
      expect(relErr(got.dx, dxRef), 'dx').toBeLessThan(tol * 5);

      // ---- tfjs cpu: the app's batchNormTraining (gradients through its customGrad) and TrainingBatchNorm's moving statistics ----
      const zt = tf.tensor(z, shape);
      const gt = tf.tensor1d(gamma);
      const bt = tf.tensor1d(beta);
      const dyt = tf.tensor(dy, shape);
      const f = (zIn: tf.Tensor, gIn: tf.Tensor, bIn: tf.Tensor): tf.Tensor => {
        const xIn = prev ? tfAct(prev, zIn) : zIn;
        const out = batchNormTraining(xIn, gIn as tf.Tensor1D, bIn as tf.Tensor1D, EPS);
        tf.dispose([out.mean, out.variance]);
        return tfAct(act, out.y);
      };
      const { value, grads } = tf.valueAndGrads(f)([zt, gt, bt], dyt);
      expect(relErr(got.y, value.dataSync()), 'tf y').toBeLessThan(tol * 5);
      expect(relErr(got.dx, grads[0].dataSync()), 'tf dx').toBeLessThan(tol * 5);
      expect(relErr(got.dgamma, grads[1].dataSync()), 'tf dgamma').toBeLessThan(tol * 5);
      expect(relErr(got.dbeta, grads[2].dataSync()), 'tf dbeta').toBeLessThan(1e-4);

      const layer = new TrainingBatchNorm();
      const xt = prev ? tfAct(prev, zt) : zt;
      layer.build(xt.shape);
      layer.setWeights([gt, bt, tf.tensor1d(mm0), tf.tensor1d(mv0)]);
      const yl = layer.apply(xt, { training: true }) as tf.Tensor;
      const w = layer.getWeights();
      expect(relErr(got.movingMean, w[2].dataSync()), 'tf movingMean').toBeLessThan(1e-5);
      expect(relErr(got.movingVar, w[3].dataSync()), 'tf movingVar').toBeLessThan(offset ? 1e-4 : 1e-5);
      const ya = tfAct(act, yl);
      expect(relErr(ya.dataSync(), got.y), 'tf layer y').toBeLessThan(tol * 5);
      tf.dispose([zt, gt, bt, dyt, value, ...grads, xt, yl, ya, ...w]);
    });
  }

  it('inference mode: the moving statistics, against float64 and the app\'s layer with training off', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    for (const [shape, act] of [
      [[3, 5, 5, 6], 'relu'],
      [[7, 12], 'selu'],
    ] as [number[], FusedActivation][]) {
      const C = shape[shape.length - 1];
      const count = shape.reduce((a, b) => a * b, 1);
      const x = randomArray(count, count, -3, 3).map((v) => v + 5);
      const gamma = randomArray(C, 11, 0.5, 1.5);
      const beta = randomArray(C, 12, -0.5, 0.5);
      const mm = randomArray(C, 13, 4, 6);
      const mv = randomArray(C, 14, 0.5, 3);
      const ref = Array.from(x, (v, i) => actRef(act, ((v - mm[i % C]) / Math.sqrt(mv[i % C] + EPS)) * gamma[i % C] + beta[i % C]));
      const y = upload(device, new Float32Array(count).fill(NaN));
      const kernel = batchNormInferenceKernel(count / C, C, { act });
      const buffers: Record<string, GPUBuffer> = { x: upload(device, x), movingMean: upload(device, mm), movingVar: upload(device, mv), gamma: upload(device, gamma), beta: upload(device, beta), y };
      await runKernel(device, kernel, kernel.bindings.map((b) => buffers[b.name]));
      const got = await download(device, y, count);
      expect(relErr(got, ref), `${act} vs float64`).toBeLessThan(1e-5);
      const layer = new TrainingBatchNorm();
      const xt = tf.tensor(x, shape);
      layer.build(xt.shape);
      layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), tf.tensor1d(mm), tf.tensor1d(mv)]);
      const yl = tfAct(act, layer.apply(xt, { training: false }) as tf.Tensor);
      expect(relErr(got, yl.dataSync()), `${act} vs the layer`).toBeLessThan(1e-5);
      tf.dispose([xt, yl, ...layer.getWeights()]);
      Object.values(buffers).forEach((b) => b.destroy());
    }
  });
});
