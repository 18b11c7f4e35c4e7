import { beforeAll, describe, expect, it } from 'vitest';
// The tests compare with tfjs' own cpu kernels (the reference the fused path replaces); test-only use.
 
import * as tf from '@tensorflow/tfjs';
import {
  conv2dBackpropFilterKernels,
  conv2dBackpropInputKernel,
  conv2dForwardKernel,
  convGeometry,
  filterGradDirectPlan,
  filterGradPlan,
  type ConvGeometry,
} from './conv';
import { actRef, dactRef, type FusedActivation } from './wgsl';
import { download, gpuAvailable, randomArray, runKernel, testDevice, upload } from './testDevice';

// ---- float64 references, straight from the definitions ----

function refConv(g: ConvGeometry, x: Float32Array, w: Float32Array): Float64Array {
  const { N, H, W, C, KH, KW, F, stride: s, padTop, padLeft, OH, OW } = g;
  const y = new Float64Array(N * OH * OW * F);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let f = 0; f < F; f++) {
          let sum = 0;
          for (let kh = 0; kh < KH; kh++)
            for (let kw = 0; kw < KW; kw++) {
              const ih = oh * s - padTop + kh;
              const iw = ow * s - padLeft + kw;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              for (let c = 0; c < C; c++) sum += x[((n * H + ih) * W + iw) * C + c] * w[((kh * KW + kw) * C + c) * F + f];
            }
          y[((n * OH + oh) * OW + ow) * F + f] = sum;
        }
  return y;
}

/** dx[n,ih,iw,c] = Σ over (oh,ow,kh,kw) with oh·s − padTop + kh = ih (and the same for w) of dy·w. */
function refBackpropInput(g: ConvGeometry, dy: Float32Array, w: Float32Array): Float64Array {
  const { N, H, W, C, KH, KW, F, stride: s, padTop, padLeft, OH, OW } = g;
  const dx = new Float64Array(N * H * W * C);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * s - padTop + kh;
            const iw = ow * s - padLeft + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            for (let c = 0; c < C; c++)
              for (let f = 0; f < F; f++) dx[((n * H + ih) * W + iw) * C + c] += dy[((n * OH + oh) * OW + ow) * F + f] * w[((kh * KW + kw) * C + c) * F + f];
          }
  return dx;
}

function refBackpropFilter(g: ConvGeometry, x: Float32Array, dy: Float32Array): Float64Array {
  const { N, H, W, C, KH, KW, F, stride: s, padTop, padLeft, OH, OW } = g;
  const dw = new Float64Array(KH * KW * C * F);
  for (let n = 0; n < N; n++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++)
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const ih = oh * s - padTop + kh;
            const iw = ow * s - padLeft + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            for (let c = 0; c < C; c++)
              for (let f = 0; f < F; f++) dw[((kh * KW + kw) * C + c) * F + f] += x[((n * H + ih) * W + iw) * C + c] * dy[((n * OH + oh) * OW + ow) * F + f];
          }
  return dw;
}

/** The epilogue in float64: act(z + bias[channel]) ⊙ dact(aux), dact from the output as in wgsl.ts. */
function refEpilogue(
  z: Float64Array,
  channels: number,
  o: { bias?: Float32Array; act?: FusedActivation; alpha?: number; dact?: { act: FusedActivation; alpha?: number; aux: Float32Array } },
): Float64Array {
  const out = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) {
    let v = actRef(o.act ?? 'linear', z[i] + (o.bias ? o.bias[i % channels] : 0), o.alpha);
    if (o.dact) v *= dactRef(o.dact.act, o.dact.aux[i], o.dact.alpha);
    out[i] = v;
  }
  return out;
}

function expectClose(got: Float32Array, want: ArrayLike<number>, what: string, rel = 1e-4): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  const tol = rel * Math.max(scale, 1e-3);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  expect(worst, `${what}: worst error ${worst} at ${at} (got ${got[at]}, want ${want[at]}), scale ${scale}`).toBeLessThanOrEqual(tol);
}

// ---- running the kernels ----

async function device(): Promise<GPUDevice> {
  return (await testDevice()) as GPUDevice;
}

