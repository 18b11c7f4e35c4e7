import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LAYER_KIND_LIST } from '../../model/catalogue';
import { gradientCheck, variantGradientCheck } from './gradcheck';
import {
  blockSumResizeNearestNeighborGrad,
  directCalls,
  isOurKernel,
  kernelStats,
  missingTrainingKernels,
  registerTrainingGradients,
  registerTrainingKernels,
  resetKernelStats,
  restoreStockGradients,
  wasmConvPaths,
  wasmMatMulPaths,
} from './kernels';

// The stock kernels, captured before anything is registered.
const stockCpuResizeGrad = tf.getKernel('ResizeNearestNeighborGrad', 'cpu');
const wasmHadFilterGrad = tf.getKernel('Conv2DBackpropFilter', 'wasm') != null;
const stockWasmIdentity = tf.getKernel('Identity', 'wasm');
const missingBefore = missingTrainingKernels(['wasm', 'cpu']);

let registered: string[] = [];

beforeAll(async () => {
  const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  setWasmPaths(join(dirname(pkg), 'dist') + '/');
  registered = registerTrainingKernels();
  await tf.setBackend('cpu');
});

afterEach(() => {
  wasmConvPaths.filterGrad = 'auto';
  wasmConvPaths.inputGrad = 'auto';
  wasmConvPaths.chunkFloats = 1 << 22;
  wasmConvPaths.direct = true;
  wasmConvPaths.directFilterGrad = 'auto';
  wasmMatMulPaths.simd = 'auto';
});

async function switchTo(backend: 'cpu' | 'wasm'): Promise<void> {
  expect(await tf.setBackend(backend)).toBe(true);
  await tf.ready();
}

function one(t: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(t)) throw new Error('expected one tensor');
  return t;
}

/** Deterministic values in [-0.5, 0.5). */
function values(n: number, seed: number): Float32Array {
  let a = seed >>> 0 || 1;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296 - 0.5;
  });
}

const size = (shape: number[]): number => shape.reduce((p, q) => p * q, 1);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Runs `f` on the given backend with fresh tensors made from plain arrays; returns the result values. */
async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<Float32Array> {
  await switchTo(backend);
  const before = tf.memory().numTensors;
  const t = f();
  const out = Float32Array.from(await t.data());
  t.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

describe('registration', () => {
  it('fills the gaps and replaces the broken kernels, once', () => {
    expect(wasmHadFilterGrad).toBe(false);
    expect(missingBefore).toEqual(['wasm:Conv2DBackpropFilter']);
    expect(registered).toEqual(
      expect.arrayContaining([
        'wasm:Conv2DBackpropFilter',
        'wasm:Conv2DBackpropInput',
        'wasm:MaxPoolGrad',
        'wasm:ResizeNearestNeighborGrad',
        'wasm:BatchMatMul',
        'wasm:Sum',
        'wasm:Mean',
        'wasm:FusedBatchNorm',
        'wasm:LeakyRelu',
        'wasm:Slice',
        'wasm:Identity',
        'cpu:ResizeNearestNeighborGrad',
      ]),
    );
    expect(missingTrainingKernels(['wasm', 'cpu'])).toEqual([]);
    expect(isOurKernel('Conv2DBackpropFilter', 'wasm')).toBe(true);
    expect(isOurKernel('Conv2DBackpropInput', 'wasm')).toBe(true);
    expect(isOurKernel('ResizeNearestNeighborGrad', 'cpu')).toBe(true);
    expect(isOurKernel('Identity', 'wasm')).toBe(true);
    expect(isOurKernel('Identity', 'cpu')).toBe(false);
    expect(registerTrainingKernels()).toEqual([]);
  });
});

describe('our LeakyRelu and FusedBatchNorm gradients', () => {
  /** All input gradients of leaky ReLU and batch norm, concatenated. */
  const grads = (): tf.Tensor =>
    tf.tidy(() => {
      const shape = [3, 5, 4, 6];
      const x = tf.tensor(Array.from(values(size(shape), 71), (v, i) => (i % 7 === 0 ? 0 : v)), shape); // exact zeros too
      const w = tf.tensor(values(size(shape), 72), shape);
      const c = (seed: number, lo: number): tf.Tensor1D => tf.tensor1d(Array.from(values(6, seed), (v) => lo + v));
      const [mean, variance, offset, scale] = [c(73, 0), c(74, 1), c(75, 0), c(76, 1)];
      const loss = (y: tf.Tensor): tf.Scalar => tf.sum(tf.mul(y, w));
      const leaky = tf.grad((t: tf.Tensor) => loss(tf.leakyRelu(t, 0.2)))(x);
      const bn = tf.grads((a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, g: tf.Tensor) =>
        loss(tf.batchNorm(a as tf.Tensor4D, m as tf.Tensor1D, v as tf.Tensor1D, o as tf.Tensor1D, g as tf.Tensor1D, 1e-3)),
      )([x, mean, variance, offset, scale]);
      // (without γ, tfjs 4.22 cannot differentiate batchNorm at all: it saves the missing input)
      return tf.concat([leaky, ...bn].map((t) => tf.reshape(t, [-1])));
    });

  it.each(['cpu', 'wasm'] as const)('equal tfjs-core’s on %s (and use no Tile, Greater or Select)', async (backend) => {
    restoreStockGradients();
    let stock: Float32Array;
    try {
      stock = await on(backend, grads);
    } finally {
      registerTrainingGradients();
    }
    // Count the calls of a few kernels by wrapping them (tf.profile reads outputs after tidy frees them).
    const calls = new Map<string, number>();
    const saved = ['Tile', 'Select', 'Step'].map((name) => {
      const k = tf.getKernel(name, backend);
      if (k == null) throw new Error(`${name} not registered on ${backend}`);
      tf.unregisterKernel(name, backend);
      tf.registerKernel({ ...k, kernelFunc: (args) => (calls.set(name, (calls.get(name) ?? 0) + 1), k.kernelFunc(args)) });
      return k;
    });
    let ours: Float32Array;
    try {
      ours = await on(backend, grads);
    } finally {
      for (const k of saved) {
        tf.unregisterKernel(k.kernelName, backend);
        tf.registerKernel(k);
      }
    }
    expect(ours.length).toBe(stock.length);
    expect(maxAbsDiff(ours, stock)).toBeLessThan(1e-4);
    expect(calls.get('Tile') ?? 0).toBe(0);
    expect(calls.get('Select') ?? 0).toBe(0);
    expect(calls.get('Step')).toBe(1);
  });
});

describe.each(['cpu', 'wasm'] as const)('gradient check on %s', (backend) => {
  it('passes for every layer kind, with a finite adam step, and leaks nothing', async () => {
    await switchTo(backend);
    const before = tf.memory().numTensors;
    const results = await gradientCheck();
    expect(tf.memory().numTensors).toBe(before);
    expect(results.map((r) => r.kind).sort()).toEqual([...LAYER_KIND_LIST].sort());
    for (const r of results) {
      expect(r.backend).toBe(backend);
      expect(r.ok, `${r.kind}: ${r.detail}`).toBe(true);
      expect(r.maxRelError).toBeLessThan(2e-2);
    }
  });

  it('passes for every variant’s whole objective (#16), and leaks nothing', async () => {
    await switchTo(backend);
    const before = tf.memory().numTensors;
    const results = await variantGradientCheck();
    expect(tf.memory().numTensors).toBe(before);
    expect(results).toHaveLength(5);
    for (const r of results) expect(r.ok, `${r.kind}: ${r.detail}`).toBe(true);
  });
});

interface ConvCase {
  k: number;
  s: number;
  pad: 'same' | 'valid';
  h: number;
  w: number;
  ci: number;
  co: number;
}

function convCases(): ConvCase[] {
  const cases: ConvCase[] = [];
  for (const k of [1, 3, 5])
    for (const s of [1, 2])
      for (const pad of ['same', 'valid'] as const)
        for (const [h, w] of [
          [7, 7],
          [9, 6],
        ])
          for (const [ci, co] of [
            [1, 3],
            [4, 2],
          ])
            cases.push({ k, s, pad, h, w, ci, co });
  return cases;
}

function outLen(n: number, k: number, s: number, pad: 'same' | 'valid'): number {
  return pad === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

describe('wasm Conv2DBackpropFilter against the cpu backend', () => {
  const B = 3;
  it.each(['auto', 'normal', 'swapped'] as const)('matches for kernel 1/3/5, stride 1/2, same/valid (%s path)', async (path) => {
    wasmConvPaths.filterGrad = path;
    let worst = 0;
    for (const c of convCases()) {
      const xShape = [B, c.h, c.w, c.ci];
      const dyShape = [B, outLen(c.h, c.k, c.s, c.pad), outLen(c.w, c.k, c.s, c.pad), c.co];
      const xv = values(size(xShape), 1 + c.k * 7 + c.s);
      const dyv = values(size(dyShape), 2 + c.ci * 5 + c.co);
      const attrs = { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: 'floor', filterShape: [c.k, c.k, c.ci, c.co] };
      const run = (): tf.Tensor =>
        tf.tidy(() => one(tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(xv, xShape), dy: tf.tensor(dyv, dyShape) }, attrs)));
      const ref = await on('cpu', run);
      resetKernelStats();
      const got = await on('wasm', run);
      expect(kernelStats.Conv2DBackpropFilter.calls).toBe(1);
      // it is built from wasm's own kernels (Transpose, XNNPACK Conv2D): their time is counted apart;
      // in 'auto' these few-channel cases run our SIMD kernel instead (tested below)
      if (path !== 'auto') expect(kernelStats.Conv2DBackpropFilter.wasmMs).toBeGreaterThan(0);
      expect(kernelStats.Conv2DBackpropFilter.wasmMs).toBeLessThanOrEqual(kernelStats.Conv2DBackpropFilter.ms);
      const err = maxAbsDiff(ref, got);
      expect(err, JSON.stringify(c)).toBeLessThan(1e-4);
      worst = Math.max(worst, err);
    }
    expect(worst).toBeLessThan(1e-4);
  });

  it('matches at training size (batch 32, 28×28, 16→1 and 1→16)', async () => {
    for (const [ci, co] of [
      [16, 1],
      [1, 16],
    ]) {
      const xShape = [32, 28, 28, ci];
      const dyShape = [32, 28, 28, co];
      const xv = values(size(xShape), 11);
      const dyv = values(size(dyShape), 12);
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, ci, co] };
      const run = (): tf.Tensor =>
        tf.tidy(() => one(tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(xv, xShape), dy: tf.tensor(dyv, dyShape) }, attrs)));
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      // sums of 25088 products: compare relative to the gradient's scale
      const scale = Math.max(...Array.from(ref, Math.abs));
      expect(maxAbsDiff(ref, got) / scale).toBeLessThan(1e-5);
    }
  });
});

describe('wasm Conv2DBackpropInput against the cpu backend', () => {
  const B = 3;
  it.each(['auto', 'matmul'] as const)('matches for kernel 1/3/5, stride 1/2, same/valid (%s path)', async (path) => {
    wasmConvPaths.inputGrad = path;
    for (const c of convCases()) {
      const xShape: [number, number, number, number] = [B, c.h, c.w, c.ci];
      const dyShape = [B, outLen(c.h, c.k, c.s, c.pad), outLen(c.w, c.k, c.s, c.pad), c.co];
      const wShape = [c.k, c.k, c.ci, c.co];
      const dyv = values(size(dyShape), 3 + c.k);
      const wv = values(size(wShape), 4 + c.co);
      const run = (): tf.Tensor =>
        tf.tidy(() => tf.conv2dTranspose(tf.tensor4d(dyv, dyShape as [number, number, number, number]), tf.tensor4d(wv, wShape as [number, number, number, number]), xShape, c.s, c.pad));
      const ref = await on('cpu', run);
      resetKernelStats();
      const got = await on('wasm', run);
      expect(kernelStats.Conv2DBackpropInput.calls).toBe(1);
      expect(maxAbsDiff(ref, got), JSON.stringify(c)).toBeLessThan(1e-4);
    }
  });

  it('matches when col2im runs in several chunks', async () => {
    wasmConvPaths.inputGrad = 'matmul';
    wasmConvPaths.chunkFloats = 500; // a few output rows per chunk
    const xShape: [number, number, number, number] = [3, 9, 8, 4];
    const dyShape: [number, number, number, number] = [3, 5, 4, 3];
    const dyv = values(size(dyShape), 21);
    const wv = values(3 * 3 * 4 * 3, 22);
    const run = (): tf.Tensor => tf.tidy(() => tf.conv2dTranspose(tf.tensor4d(dyv, dyShape), tf.tensor4d(wv, [3, 3, 4, 3]), xShape, 2, 'same'));
    const ref = await on('cpu', run);
    const got = await on('wasm', run);
    expect(maxAbsDiff(ref, got)).toBeLessThan(1e-4);
  });
});