async function runForward(
  g: ConvGeometry,
  x: Float32Array,
  w: Float32Array,
  o: Parameters<typeof conv2dForwardKernel>[1] = {},
  extra: { bias?: Float32Array; aux?: Float32Array } = {},
): Promise<Float32Array> {
  const d = await device();
  const k = conv2dForwardKernel(g, o);
  const len = g.N * g.OH * g.OW * g.F;
  const bufs = [upload(d, x), upload(d, w)];
  if (o.bias) bufs.push(upload(d, extra.bias as Float32Array));
  if (o.dact) bufs.push(upload(d, extra.aux as Float32Array));
  const y = upload(d, randomArray(len, 99, 1e6, 2e6)); // garbage: the kernel must write every element
  bufs.push(y);
  expect(k.bindings.map((b) => b.name)).toEqual(['x', 'w', ...(o.bias ? ['bias'] : []), ...(o.dact ? ['aux'] : []), 'y']);
  await runKernel(d, k, bufs);
  const out = await download(d, y, len);
  bufs.forEach((b) => b.destroy());
  return out;
}

async function runBackpropInput(
  g: ConvGeometry,
  dy: Float32Array,
  w: Float32Array,
  o: Parameters<typeof conv2dBackpropInputKernel>[1] = {},
  extra: { bias?: Float32Array; aux?: Float32Array } = {},
): Promise<Float32Array> {
  const d = await device();
  const k = conv2dBackpropInputKernel(g, o);
  const len = g.N * g.H * g.W * g.C;
  const bufs = [upload(d, dy), upload(d, w)];
  if (o.bias) bufs.push(upload(d, extra.bias as Float32Array));
  if (o.dact) bufs.push(upload(d, extra.aux as Float32Array));
  const dx = upload(d, randomArray(len, 98, 1e6, 2e6));
  bufs.push(dx);
  expect(k.bindings.map((b) => b.name)).toEqual(['dy', 'w', ...(o.bias ? ['bias'] : []), ...(o.dact ? ['aux'] : []), 'dx']);
  await runKernel(d, k, bufs);
  const out = await download(d, dx, len);
  bufs.forEach((b) => b.destroy());
  return out;
}

type FilterOpts = Exclude<Parameters<typeof conv2dBackpropFilterKernels>[1], string | undefined>;

/**
 * Runs the filter gradient; returns dw (and db with bias). With skipSum (and several chunks) the
 * partials are read back and summed here from `layout`, and dw/db must be left untouched.
 */
async function runBackpropFilter(g: ConvGeometry, x: Float32Array, dy: Float32Array, o: FilterOpts = {}): Promise<{ dw: Float32Array; db?: Float32Array; chunks: number }> {
  const d = await device();
  const len = g.KH * g.KW * g.C * g.F;
  const op = conv2dBackpropFilterKernels(g, o);
  const { layout } = op;
  const xb = upload(d, x);
  const dyb = upload(d, dy);
  const dwb = upload(d, randomArray(len, 97, 1e6, 2e6));
  const dbb = upload(d, randomArray(g.F, 96, 1e6, 2e6));
  const named: Record<string, GPUBuffer> = { x: xb, dy: dyb, dw: dwb, ...(o.bias ? { db: dbb } : {}) };
  const made: GPUBuffer[] = [];
  for (const [name, floats] of Object.entries(op.scratch)) {
    const b = upload(d, randomArray(floats, 7, 1e6, 2e6));
    named[name] = b;
    made.push(b);
  }
  const expected = ['x', 'dy', ...(layout.chunks > 1 ? ['partial'] : ['dw', ...(o.bias ? ['db'] : [])])];
  expect(op.kernels[0].bindings.map((b) => b.name)).toEqual(expected);
  expect(op.kernels.length).toBe(layout.chunks > 1 && !o.skipSum ? 2 : 1);
  expect(layout.biasOffset).toBe(o.bias ? len : null);
  expect(layout.chunkStride).toBe(len + (o.bias ? g.F : 0));
  expect(op.scratch).toEqual(layout.chunks > 1 ? { partial: layout.chunks * layout.chunkStride } : {});
  if (op.kernels.length === 2) expect(op.kernels[1].bindings.map((b) => b.name)).toEqual(['partial', 'dw', ...(o.bias ? ['db'] : [])]);
  for (const k of op.kernels) {
    if (o.style === 'direct') expect(k.code).not.toMatch(/var<workgroup>|Barrier/);
    await runKernel(
      d,
      k,
      k.bindings.map((b) => named[b.name]),
    );
  }
  let dw: Float32Array, db: Float32Array | undefined;
  if (o.skipSum && layout.chunks > 1) {
    const part = await download(d, named.partial, layout.chunks * layout.chunkStride);
    const sum = (off: number, n: number) => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < layout.chunks; c++) s += part[off + c * layout.chunkStride + i];
        out[i] = s;
      }
      return out;
    };
    dw = sum(layout.kernelOffset, len);
    if (layout.biasOffset !== null) db = sum(layout.biasOffset, g.F);
    // The summing pass was left out: dw and db still hold their garbage.
    expect((await download(d, dwb, len)).every((v) => v >= 1e6)).toBe(true);
    expect((await download(d, dbb, g.F)).every((v) => v >= 1e6)).toBe(true);
  } else {
    dw = await download(d, dwb, len);
    if (o.bias) db = await download(d, dbb, g.F);
  }
  [xb, dyb, dwb, dbb, ...made].forEach((b) => b.destroy());
  return { dw, db, chunks: layout.chunks };
}

/** db[f] = Σ dy[…, f] in float64. */
function refBiasGrad(g: ConvGeometry, dy: Float32Array): Float64Array {
  const db = new Float64Array(g.F);
  for (let i = 0; i < dy.length; i++) db[i % g.F] += dy[i];
  return db;
}

/** Checks the filter gradient (and the bias gradient, with bias) against the float64 references. */
async function checkFilter(g: ConvGeometry, x: Float32Array, dy: Float32Array, o: FilterOpts, what: string): Promise<number> {
  const r = await runBackpropFilter(g, x, dy, o);
  const tag = `${what} ${JSON.stringify(o)} chunks ${r.chunks}`;
  expectClose(r.dw, refBackpropFilter(g, x, dy), `${tag} dw`);
  if (o.bias) expectClose(r.db as Float32Array, refBiasGrad(g, dy), `${tag} db`);
  else expect(r.db).toBeUndefined();
  return r.chunks;
}

function inputs(g: ConvGeometry, seed: number) {
  return {
    x: randomArray(g.N * g.H * g.W * g.C, seed),
    w: randomArray(g.KH * g.KW * g.C * g.F, seed + 1, -0.5, 0.5),
    dy: randomArray(g.N * g.OH * g.OW * g.F, seed + 2),
  };
}

// ---- the cases ----