describe('wasm convolutions with one input or one output channel (our SIMD kernels) against the cpu backend', () => {
  // Odd sizes, every kernel size, stride and padding kind, channel counts that leave SIMD remainders
  // (3, 5, 18, 21 = 16 + 5) and both one-channel sides, so every branch of assembly/kernels.ts runs.
  const cases: ConvCase[] = [];
  for (const [k, s, pad, h, w] of [
    [3, 1, 'same', 7, 9],
    [1, 1, 'valid', 5, 4],
    [4, 1, 'same', 6, 7], // even kernel: asymmetric 'same' padding
    [5, 2, 'same', 9, 8],
    [3, 2, 'valid', 9, 6],
    [2, 3, 'valid', 8, 11],
  ] as const)
    for (const [ci, co] of [
      [1, 3],
      [1, 16],
      [1, 21],
      [5, 1],
      [18, 1],
      [1, 1],
    ])
      cases.push({ k, s, pad, h, w, ci, co });
  const B = 3;
  const shapes = (c: ConvCase): { x: [number, number, number, number]; w: [number, number, number, number]; dy: [number, number, number, number] } => ({
    x: [B, c.h, c.w, c.ci],
    w: [c.k, c.k, c.ci, c.co],
    dy: [B, outLen(c.h, c.k, c.s, c.pad), outLen(c.w, c.k, c.s, c.pad), c.co],
  });

  /** The filter gradient of case c on wasm runs our SIMD kernel and equals the cpu backend's. */
  async function expectDirectFilterGrad(c: ConvCase, seed: number): Promise<void> {
    const sh = shapes(c);
    const xv = values(size(sh.x), seed + c.k);
    const dyv = values(size(sh.dy), seed + 1 + c.ci + c.co);
    const attrs = { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC', filterShape: sh.w };
    const run = (): tf.Tensor =>
      tf.tidy(() => one(tf.engine().runKernel('Conv2DBackpropFilter', { x: tf.tensor(xv, sh.x), dy: tf.tensor(dyv, sh.dy) }, attrs)));
    const ref = await on('cpu', run);
    const before = directCalls.Conv2DBackpropFilter;
    const got = await on('wasm', run);
    expect(directCalls.Conv2DBackpropFilter, JSON.stringify(c)).toBe(before + 1);
    expect(maxAbsDiff(ref, got), JSON.stringify(c)).toBeLessThan(1e-4);
  }

  it('filter gradient (Conv2DBackpropFilter)', async () => {
    for (const c of cases) await expectDirectFilterGrad(c, 31);
  });

  it('filter gradient with any channel counts (directFilterGrad all; auto takes few channels)', async () => {
    wasmConvPaths.directFilterGrad = 'all';
    try {
      for (const c of convCases().concat([
        { k: 3, s: 1, pad: 'same', h: 7, w: 6, ci: 18, co: 20 }, // 16 + remainders on both sides
        { k: 3, s: 2, pad: 'same', h: 9, w: 7, ci: 5, co: 17 },
        { k: 4, s: 1, pad: 'valid', h: 6, w: 8, ci: 21, co: 3 }, // vectors over ci, scattered by co
      ]))
        await expectDirectFilterGrad(c, 51);
    } finally {
      wasmConvPaths.directFilterGrad = 'auto';
    }
  });

  it('input gradient (Conv2DBackpropInput, also conv2dTranspose’s forward)', async () => {
    for (const c of cases) {
      const sh = shapes(c);
      const dyv = values(size(sh.dy), 33 + c.k);
      const wv = values(size(sh.w), 34 + c.co);
      const run = (): tf.Tensor => tf.tidy(() => tf.conv2dTranspose(tf.tensor4d(dyv, sh.dy), tf.tensor4d(wv, sh.w), sh.x, c.s, c.pad));
      const ref = await on('cpu', run);
      const before = directCalls.Conv2DBackpropInput;
      const got = await on('wasm', run);
      expect(directCalls.Conv2DBackpropInput, JSON.stringify(c)).toBe(before + 1);
      expect(maxAbsDiff(ref, got), JSON.stringify(c)).toBeLessThan(1e-4);
    }
  });

  it('forward with one output channel (FusedConv2D: bias or none, each fused activation)', async () => {
    const acts = ['linear', 'relu', 'sigmoid', 'elu', 'relu6', 'leakyrelu', 'prelu'] as const;
    let i = 0;
    for (const c of cases.filter((q) => q.co === 1)) {
      const sh = shapes(c);
      const xv = values(size(sh.x), 35 + c.k);
      const wv = values(size(sh.w), 36 + c.ci).map((v) => 2 * v);
      const activation = acts[i % acts.length];
      const withBias = i % 3 !== 2;
      i++;
      // outside gradient tapes every activation is fused into the one kernel (inside them only 'linear' is)
      const run = (): tf.Tensor =>
        tf.tidy(() =>
          tf.fused.conv2d({
            x: tf.tensor4d(xv, sh.x),
            filter: tf.tensor4d(wv, sh.w),
            strides: c.s,
            pad: c.pad,
            bias: withBias ? tf.scalar(0.1) : undefined,
            activation,
            leakyreluAlpha: 0.3,
            preluActivationWeights: activation === 'prelu' ? tf.scalar(0.2) : undefined,
          }),
        );
      const ref = await on('cpu', run);
      const before = directCalls.FusedConv2D;
      const got = await on('wasm', run);
      expect(directCalls.FusedConv2D, `${JSON.stringify(c)} ${activation}`).toBe(before + 1);
      expect(maxAbsDiff(ref, got), `${JSON.stringify(c)} ${activation} bias ${withBias}`).toBeLessThan(1e-4);
    }
  });

  it('other convolutions and wasmConvPaths.direct = false keep to the XNNPACK paths', async () => {
    const before = { ...directCalls };
    const f = (ci: number, co: number) => (): tf.Tensor =>
      tf.tidy(() => tf.conv2d(tf.tensor4d(values(2 * 6 * 6 * ci, 41), [2, 6, 6, ci]), tf.tensor4d(values(9 * ci * co, 42), [3, 3, ci, co]), 1, 'same'));
    const g = (ci: number, co: number) => (): tf.Tensor =>
      tf.tidy(() => {
        const x = tf.tensor4d(values(2 * 6 * 6 * ci, 43), [2, 6, 6, ci]);
        return tf.grad((w) => tf.conv2d(x, w as tf.Tensor4D, 1, 'same').square().sum())(tf.tensor4d(values(9 * ci * co, 44), [3, 3, ci, co]));
      });
    expect(maxAbsDiff(await on('cpu', g(20, 24)), await on('wasm', g(20, 24)))).toBeLessThan(1e-3);
    expect(maxAbsDiff(await on('cpu', f(4, 2)), await on('wasm', f(4, 2)))).toBeLessThan(1e-4);
    expect(directCalls).toEqual(before);
    wasmConvPaths.direct = false;
    expect(maxAbsDiff(await on('cpu', g(1, 4)), await on('wasm', g(1, 4)))).toBeLessThan(1e-4);
    expect(maxAbsDiff(await on('cpu', g(4, 1)), await on('wasm', g(4, 1)))).toBeLessThan(1e-4);
    expect(directCalls).toEqual(before);
    wasmConvPaths.direct = true;
    expect(maxAbsDiff(await on('cpu', g(4, 1)), await on('wasm', g(4, 1)))).toBeLessThan(1e-4);
    expect(directCalls.Conv2DBackpropFilter).toBe(before.Conv2DBackpropFilter + 1);
  });
});

describe('the SIMD module', () => {
  it('is built from its source (scripts/build-simd.mjs --check)', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
    // throws (non-zero exit) when simdWasm.ts differs from what assembly/kernels.ts compiles to
    const out = execFileSync(process.execPath, [join(root, 'scripts/build-simd.mjs'), '--check'], { cwd: root, encoding: 'utf8' });
    expect(out).toMatch(/up to date/);
  });
});

describe('wasm BatchMatMul with transposed operands against the cpu backend', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[32, 784], [32, 256], true, false], // xᵀ·dy: a dense kernel's gradient
    [[32, 784], [256, 784], false, true], // dy·Wᵀ: a dense input's gradient
    [[7, 5], [3, 7], true, true],
    [[2, 6, 4], [2, 6, 3], true, false], // batched
    [[2, 4, 6], [2, 3, 6], false, true],
    [[1, 5], [4, 5], false, true], // a size-1 dimension
    [[3, 4], [4, 2], false, false], // no transpose: the stock path
  ];
  it.each(cases)('a %j · b %j (transposeA %s, transposeB %s)', async (aShape, bShape, ta, tb) => {
    const av = values(size(aShape), 11);
    const bv = values(size(bShape), 12);
    const f = (): tf.Tensor => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), ta, tb);
    const cpu = await on('cpu', () => tf.tidy(f));
    const wasm = await on('wasm', () => tf.tidy(f));
    expect(maxAbsDiff(wasm, cpu)).toBeLessThan(1e-4);
    expect(isOurKernel('BatchMatMul', 'wasm')).toBe(true);
  });
});

describe('wasm matrix products on our SIMD GEMMs against the cpu backend', () => {
  // Sizes that leave every remainder: rows mod 4, columns mod 8 and mod 4, k mod 4; batch dims.
  const shapes: [number, number, number, number[]][] = [
    [32, 784, 256, []], // the dense AE's layers
    [32, 256, 784, []],
    [7, 13, 11, []],
    [5, 3, 21, []],
    [1, 9, 2, []],
    [6, 10, 12, [2, 3]],
  ];
  const cases = shapes.flatMap(([m, k, n, batch]) =>
    ([[false, false], [true, false], [false, true]] as const).map(([ta, tb]) => ({ m, k, n, batch, ta, tb })),
  );
  it.each(cases)('%j', async ({ m, k, n, batch, ta, tb }) => {
    const aShape = [...batch, ta ? k : m, ta ? m : k];
    const bShape = [...batch, tb ? n : k, tb ? k : n];
    const av = values(size(aShape), 81 + m);
    const bv = values(size(bShape), 82 + n);
    const f = (): tf.Tensor => tf.tidy(() => tf.matMul(tf.tensor(av, aShape), tf.tensor(bv, bShape), ta, tb));
    const cpu = await on('cpu', f);
    const before = directCalls.BatchMatMul;
    const wasm = await on('wasm', f);
    expect(directCalls.BatchMatMul).toBe(before + 1);
    expect(maxAbsDiff(wasm, cpu)).toBeLessThan(1e-4 * Math.sqrt(k));
  });

  it('a dense layer’s forward (_FusedMatMul): bias or none, each activation, transposes', async () => {
    const acts = ['linear', 'relu', 'sigmoid', 'elu', 'relu6', 'leakyrelu', 'prelu'] as const;
    let i = 0;
    for (const [m, k, n] of [[32, 784, 256], [7, 13, 11], [5, 3, 9]])
      for (const act of acts) {
        const ta = i % 3 === 1;
        const tb = i % 3 === 2;
        const withBias = i % 4 !== 3;
        i++;
        const av = values(m * k, 91 + i);
        const bv = values(k * n, 92 + i);
        const biasV = values(n, 93 + i);
        const f = (): tf.Tensor =>
          tf.tidy(() =>
            tf.fused.matMul({
              a: tf.tensor2d(av, ta ? [k, m] : [m, k]),
              b: tf.tensor2d(bv, tb ? [n, k] : [k, n]),
              transposeA: ta,
              transposeB: tb,
              bias: withBias ? tf.tensor1d(biasV) : undefined,
              activation: act,
              leakyreluAlpha: 0.3,
              preluActivationWeights: act === 'prelu' ? tf.scalar(0.2) : undefined,
            }),
          );
        const cpu = await on('cpu', f);
        const before = directCalls.BatchMatMul;
        const wasm = await on('wasm', f);
        expect(directCalls.BatchMatMul, `${m}×${k}×${n} ${act}`).toBe(before + 1);
        expect(maxAbsDiff(wasm, cpu), `${m}×${k}×${n} ${act} ta ${ta} tb ${tb} bias ${withBias}`).toBeLessThan(1e-3);
      }
  });

  it('off: the XNNPACK paths, same values', async () => {
    wasmMatMulPaths.simd = 'off';
    const before = directCalls.BatchMatMul;
    const f = (): tf.Tensor => tf.tidy(() => tf.matMul(tf.tensor2d(values(35, 1), [5, 7]), tf.tensor2d(values(21, 2), [3, 7]), false, true));
    expect(maxAbsDiff(await on('wasm', f), await on('cpu', f))).toBeLessThan(1e-5);
    expect(directCalls.BatchMatMul).toBe(before);
  });
});

describe('wasm ResizeNearestNeighbor (upSampling2d) by whole factors on our SIMD kernel', () => {
  it('matches the cpu backend for factors 1-5, odd sizes, channel remainders; other resizes go to the stock kernel', async () => {
    for (const [h, w, c, fy, fx] of [
      [7, 7, 16, 2, 2],
      [5, 3, 5, 3, 2],
      [4, 6, 1, 1, 4],
      [3, 2, 7, 5, 3],
      [2, 9, 4, 2, 1],
    ]) {
      const shape: [number, number, number, number] = [3, h, w, c];
      const xv = values(size(shape), 101 + h);
      const run = (): tf.Tensor => tf.tidy(() => tf.image.resizeNearestNeighbor(tf.tensor4d(xv, shape), [h * fy, w * fx]));
      const ref = await on('cpu', run);
      const before = directCalls.ResizeNearestNeighbor;
      const got = await on('wasm', run);
      expect(directCalls.ResizeNearestNeighbor, `${h}×${w}×${c} ×${fy}×${fx}`).toBe(before + 1);
      expect(maxAbsDiff(ref, got)).toBe(0);
    }
    const before = directCalls.ResizeNearestNeighbor;
    for (const [size2, align, half] of [
      [[10, 9], false, false], // not whole factors
      [[14, 14], true, false],
      [[14, 14], false, true],
    ] as const) {
      const run = (): tf.Tensor => tf.tidy(() => tf.image.resizeNearestNeighbor(tf.tensor4d(values(2 * 7 * 7 * 3, 5), [2, 7, 7, 3]), [size2[0], size2[1]], align, half));
      expect(maxAbsDiff(await on('cpu', run), await on('wasm', run))).toBeLessThan(1e-6);
    }
    expect(directCalls.ResizeNearestNeighbor).toBe(before);
  });
});