interface Case {
  N: number;
  H: number;
  W: number;
  C: number;
  K: number;
  F: number;
  s: number;
  pad: 'same' | 'valid';
}
const CASES: Case[] = [
  { N: 2, H: 7, W: 5, C: 3, K: 3, F: 4, s: 1, pad: 'same' },
  { N: 2, H: 7, W: 5, C: 3, K: 3, F: 4, s: 2, pad: 'same' },
  { N: 2, H: 7, W: 5, C: 4, K: 3, F: 3, s: 1, pad: 'valid' },
  { N: 2, H: 7, W: 5, C: 4, K: 3, F: 3, s: 2, pad: 'valid' },
  { N: 1, H: 8, W: 6, C: 1, K: 5, F: 16, s: 2, pad: 'same' },
  { N: 1, H: 7, W: 7, C: 16, K: 5, F: 1, s: 1, pad: 'same' },
  { N: 2, H: 6, W: 7, C: 16, K: 1, F: 3, s: 2, pad: 'valid' },
  { N: 1, H: 5, W: 5, C: 3, K: 5, F: 16, s: 1, pad: 'valid' },
  { N: 1, H: 9, W: 8, C: 16, K: 4, F: 4, s: 2, pad: 'same' },
  { N: 1, H: 6, W: 5, C: 64, K: 3, F: 37, s: 2, pad: 'same' },
];
const caseName = (c: Case) => `N${c.N} ${c.H}×${c.W}×${c.C} K${c.K} F${c.F} s${c.s} ${c.pad}`;
const geom = (c: Case) => convGeometry(c.N, c.H, c.W, c.C, c.K, c.F, c.s, c.pad);

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('convGeometry', () => {
  it("matches tfjs' output shapes and padding", () => {
    for (const H of [7, 8, 13]) {
      for (const K of [1, 2, 3, 5, 7]) {
        for (const s of [1, 2]) {
          for (const pad of ['same', 'valid'] as const) {
            if (pad === 'valid' && K > H) continue;
            const W = H - 2 > K ? H - 2 : H;
            const g = convGeometry(3, H, W, 2, K, 5, s, pad);
            const layer = tf.layers.conv2d({ filters: 5, kernelSize: K, strides: s, padding: pad });
            expect(layer.computeOutputShape([3, H, W, 2]), `H${H} W${W} K${K} s${s} ${pad}`).toEqual([3, g.OH, g.OW, 5]);
            const info = tf.backend_util.computeConv2DInfo([3, H, W, 2], [K, K, 2, 5], s, 1, pad);
            expect([info.outHeight, info.outWidth, info.padInfo.top, info.padInfo.left]).toEqual([g.OH, g.OW, g.padTop, g.padLeft]);
          }
        }
      }
    }
    expect(() => convGeometry(1, 3, 3, 1, 5, 1, 1, 'valid')).toThrow();
  });

  it('plans the filter gradient within WebGPU limits', () => {
    for (const [N, H, C, K, F, s] of [
      [256, 32, 64, 7, 64, 1],
      [256, 32, 1, 3, 1, 1],
      [8, 7, 64, 1, 1, 2],
      [8, 7, 1, 7, 64, 2],
      [32, 28, 16, 3, 16, 1],
    ]) {
      const g = convGeometry(N, H, H, C, K, F, s, 'same');
      const p = filterGradPlan(g);
      expect(p.TGM * p.TGN * p.TGK).toBeLessThanOrEqual(256);
      expect((p.TK * (p.TM + p.TN) + (p.TGK > 1 ? 256 : 0)) * 4).toBeLessThanOrEqual(16384);
      expect(p.tilesM * p.tilesN).toBeLessThanOrEqual(65535);
      expect(p.chunks).toBeLessThanOrEqual(65535);
      expect(p.chunkLen % p.TK).toBe(0);
      expect(p.chunks * p.chunkLen).toBeGreaterThanOrEqual(p.P);
      const op = conv2dBackpropFilterKernels(g);
      for (const k of op.kernels) for (const d of k.workgroups) expect(d).toBeLessThanOrEqual(65535);
      for (const k of [conv2dForwardKernel(g, {}), conv2dBackpropInputKernel(g, {})]) for (const d of k.workgroups) expect(d).toBeLessThanOrEqual(65535);
      expect((op.scratch.partial ?? 0) <= 1 << 22).toBe(true);
      for (const bias of [false, true]) {
        const q = filterGradDirectPlan(g, bias);
        expect(q.chunks * q.chunkLen).toBeGreaterThanOrEqual(q.P);
        expect((q.chunks - 1) * q.chunkLen).toBeLessThan(q.P);
        expect(q.chunks * q.R * g.F).toBeLessThanOrEqual(1 << 22);
        expect(q.FB * q.RB).toBeLessThanOrEqual(32);
        const od = conv2dBackpropFilterKernels(g, { style: 'direct', bias, label: 'L' });
        expect(od.kernels[0].label).toBe(q.chunks > 1 ? 'L.partial' : 'L');
        for (const k of od.kernels) for (const d of k.workgroups) expect(d).toBeLessThanOrEqual(65535);
        const ob = conv2dBackpropFilterKernels(g, { bias });
        for (const k of ob.kernels) for (const d of k.workgroups) expect(d).toBeLessThanOrEqual(65535);
      }
      // The older signature: a string is the label.
      expect(conv2dBackpropFilterKernels(g, 'old').kernels[0].label).toMatch(/^old/);
    }
  });
});