describe('wasm MaxPoolGrad against the cpu backend', () => {
  it('matches for pool 2/3, stride 1/2/3, valid/same, odd sizes, batch 3', async () => {
    for (const [k, s, pad, h, w, c] of [
      [2, 2, 'valid', 6, 6, 3],
      [2, 2, 'valid', 7, 5, 2],
      [3, 2, 'valid', 7, 7, 4],
      [3, 1, 'valid', 5, 6, 1],
      [2, 3, 'valid', 8, 8, 2],
      [3, 2, 'same', 7, 6, 3],
      [2, 2, 'same', 7, 5, 2], // disjoint windows cut at the edge
      [3, 3, 'same', 8, 7, 2],
      [2, 2, 'same', 6, 6, 16],
      [2, 2, 'valid', 7, 9, 7], // SIMD lanes and a scalar remainder
      [3, 3, 'valid', 10, 9, 21],
    ] as const) {
      const shape: [number, number, number, number] = [3, h, w, c];
      const xv = values(size(shape), 61 + k * 10 + s); // distinct values: no ties
      const run = (): tf.Tensor =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, shape);
          const dyShape = tf.maxPool(x, k, s, pad).shape;
          const dy = tf.tensor(values(size(dyShape), 62), dyShape);
          return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, k, s, pad), dy)))(x);
        });
      const ref = await on('cpu', run);
      // windows that do not overlap run our SIMD kernel, the rest our JavaScript; both checked
      for (const direct of [true, false]) {
        wasmConvPaths.direct = direct;
        resetKernelStats();
        const before = directCalls.MaxPoolGrad;
        const got = await on('wasm', run);
        expect(kernelStats.MaxPoolGrad.calls).toBe(1);
        expect(kernelStats.MaxPoolGrad.wasmMs).toBe(0); // none of wasm's own kernels
        expect(directCalls.MaxPoolGrad - before).toBe(direct && s >= k ? 1 : 0);
        expect(maxAbsDiff(ref, got), `${k} ${s} ${pad} ${h}×${w}×${c} direct ${direct}`).toBeLessThan(1e-6);
      }
    }
  });

  it('NaN is never a maximum, and a window of only NaN and −∞ sends nothing (both paths, as the cpu backend)', async () => {
    const shape: [number, number, number, number] = [2, 6, 6, 5];
    const xv = Array.from(values(size(shape), 71), (v, i) => (i % 7 === 0 ? NaN : i % 11 === 0 ? -Infinity : v));
    // one window made all NaN / −∞ in every channel
    for (const [y, xx] of [[2, 2], [2, 3], [3, 2], [3, 3]]) for (let c = 0; c < 5; c++) xv[((y * 6) + xx) * 5 + c] = (y + xx + c) % 2 ? NaN : -Infinity;
    const run = (): tf.Tensor =>
      tf.tidy(() => {
        const x = tf.tensor4d(xv, shape);
        const dy = tf.tensor(values(2 * 3 * 3 * 5, 72), [2, 3, 3, 5]);
        return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'), dy)))(x);
      });
    const ref = await on('cpu', run);
    for (const direct of [true, false]) {
      wasmConvPaths.direct = direct;
      const got = await on('wasm', run);
      expect(maxAbsDiff(ref, got), `direct ${direct}`).toBeLessThan(1e-6);
    }
  });

  it('sends the gradient of a tied window to its first maximum, as the cpu backend does (ReLU zeros)', async () => {
    for (const [k, s] of [[2, 2], [3, 2]] as const) {
      const shape: [number, number, number, number] = [2, 6, 6, 3];
      const xv = Array.from(values(size(shape), 5), (v) => Math.max(0, Math.round(v * 2))); // many ties, many zeros
      const run = (): tf.Tensor =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, shape);
          const dyShape = tf.maxPool(x, k, s, 'valid').shape;
          const dy = tf.tensor(values(size(dyShape), 63), dyShape);
          return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, k, s, 'valid'), dy)))(x);
        });
      const ref = await on('cpu', run);
      const got = await on('wasm', run);
      expect(maxAbsDiff(ref, got), `${k} ${s}`).toBeLessThan(1e-6);
    }
  });
});