describe('conv kernels against float64 references', () => {
  for (const c of CASES) {
    it(`forward, input and filter gradients: ${caseName(c)}`, async ({ skip }) => {
      if (!(await gpuAvailable())) skip();
      const g = geom(c);
      const { x, w, dy } = inputs(g, 11);
      expectClose(await runForward(g, x, w), refConv(g, x, w), 'forward');
      expectClose(await runBackpropInput(g, dy, w), refBackpropInput(g, dy, w), 'backprop input');
      await checkFilter(g, x, dy, {}, 'backprop filter');
      await checkFilter(g, x, dy, { bias: true }, 'backprop filter');
      await checkFilter(g, x, dy, { style: 'direct', bias: true }, 'backprop filter');
      if (CASES.indexOf(c) % 2 === 1) await checkFilter(g, x, dy, { style: 'direct' }, 'backprop filter');
    });
  }

  it('forward epilogues: bias + activation, and ⊙ dact(aux)', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const g = convGeometry(2, 7, 5, 3, 3, 5, 2, 'same');
    const { x, w } = inputs(g, 21);
    const bias = randomArray(g.F, 24);
    const len = g.N * g.OH * g.OW * g.F;
    const auxT = randomArray(len, 25, -0.9, 0.9); // a tanh output
    const auxS = randomArray(len, 26, 0.05, 0.95); // a sigmoid output
    const z = refConv(g, x, w);
    expectClose(await runForward(g, x, w, { bias: true, act: 'relu' }, { bias }), refEpilogue(z, g.F, { bias, act: 'relu' }), 'bias+relu');
    expectClose(
      await runForward(g, x, w, { bias: true, act: 'leakyRelu', alpha: 0.1 }, { bias }),
      refEpilogue(z, g.F, { bias, act: 'leakyRelu', alpha: 0.1 }),
      'bias+leakyRelu',
    );
    expectClose(await runForward(g, x, w, { act: 'sigmoid' }), refEpilogue(z, g.F, { act: 'sigmoid' }), 'sigmoid');
    expectClose(
      await runForward(g, x, w, { dact: { act: 'tanh' } }, { aux: auxT }),
      refEpilogue(z, g.F, { dact: { act: 'tanh', aux: auxT } }),
      '⊙ tanh′',
    );
    expectClose(
      await runForward(g, x, w, { bias: true, act: 'elu', dact: { act: 'sigmoid' } }, { bias, aux: auxS }),
      refEpilogue(z, g.F, { bias, act: 'elu', dact: { act: 'sigmoid', aux: auxS } }),
      'bias+elu ⊙ sigmoid′',
    );
  });

  it('input-gradient epilogues: bias + activation (a transposed conv layer), and ⊙ dact(aux)', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const g = convGeometry(2, 7, 5, 6, 3, 4, 2, 'same');
    const { w, dy } = inputs(g, 31);
    const bias = randomArray(g.C, 34);
    const len = g.N * g.H * g.W * g.C;
    const aux = randomArray(len, 35, -2, 2); // a leakyRelu output
    const z = refBackpropInput(g, dy, w);
    expectClose(await runBackpropInput(g, dy, w, { bias: true, act: 'tanh' }, { bias }), refEpilogue(z, g.C, { bias, act: 'tanh' }), 'bias+tanh');
    expectClose(
      await runBackpropInput(g, dy, w, { dact: { act: 'leakyRelu', alpha: 0.3 } }, { aux }),
      refEpilogue(z, g.C, { dact: { act: 'leakyRelu', alpha: 0.3, aux } }),
      '⊙ leakyRelu′',
    );
    expectClose(
      await runBackpropInput(g, dy, w, { bias: true, act: 'selu', dact: { act: 'relu' } }, { bias, aux }),
      refEpilogue(z, g.C, { bias, act: 'selu', dact: { act: 'relu', aux } }),
      'bias+selu ⊙ relu′',
    );
  });

  it('filter gradient split over several chunks (and a batch whose last chunk is ragged)', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    for (const g of [convGeometry(5, 9, 7, 3, 3, 4, 1, 'same'), convGeometry(3, 16, 16, 1, 3, 1, 1, 'same'), convGeometry(4, 12, 10, 16, 3, 16, 2, 'valid')]) {
      const p = filterGradPlan(g);
      expect(p.chunks, JSON.stringify(g)).toBeGreaterThan(1);
      const { x, dy } = inputs(g, 41);
      const what = `backprop filter ${JSON.stringify(p)}`;
      await checkFilter(g, x, dy, {}, what);
      await checkFilter(g, x, dy, { bias: true, skipSum: true }, what);
      expect(await checkFilter(g, x, dy, { style: 'direct', bias: true, skipSum: true }, what)).toBeGreaterThan(1);
    }
    const g = convGeometry(5, 9, 7, 3, 3, 4, 1, 'same');
    const { x, dy } = inputs(g, 42);
    await checkFilter(g, x, dy, { skipSum: true }, 'tiled skipSum, no bias');
    await checkFilter(g, x, dy, { style: 'direct', bias: true }, 'direct, summed');
    await checkFilter(g, x, dy, { style: 'direct', skipSum: true }, 'direct skipSum, no bias');
    // One chunk: skipSum has no effect (dw and db written directly).
    const g1 = convGeometry(1, 5, 5, 3, 5, 4, 1, 'valid');
    const i1 = inputs(g1, 43);
    expect(await checkFilter(g1, i1.x, i1.dy, { style: 'direct', bias: true, skipSum: true }, 'one chunk')).toBe(1);
    expect(await checkFilter(g1, i1.x, i1.dy, { bias: true, skipSum: true }, 'one chunk')).toBe(1);
  });
});

describe('conv kernels against tfjs (cpu backend)', () => {
  for (const c of [CASES[0], CASES[3], CASES[4], CASES[6], CASES[8]]) {
    it(`conv2d, its gradients and conv2dTranspose: ${caseName(c)}`, async ({ skip }) => {
      if (!(await gpuAvailable())) skip();
      const g = geom(c);
      const { x, w, dy } = inputs(g, 51);
      const xt = tf.tensor4d(x, [g.N, g.H, g.W, g.C]);
      const wt = tf.tensor4d(w, [g.KH, g.KW, g.C, g.F]);
      const dyt = tf.tensor4d(dy, [g.N, g.OH, g.OW, g.F]);
      const y = tf.conv2d(xt, wt, c.s, c.pad);
      expect(y.shape).toEqual([g.N, g.OH, g.OW, g.F]);
      expectClose(await runForward(g, x, w), await y.data(), 'forward vs tf.conv2d');
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad).mul(dyt).sum())([xt, wt]);
      expectClose(await runBackpropInput(g, dy, w), await dx.data(), 'backprop input vs tf.grads');
      expectClose((await runBackpropFilter(g, x, dy)).dw, await dw.data(), 'backprop filter vs tf.grads');
      // A transposed conv layer (kernel [KH,KW,outC=C,inC=F]) with bias + relu is the input gradient with that epilogue.
      const bias = randomArray(g.C, 52);
      const yt = tf.relu(tf.add(tf.conv2dTranspose(dyt, wt, [g.N, g.H, g.W, g.C], c.s, c.pad), tf.tensor1d(bias)));
      expectClose(await runBackpropInput(g, dy, w, { bias: true, act: 'relu' }, { bias }), await yt.data(), 'conv2dTranspose+bias+relu');
      tf.dispose([xt, wt, dyt, y, dx, dw, yt]);
    });
  }
});

// ---- a nearest-neighbour upsampling folded into the conv kernels ----

/** x_up[n,i,j,c] = x[n,⌊i/s⌋,⌊j/s⌋,c]: [N,H,W,C] → [N,H·s,W·s,C]. */
function upsampleRef(x: Float32Array, N: number, H: number, W: number, C: number, s: number): Float32Array {
  const y = new Float32Array(N * H * s * W * s * C);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < H * s; i++)
      for (let j = 0; j < W * s; j++)
        for (let c = 0; c < C; c++) y[((n * H * s + i) * W * s + j) * C + c] = x[((n * H + Math.floor(i / s)) * W + Math.floor(j / s)) * C + c];
  return y;
}

/** The upsampling's gradient: each s×s block of dx_up [N,H,W,C] summed into [N,H/s,W/s,C]. */
function blockSumRef(dx: Float64Array, N: number, H: number, W: number, C: number, s: number): Float64Array {
  const h = H / s;
  const w = W / s;
  const out = new Float64Array(N * h * w * C);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let c = 0; c < C; c++) out[((n * h + Math.floor(i / s)) * w + Math.floor(j / s)) * C + c] += dx[((n * H + i) * W + j) * C + c];
  return out;
}