describe('ResizeNearestNeighborGrad (the gradient of upSampling2d)', () => {
  /** Independent reference for whole-number factors: dx[b,i,j,c] = Σ_{a<sy, e<sx} dy[b, i·sy+a, j·sx+e, c]. */
  function blockSum(dy: Float32Array, [B, H, W, C]: number[], sy: number, sx: number): Float32Array {
    const dx = new Float32Array(B * H * W * C);
    const Ho = H * sy;
    const Wo = W * sx;
    for (let b = 0; b < B; b++)
      for (let y = 0; y < Ho; y++)
        for (let x = 0; x < Wo; x++)
          for (let c = 0; c < C; c++) {
            dx[((b * H + Math.floor(y / sy)) * W + Math.floor(x / sx)) * C + c] += dy[((b * Ho + y) * Wo + x) * C + c];
          }
    return dx;
  }

  /** The gradient of resizeNearestNeighbor w.r.t. its input, as training computes it. */
  function upsampleGrad(imgShape: number[], size: [number, number], dyv: Float32Array, flags: [boolean, boolean] = [false, false]) {
    return (): tf.Tensor =>
      tf.tidy(() => {
        const dy = tf.tensor(dyv, [imgShape[0], size[0], size[1], imgShape[3]]);
        const f = (x: tf.Tensor): tf.Tensor => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(x as tf.Tensor4D, size, ...flags), dy));
        return tf.grad(f)(tf.zeros(imgShape));
      });
  }

  it('stock cpu kernel is wrong for image 2 of a batch of 3; ours is right', async () => {
    const shape = [3, 4, 5, 2];
    const dyv = values(3 * 8 * 10 * 2, 31);
    const ref = blockSum(dyv, shape, 2, 2);
    const per = size(shape) / 3;

    await switchTo('cpu');
    const ourConfig = tf.getKernel('ResizeNearestNeighborGrad', 'cpu');
    tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
    tf.registerKernel(stockCpuResizeGrad);
    let stock: Float32Array;
    try {
      stock = await on('cpu', upsampleGrad(shape, [8, 10], dyv));
    } finally {
      tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
      tf.registerKernel(ourConfig);
    }
    expect(maxAbsDiff(stock.subarray(0, per), ref.subarray(0, per))).toBeLessThan(1e-6); // image 0 fine
    expect(maxAbsDiff(stock.subarray(2 * per), ref.subarray(2 * per))).toBeGreaterThan(0.1); // image 2 wrong

    const fixed = await on('cpu', upsampleGrad(shape, [8, 10], dyv));
    expect(maxAbsDiff(fixed, ref)).toBeLessThan(1e-6);
  });

  it.each(['cpu', 'wasm'] as const)('matches the block-sum reference on %s, batch 3, factors 1-4, odd and awkward sizes', async (backend) => {
    for (const [h, w, sy, sx] of [
      [4, 5, 2, 2],
      [3, 3, 3, 3],
      [7, 7, 2, 2],
      [22, 3, 2, 2], // a size where the webgl/webgpu formula misroutes a row
      [5, 2, 1, 4],
    ]) {
      const shape = [3, h, w, 2];
      const dyv = values(3 * h * sy * w * sx * 2, h * 100 + w);
      const got = await on(backend, upsampleGrad(shape, [h * sy, w * sx], dyv));
      expect(maxAbsDiff(got, blockSum(dyv, shape, sy, sx)), `${h}×${w} ×${sy}×${sx}`).toBeLessThan(1e-5);
    }
  });

  it.each(['cpu', 'wasm'] as const)('is the adjoint of the forward kernel for any sizes and flags (%s)', async (backend) => {
    await switchTo(backend);
    for (const [h, w, oh, ow, alignCorners, halfPixel] of [
      [3, 4, 7, 5, false, false],
      [5, 5, 3, 8, false, true],
      [4, 3, 9, 7, true, false],
    ] as const) {
      const xv = values(3 * h * w * 2, 41);
      const dyv = values(3 * oh * ow * 2, 42);
      const lhs = tf.tidy(() => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(tf.tensor4d(xv, [3, h, w, 2]), [oh, ow], alignCorners, halfPixel), tf.tensor(dyv, [3, oh, ow, 2]))));
      const g = await on(backend, upsampleGrad([3, h, w, 2], [oh, ow], dyv, [alignCorners, halfPixel]));
      let rhs = 0;
      for (let i = 0; i < g.length; i++) rhs += g[i] * xv[i];
      expect((await lhs.data())[0]).toBeCloseTo(rhs, 4);
      lhs.dispose();
    }
  });

  it.each(['cpu', 'wasm'] as const)('the block-sum kernel used for webgl/webgpu is right on %s', async (backend) => {
    await switchTo(backend);
    const stock = tf.getKernel('ResizeNearestNeighborGrad', backend);
    tf.unregisterKernel('ResizeNearestNeighborGrad', backend);
    tf.registerKernel({ kernelName: 'ResizeNearestNeighborGrad', backendName: backend, kernelFunc: blockSumResizeNearestNeighborGrad(backend, stock.kernelFunc) });
    try {
      for (const [h, w, sy, sx] of [
        [22, 3, 2, 2],
        [3, 5, 3, 1],
      ]) {
        const shape = [3, h, w, 2];
        const dyv = values(3 * h * sy * w * sx * 2, 7 * h + w);
        const got = await on(backend, upsampleGrad(shape, [h * sy, w * sx], dyv));
        expect(maxAbsDiff(got, blockSum(dyv, shape, sy, sx))).toBeLessThan(1e-5);
      }
      // non-whole factors fall back to the stock kernel
      const dyv = values(3 * 5 * 7 * 2, 9);
      const viaFallback = await on(backend, upsampleGrad([3, 2, 3, 2], [5, 7], dyv));
      expect(viaFallback.length).toBe(3 * 2 * 3 * 2);
    } finally {
      tf.unregisterKernel('ResizeNearestNeighborGrad', backend);
      tf.registerKernel(stock);
    }
  });
});

describe('wasm per-channel kernels (Sum, Mean, FusedBatchNorm) against the cpu backend', () => {
  const cases: { label: string; shape: number[]; axis: number | number[]; keepDims?: boolean }[] = [
    { label: 'conv batch, axes [0,1,2]', shape: [4, 5, 3, 6], axis: [0, 1, 2] },
    { label: 'unsorted axes, keepDims', shape: [4, 5, 3, 6], axis: [2, 0, 1], keepDims: true },
    { label: 'dense batch, axis 0', shape: [9, 5], axis: 0 },
    { label: 'negative axes', shape: [3, 4, 2], axis: [-3, -2] },
    { label: 'training size 32×28×28×64', shape: [32, 28, 28, 64], axis: [0, 1, 2] },
  ];

  it.each(['Sum', 'Mean'] as const)('%s over every axis but the last: our pooling path, same values', async (kind) => {
    for (const c of cases) {
      const xv = values(size(c.shape), size(c.shape) + 3);
      const f = (): tf.Tensor => {
        const x = tf.tensor(xv, c.shape);
        const y = kind === 'Sum' ? tf.sum(x, c.axis, c.keepDims) : tf.mean(x, c.axis, c.keepDims);
        x.dispose();
        return y;
      };
      const ref = await on('cpu', f);
      resetKernelStats();
      await switchTo('wasm');
      const shape = tf.tidy(() => f().shape);
      const got = await on('wasm', f);
      expect(kernelStats[kind].calls, c.label).toBe(2);
      expect(shape, c.label).toEqual(c.keepDims === true ? [...c.shape.slice(0, -1).map(() => 1), c.shape[c.shape.length - 1]] : [c.shape[c.shape.length - 1]]);
      const scale = kind === 'Sum' ? Math.sqrt(size(c.shape) / c.shape[c.shape.length - 1]) : 1;
      expect(maxAbsDiff(got, ref) / scale, c.label).toBeLessThan(2e-5);
    }
  });

  it('other reductions go to the stock kernels and stay right', async () => {
    const xv = values(4 * 5 * 3, 61);
    const cases: [number | number[], boolean][] = [
      [[1, 2], false],
      [2, true],
      [[0, 1, 2], false],
      [[0, 2], false],
    ];
    for (const [axis, keepDims] of cases) {
      const f = (): tf.Tensor => tf.tidy(() => tf.add(tf.sum(tf.tensor(xv, [4, 5, 3]), axis, keepDims), tf.mean(tf.tensor(xv, [4, 5, 3]), axis, keepDims)));
      const ref = await on('cpu', f);
      resetKernelStats();
      const got = await on('wasm', f);
      expect(kernelStats.Sum.calls + kernelStats.Mean.calls).toBe(0);
      expect(maxAbsDiff(got, ref)).toBeLessThan(1e-5);
    }
    // int32 sums stay int32 (stock)
    const ints = await on('wasm', () => tf.tidy(() => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0)));
    expect(Array.from(ints)).toEqual([9, 12]);
  });

  it('FusedBatchNorm: per-channel, scalar and missing parameters, rank 2 and 4', async () => {
    for (const [shape, paramSizes, withOffset, withScale] of [
      [[4, 5, 3, 6], [6, 6, 6, 6], true, true],
      [[32, 28, 28, 64], [64, 64, 64, 64], true, true],
      [[7, 5], [5, 5, 5, 5], true, true],
      [[3, 4, 4, 6], [6, 1, 6, 1], true, true],
      [[3, 4, 4, 6], [6, 6, 6, 6], false, false],
    ] as const) {
      const xv = values(size([...shape]), 81);
      const p = paramSizes.map((n, i) => Array.from(values(n, 90 + i), (v) => (i === 1 || i === 3 ? 0.6 + v : v)));
      const f = (): tf.Tensor =>
        tf.tidy(() =>
          tf.batchNorm(
            tf.tensor(xv, [...shape]),
            tf.tensor1d(p[0]),
            tf.tensor1d(p[1]),
            withOffset ? tf.tensor1d(p[2]) : undefined,
            withScale ? tf.tensor1d(p[3]) : undefined,
            1e-3,
          ),
        );
      const ref = await on('cpu', f);
      resetKernelStats();
      const got = await on('wasm', f);
      expect(kernelStats.FusedBatchNorm.calls, `[${shape.join(',')}]`).toBe(1);
      expect(maxAbsDiff(got, ref), `[${shape.join(',')}]`).toBeLessThan(2e-5);
    }
  });
});