/** Low-resolution N × h × w × C, upsampled by u, then a K×K conv with F filters. */
interface UpCase {
  N: number;
  h: number;
  w: number;
  C: number;
  F: number;
  u: number;
  K?: number;
  stride?: number;
  pad?: 'same' | 'valid';
}
const UP_CASES: UpCase[] = [
  { N: 2, h: 3, w: 5, C: 3, F: 4, u: 2 },
  { N: 3, h: 3, w: 5, C: 1, F: 16, u: 3 },
  { N: 2, h: 5, w: 3, C: 16, F: 1, u: 2 },
  { N: 2, h: 3, w: 3, C: 4, F: 3, u: 3 },
  { N: 3, h: 5, w: 5, C: 16, F: 16, u: 2 },
  { N: 2, h: 3, w: 5, C: 3, F: 4, u: 2, K: 3, stride: 2 },
  { N: 2, h: 5, w: 4, C: 4, F: 3, u: 3, K: 5, pad: 'valid' },
];
const upName = (c: UpCase) => `N${c.N} ${c.h}×${c.w}×${c.C} ↑${c.u} K${c.K ?? 3} F${c.F} s${c.stride ?? 1} ${c.pad ?? 'same'}`;

function upInputs(c: UpCase, seed: number) {
  const g = convGeometry(c.N, c.h * c.u, c.w * c.u, c.C, c.K ?? 3, c.F, c.stride ?? 1, c.pad ?? 'same');
  const x = randomArray(c.N * c.h * c.w * c.C, seed);
  return {
    g,
    x,
    xUp: upsampleRef(x, c.N, c.h, c.w, c.C, c.u),
    w: randomArray(g.KH * g.KW * g.C * g.F, seed + 1, -0.5, 0.5),
    dy: randomArray(g.N * g.OH * g.OW * g.F, seed + 2),
  };
}

/** The filter gradient with x at low resolution, against the reference on the explicitly upsampled x. */
async function checkFilterUp(g: ConvGeometry, x: Float32Array, xUp: Float32Array, dy: Float32Array, o: FilterOpts, what: string): Promise<number> {
  const r = await runBackpropFilter(g, x, dy, o);
  const tag = `${what} ${JSON.stringify(o)} chunks ${r.chunks}`;
  expectClose(r.dw, refBackpropFilter(g, xUp, dy), `${tag} dw`);
  if (o.bias) expectClose(r.db as Float32Array, refBiasGrad(g, dy), `${tag} db`);
  return r.chunks;
}

describe('conv kernels with a folded nearest-neighbour upsampling', () => {
  it('checks the factor against the geometry and the epilogue', () => {
    const g = convGeometry(2, 6, 10, 3, 3, 4, 1, 'same');
    expect(() => conv2dForwardKernel(g, { upsample: 4 })).toThrow(/upsample 4 must divide/);
    expect(() => conv2dForwardKernel(convGeometry(2, 6, 9, 3, 3, 4, 1, 'same'), { upsample: 2 })).toThrow(/must divide/);
    expect(() => conv2dBackpropInputKernel(g, { upsample: 3 })).toThrow(/must divide/);
    expect(() => conv2dBackpropFilterKernels(g, { upsample: 3, style: 'direct' })).toThrow(/must divide/);
    expect(() => conv2dBackpropFilterKernels(g, { upsample: 4 })).toThrow(/must divide/);
    for (const u of [0, 1.5, -2]) expect(() => conv2dForwardKernel(g, { upsample: u })).toThrow(/upsample must be a positive integer/);
    expect(() => conv2dBackpropInputKernel(g, { upsample: 2, bias: true })).toThrow(/no bias or activation/);
    expect(() => conv2dBackpropInputKernel(g, { upsample: 2, act: 'relu' })).toThrow(/no bias or activation/);
    expect(() => conv2dBackpropInputKernel(g, { upsample: 2, act: 'linear', dact: { act: 'relu' } })).not.toThrow();
    // upsample: 1 is the default, to the letter; the input gradient runs over low-resolution pixels.
    expect(conv2dForwardKernel(g, { upsample: 1 })).toEqual(conv2dForwardKernel(g));
    expect(conv2dBackpropInputKernel(g, { upsample: 1 })).toEqual(conv2dBackpropInputKernel(g));
    expect(conv2dBackpropFilterKernels(g, { upsample: 1, style: 'direct' })).toEqual(conv2dBackpropFilterKernels(g, { style: 'direct' }));
    const threads = (k: { workgroups: [number, number, number] }) => k.workgroups[0] * k.workgroups[1] * k.workgroups[2];
    expect(threads(conv2dBackpropInputKernel(g, { upsample: 2 }))).toBeLessThan(threads(conv2dBackpropInputKernel(g)));
  });

  for (const c of UP_CASES) {
    it(`forward, input and filter gradients: ${upName(c)}`, async ({ skip }) => {
      if (!(await gpuAvailable())) skip();
      const { g, x, xUp, w, dy } = upInputs(c, 61);
      const u = c.u;
      expectClose(await runForward(g, x, w, { upsample: u }), refConv(g, xUp, w), 'forward');
      // The input gradient at low resolution: the upsampled gradient summed over each u×u block.
      const dxLow = blockSumRef(refBackpropInput(g, dy, w), c.N, g.H, g.W, c.C, u);
      const runDx = async (o: Parameters<typeof conv2dBackpropInputKernel>[1], aux?: Float32Array) => {
        const k = conv2dBackpropInputKernel(g, o);
        expect(k.bindings.map((b) => b.name)).toEqual(['dy', 'w', ...(aux ? ['aux'] : []), 'dx']);
        const d = await device();
        const len = dxLow.length;
        const bufs = [upload(d, dy), upload(d, w), ...(aux ? [upload(d, aux)] : []), upload(d, randomArray(len, 98, 1e6, 2e6))];
        await runKernel(d, k, bufs);
        const out = await download(d, bufs[bufs.length - 1], len);
        bufs.forEach((b) => b.destroy());
        return out;
      };
      expectClose(await runDx({ upsample: u }), dxLow, 'backprop input');
      const aux = randomArray(dxLow.length, 65, -0.9, 0.9); // a tanh output, at low resolution
      expectClose(
        await runDx({ upsample: u, dact: { act: 'tanh' } }, aux),
        refEpilogue(dxLow, c.C, { dact: { act: 'tanh', aux } }),
        'backprop input ⊙ tanh′',
      );
      await checkFilterUp(g, x, xUp, dy, { upsample: u }, 'backprop filter');
      await checkFilterUp(g, x, xUp, dy, { upsample: u, bias: true }, 'backprop filter');
      await checkFilterUp(g, x, xUp, dy, { upsample: u, style: 'direct', bias: true }, 'backprop filter');
      await checkFilterUp(g, x, xUp, dy, { upsample: u, style: 'direct' }, 'backprop filter');
    });
  }

  it('forward epilogues and a multi-chunk filter gradient through the upsampling', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const c: UpCase = { N: 3, h: 5, w: 7, C: 3, F: 4, u: 2 };
    const { g, x, xUp, w, dy } = upInputs(c, 71);
    const bias = randomArray(g.F, 74);
    const aux = randomArray(g.N * g.OH * g.OW * g.F, 75, 0.05, 0.95); // a sigmoid output
    expectClose(
      await runForward(g, x, w, { upsample: 2, bias: true, act: 'elu', dact: { act: 'sigmoid' } }, { bias, aux }),
      refEpilogue(refConv(g, xUp, w), g.F, { bias, act: 'elu', dact: { act: 'sigmoid', aux } }),
      'forward bias+elu ⊙ sigmoid′',
    );
    expect(filterGradPlan(g).chunks).toBeGreaterThan(1);
    expect(filterGradDirectPlan(g).chunks).toBeGreaterThan(1);
    expect(await checkFilterUp(g, x, xUp, dy, { upsample: 2 }, 'multi-chunk')).toBeGreaterThan(1);
    expect(await checkFilterUp(g, x, xUp, dy, { upsample: 2, bias: true, skipSum: true }, 'multi-chunk')).toBeGreaterThan(1);
    expect(await checkFilterUp(g, x, xUp, dy, { upsample: 2, style: 'direct', bias: true }, 'multi-chunk')).toBeGreaterThan(1);
    expect(await checkFilterUp(g, x, xUp, dy, { upsample: 2, style: 'direct', skipSum: true }, 'multi-chunk')).toBeGreaterThan(1);
  });
});