describe('wasm LeakyRelu (XNNPACK PReLU) against the cpu backend', () => {
  it('matches for mixed signs, exact zeros, one channel, rank 1 to 4 and several slopes', async () => {
    expect(isOurKernel('LeakyRelu', 'wasm')).toBe(true);
    for (const [shape, alpha] of [
      [[4, 5, 3, 6], 0.2],
      [[32, 28, 28, 16], 0.01],
      [[3, 7], 0.3],
      [[5, 4, 1], 0.2],
      [[11], 0.5],
    ] as const) {
      const xv = Array.from(values(size([...shape]), 101), (v, i) => (i % 5 === 0 ? 0 : v));
      const f = (): tf.Tensor => tf.tidy(() => tf.leakyRelu(tf.tensor(xv, [...shape]), alpha));
      const ref = await on('cpu', f);
      const got = await on('wasm', f);
      expect(maxAbsDiff(got, ref), `[${shape.join(',')}] α=${alpha}`).toBeLessThan(1e-7);
    }
  });
});

describe('wasm Slice against the cpu backend', () => {
  it('matches for contiguous and strided slices, numbers or arrays as bounds, float32 and int32', async () => {
    expect(isOurKernel('Slice', 'wasm')).toBe(true);
    const xv = values(4 * 5 * 6, 111);
    const cases: [string, () => tf.Tensor][] = [
      ['1-D, number bounds', () => tf.slice(tf.tensor1d(xv), 17, 40)],
      ['1-D, to the end', () => tf.slice(tf.tensor1d(xv), [100])],
      ['rows of a matrix (contiguous)', () => tf.slice(tf.tensor2d(xv, [20, 6]), [3, 0], [5, 6])],
      ['columns of a matrix (strided: stock)', () => tf.slice(tf.tensor2d(xv, [20, 6]), [3, 1], [5, 4])],
      ['4-D block', () => tf.slice(tf.tensor4d(xv, [4, 5, 3, 2]), [1, 0, 0, 0], [2, -1, -1, -1])],
      ['int32', () => tf.slice(tf.tensor1d(Array.from({ length: 30 }, (_, i) => i * 3), 'int32'), 5, 7)],
    ];
    for (const [label, f] of cases) {
      const g = (): tf.Tensor => tf.tidy(f);
      const ref = await on('cpu', g);
      const got = await on('wasm', g);
      expect(Array.from(got), label).toEqual(Array.from(ref));
    }
  });
});

describe('a conv autoencoder training step on wasm', () => {
  it('runs our kernels and gives the same weights as the cpu backend', async () => {
    const build = (): tf.LayersModel => {
      const seed = (n: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: n }) });
      const layers: tf.layers.Layer[] = [
        tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', ...seed(1) }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...seed(2) }),
        tf.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...seed(3) }),
        tf.layers.upSampling2d({ size: [2, 2] }),
        tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid', ...seed(4) }),
      ];
      const input = tf.input({ shape: [12, 12, 1] });
      let x: tf.SymbolicTensor = input;
      for (const l of layers) x = l.apply(x) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: x });
    };
    const xv = values(4 * 12 * 12, 51).map((v) => v + 0.5);
    const step = async (backend: 'cpu' | 'wasm'): Promise<Float32Array> => {
      await switchTo(backend);
      const before = tf.memory().numTensors;
      const model = build();
      const opt = tf.train.sgd(0.5);
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      const x = tf.tensor4d(xv, [4, 12, 12, 1]);
      await model.trainOnBatch(x, x);
      const parts = await Promise.all(model.getWeights().map((w) => w.data()));
      x.dispose();
      opt.dispose();
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
      return Float32Array.from(parts.flatMap((p) => Array.from(p)));
    };
    const ref = await step('cpu');
    resetKernelStats();
    const got = await step('wasm');
    expect(kernelStats.Conv2DBackpropFilter.calls).toBe(4);
    expect(kernelStats.Conv2DBackpropInput.calls).toBeGreaterThanOrEqual(3);
    expect(maxAbsDiff(ref, got)).toBeLessThan(1e-5);
  });
});

/** Runs f with `kernelFunc` as wasm's Identity, then puts the registered one back. */
async function withWasmIdentity<T>(kernelFunc: tf.KernelFunc, f: () => Promise<T>): Promise<T> {
  const current = tf.getKernel('Identity', 'wasm');
  if (current == null) throw new Error('no wasm Identity');
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc, setupFunc: current.setupFunc });
  try {
    return await f();
  } finally {
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel(current);
  }
}

describe('wasm Identity (tf.clone) shares the buffer instead of copying it', () => {
  it('is ours and launches no copy: the clone has the input’s dataId and no buffer is allocated', async () => {
    expect(stockWasmIdentity).toBeDefined();
    expect(isOurKernel('Identity', 'wasm')).toBe(true);
    await switchTo('wasm');
    const backend = tf.backend() as tf.KernelBackend & { getMemoryOffset(dataId: object): number };
    const a = tf.tensor2d(values(6, 7), [2, 3]);
    const buffers = backend.numDataIds();
    const b = tf.clone(a);
    const c = tf.engine().runKernel('Identity', { x: a }) as tf.Tensor;
    expect(b.dataId).toBe(a.dataId);
    expect(c.dataId).toBe(a.dataId);
    expect(backend.getMemoryOffset(b.dataId)).toBe(backend.getMemoryOffset(a.dataId));
    expect(backend.numDataIds()).toBe(buffers);
    expect(b.shape).toEqual([2, 3]);
    expect(b.dtype).toBe('float32');
    tf.dispose([a, b, c]);
    expect(backend.numDataIds()).toBe(buffers - 1);
  });

  it('gives equal values, and disposing either tensor leaves the other readable (float32, int32, bool)', async () => {
    await switchTo('wasm');
    const backend = tf.backend();
    const cases: [string, () => tf.Tensor][] = [
      ['float32', () => tf.tensor3d(values(24, 9), [2, 3, 4])],
      ['int32', () => tf.tensor1d([3, -1, 4, 1, -5, 9], 'int32')],
      ['bool', () => tf.tensor1d([true, false, false, true], 'bool')],
      ['scalar', () => tf.scalar(2.5)],
    ];
    for (const [label, make] of cases) {
      for (const disposeFirst of ['source', 'clone'] as const) {
        const tensors = tf.memory().numTensors;
        const buffers = backend.numDataIds();
        const src = make();
        const want = Array.from(await src.data());
        const clone = tf.clone(src);
        expect(clone.dtype, label).toBe(src.dtype);
        expect(Array.from(await clone.data()), label).toEqual(want);
        const [gone, kept] = disposeFirst === 'source' ? [src, clone] : [clone, src];
        gone.dispose();
        expect(gone.isDisposed, label).toBe(true);
        expect(kept.isDisposed, label).toBe(false);
        expect(backend.numDataIds(), `${label}: buffer kept while one tensor holds it`).toBe(buffers + 1);
        expect(Array.from(await kept.data()), `${label}, ${disposeFirst} disposed`).toEqual(want);
        // Compute with the survivor: its buffer must still be valid input for kernels (bool + bool is or).
        const doubled = tf.tidy(() => tf.add(kept, kept));
        expect(Array.from(await doubled.data()), label).toEqual(want.map((v) => (kept.dtype === 'bool' ? v : 2 * v)));
        tf.dispose([kept, doubled]);
        expect(backend.numDataIds(), `${label}: buffer freed with the last tensor`).toBe(buffers);
        expect(tf.memory().numTensors, label).toBe(tensors);
      }
    }
  });

  it('a variable assigned after cloning leaves the clone as it was; strings are shared and freed too', async () => {
    await switchTo('wasm');
    const backend = tf.backend();
    const buffers = backend.numDataIds();
    const init = tf.tensor1d([1, 2, 3]);
    const v = tf.variable(init);
    init.dispose();
    const snap = tf.clone(v);
    expect(snap.dataId).toBe(v.dataId);
    const next = tf.tensor1d([7, 8, 9]);
    v.assign(next);
    next.dispose();
    expect(Array.from(await v.data())).toEqual([7, 8, 9]);
    expect(Array.from(await snap.data())).toEqual([1, 2, 3]);
    v.dispose();
    expect(Array.from(await snap.data())).toEqual([1, 2, 3]);
    snap.dispose();
    expect(backend.numDataIds()).toBe(buffers);
    const s = tf.tensor1d(['ab', 'c'], 'string');
    const sc = tf.clone(s);
    expect(sc.dataId).toBe(s.dataId);
    expect(await sc.data()).toEqual(await s.data());
    s.dispose();
    expect(await sc.data()).toEqual(['ab', 'c']);
    sc.dispose();
    expect(backend.numDataIds()).toBe(buffers);
  });

  it('training steps give the same weights as the stock (copying) Identity and the cpu backend, and leak nothing', async () => {
    const build = (): tf.LayersModel => {
      const seed = (n: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: n }) });
      const layers: tf.layers.Layer[] = [
        tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', ...seed(11) }),
        tf.layers.batchNormalization(),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', ...seed(12) }),
        tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid', ...seed(13) }),
      ];
      const input = tf.input({ shape: [8, 8, 1] });
      let x: tf.SymbolicTensor = input;
      for (const l of layers) x = l.apply(x) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: x });
    };
    const xv = values(4 * 8 * 8, 61).map((v) => v + 0.5);
    const steps = 4;
    const train = async (backend: 'cpu' | 'wasm'): Promise<Float32Array> => {
      await switchTo(backend);
      const be = tf.backend();
      const before = tf.memory().numTensors;
      const buffersBefore = be.numDataIds();
      const model = build();
      const opt = tf.train.sgd(0.3);
      model.compile({ optimizer: opt, loss: 'meanSquaredError' });
      const x = tf.tensor4d(xv, [4, 8, 8, 1]);
      const counts: [number, number][] = [];
      for (let i = 0; i < steps; i++) {
        await model.trainOnBatch(x, x);
        counts.push([tf.memory().numTensors, be.numDataIds()]);
      }
      // After the first step (which creates the optimizer's state) the counts stay flat.
      for (const c of counts.slice(1)) expect(c, `${backend}: tensors, buffers per step`).toEqual(counts[0]);
      const parts = await Promise.all(model.getWeights().map((w) => w.data()));
      x.dispose();
      opt.dispose();
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
      expect(be.numDataIds()).toBe(buffersBefore);
      return Float32Array.from(parts.flatMap((p) => Array.from(p)));
    };
    const ref = await train('cpu');
    const ours = tf.getKernel('Identity', 'wasm');
    if (ours == null || stockWasmIdentity == null) throw new Error('no wasm Identity');
    let calls = 0;
    let shared = 0;
    const counting: tf.KernelFunc = (args) => {
      const out = ours.kernelFunc(args) as tf.TensorInfo;
      calls++;
      if (out.dataId === args.inputs.x?.dataId) shared++;
      return out;
    };
    const got = await withWasmIdentity(counting, () => train('wasm'));
    expect(calls).toBeGreaterThan(0);
    expect(shared).toBe(calls);
    const stock = await withWasmIdentity(stockWasmIdentity.kernelFunc, () => train('wasm'));
    expect(isOurKernel('Identity', 'wasm')).toBe(true);
    expect(Array.from(got)).toEqual(Array.from(stock));
    expect(maxAbsDiff(ref, got)).toBeLessThan(1e-5);
  });
});
