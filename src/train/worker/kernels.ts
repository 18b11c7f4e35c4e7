/**
 * Training kernels that tfjs 4.22 lacks or gets wrong, registered per backend.
 *
 * - wasm has no `Conv2DBackpropFilter` (the weight gradient of conv2d and conv2dTranspose), so conv
 *   layers cannot train there. We add a fast JS implementation that works directly on the wasm heap.
 * - cpu's `ResizeNearestNeighborGrad` (the gradient of upSampling2d) reads dy at the *images'* batch
 *   stride, so every image after the first in a batch gets a wrong gradient. We replace it with an
 *   exact adjoint of the cpu forward kernel.
 *
 * Every other kernel our layer kinds' gradients need exists on wasm (checked with tf.getKernel and by
 * gradcheck.ts); `missingTrainingKernels()` reports any that is absent at run time.
 *
 * Worker-side only (imports tfjs). Works in a browser Web Worker and in Node.
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type RoundingMode = 'floor' | 'round' | 'ceil';

/**
 * Kernels the forward and backward passes of our layer kinds, the losses (mse, bce) and the
 * optimizers use. Used to report anything a backend is missing.
 */
export const TRAINING_KERNELS: readonly string[] = [
  // conv2d / conv2dTranspose (plain and fused), their gradients
  'Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter',
  // pooling and their gradients
  'MaxPool', 'MaxPoolGrad', 'AvgPool', 'AvgPoolGrad',
  // upSampling2d and its gradient
  'ResizeNearestNeighbor', 'ResizeNearestNeighborGrad',
  // batch norm (forward, moments, gradient through elementary ops)
  'FusedBatchNorm', 'Mean', 'SquaredDifference', 'Rsqrt', 'Sum',
  // activations and their gradients
  'Relu', 'Step', 'LeakyRelu', 'Prelu', 'Elu', 'EluGrad', 'Selu', 'Softplus', 'Sigmoid', 'Tanh',
  'Exp', 'Greater', 'GreaterEqual', 'Less', 'LessEqual', 'Select', 'ZerosLike', 'OnesLike',
  // dense
  'BatchMatMul', '_FusedMatMul',
  // shapes, dropout
  'Reshape', 'Transpose', 'Tile', 'Cast', 'Fill', 'Identity',
  // elementwise, losses, optimizers
  'Add', 'AddN', 'Sub', 'Multiply', 'RealDiv', 'Neg', 'Square', 'Sqrt', 'Log', 'Maximum', 'Minimum',
  'ClipByValue', 'Pow', 'Abs',
];

/** Names (e.g. 'wasm:Conv2DBackpropFilter') of TRAINING_KERNELS missing from the given backends. */
export function missingTrainingKernels(backends: readonly string[] = registeredBackends()): string[] {
  const missing: string[] = [];
  for (const backend of backends) {
    for (const name of TRAINING_KERNELS) {
      if (tf.getKernel(name, backend) == null) missing.push(`${backend}:${name}`);
    }
  }
  return missing;
}

function registeredBackends(): string[] {
  return ['webgpu', 'webgl', 'wasm', 'cpu'].filter((b) => tf.findBackendFactory(b) != null);
}

// ---------------------------------------------------------------------------------------------
// Narrowing helpers (the kernel API hands us `backend: {}` and loosely typed attrs).

interface WasmBackendLike {
  typedArrayFromHeap(info: TensorInfo): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object): boolean;
}

interface CpuBackendLike {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): TensorInfo;
}

function hasMethods(b: unknown, names: readonly string[]): boolean {
  if (typeof b !== 'object' || b === null) return false;
  const rec = b as Record<string, unknown>;
  return names.every((n) => typeof rec[n] === 'function');
}

function isWasmBackend(b: unknown): b is WasmBackendLike {
  return hasMethods(b, ['typedArrayFromHeap', 'makeOutput', 'disposeData']);
}

function isCpuBackend(b: unknown): b is CpuBackendLike {
  return hasMethods(b, ['readSync', 'makeTensorInfo']);
}

function input(inputs: tf.NamedTensorInfoMap, name: string): TensorInfo {
  const t = inputs[name];
  if (t == null) throw new Error(`missing kernel input '${name}'`);
  return t;
}

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((e) => typeof e === 'number');
}

function attrStrides(v: unknown): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (isNumberArray(v) && v.length === 2) return [v[0], v[1]];
  throw new Error(`bad strides attribute: ${String(v)}`);
}

function attrPad(v: unknown): Pad {
  if (v === 'same' || v === 'valid' || typeof v === 'number') return v;
  if (Array.isArray(v) && v.length === 4 && v.every((p) => isNumberArray(p) && p.length === 2)) {
    return v as tf.backend_util.ExplicitPadding;
  }
  throw new Error(`bad pad attribute: ${String(v)}`);
}

function attrRounding(v: unknown): RoundingMode | undefined {
  if (v === 'floor' || v === 'round' || v === 'ceil') return v;
  return undefined;
}

function attrShape4(v: unknown): [number, number, number, number] {
  if (isNumberArray(v) && v.length === 4) return [v[0], v[1], v[2], v[3]];
  throw new Error(`bad shape attribute: ${String(v)}`);
}

function shape4(t: TensorInfo): [number, number, number, number] {
  if (t.shape.length !== 4) throw new Error(`expected a rank-4 tensor, got shape [${t.shape.join(',')}]`);
  return [t.shape[0], t.shape[1], t.shape[2], t.shape[3]];
}

// ---------------------------------------------------------------------------------------------
// Convolution gradients on wasm (NHWC, dilation 1), as im2col / col2im in JS around the wasm
// backend's own BatchMatMul (XNNPACK, SIMD).
//
// Why this shape: a direct JS loop over (b, oy, ox, ky, kx, ci, co) runs at ~2-5 ns per
// multiply-add in V8; wasm's BatchMatMul runs at ~0.15-0.25 ns per multiply-add when neither
// operand is transposed (its transposeA/transposeB paths are ~10× slower), and building the patch
// matrix costs about one store per element. So:
//   dWᵀ [Co, K]  = dyᵀ [Co, N] · P [N, K]      (Conv2DBackpropFilter)
//   dP  [N, K]   = dy  [N, Co] · Wᵀ [Co, K]    (Conv2DBackpropInput, then col2im: dx += dP)
// with N = batch·Ho·Wo, K = KH·KW·Ci, P the im2col patch matrix, in chunks of output rows so the
// patch matrix stays under CHUNK_FLOATS.

export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/** Largest patch-matrix chunk, in floats (16 MiB): bounds the wasm heap one kernel call uses. */
const CHUNK_FLOATS = 1 << 22;

/** Output rows (b, oy) per chunk, so that rows·Wo·K ≤ CHUNK_FLOATS. */
function rowsPerChunk(g: ConvGeometry): number {
  const perRow = g.outWidth * g.filterHeight * g.filterWidth * g.inChannels;
  return Math.max(1, Math.floor(CHUNK_FLOATS / Math.max(1, perRow)));
}

/**
 * Transposed im2col for output rows [r0, r1): pT[k·n + i] = P[i][k] with n = (r1 − r0)·Wo rows and
 * k = (ky·KW + kx)·Ci + ci. Each pT row is written contiguously (a gather from x).
 */
export function im2colT(x: ArrayLike<number>, g: ConvGeometry, r0: number, r1: number, pT: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const n = (r1 - r0) * Wo;
  const xRowLen = W * Ci;
  const xStep = sw * Ci;
  for (let ky = 0; ky < KH; ky++) {
    for (let kx = 0; kx < KW; kx++) {
      // valid ox range for this kx: 0 <= ox·sw − pl + kx < W
      const oxMin = Math.min(Wo, Math.max(0, Math.ceil((pl - kx) / sw)));
      const oxMax = Math.max(oxMin, Math.min(Wo, Math.floor((W - 1 + pl - kx) / sw) + 1));
      for (let ci = 0; ci < Ci; ci++) {
        let o = ((ky * KW + kx) * Ci + ci) * n;
        for (let r = r0; r < r1; r++) {
          const b = Math.floor(r / Ho);
          const oy = r - b * Ho;
          const iy = oy * sh - pt + ky;
          if (iy < 0 || iy >= H) {
            for (let ox = 0; ox < Wo; ox++) pT[o + ox] = 0;
          } else {
            let xi = (b * H + iy) * xRowLen + (oxMin * sw - pl + kx) * Ci + ci;
            let ox = 0;
            for (; ox < oxMin; ox++) pT[o + ox] = 0;
            for (; ox < oxMax; ox++, xi += xStep) pT[o + ox] = x[xi];
            for (; ox < Wo; ox++) pT[o + ox] = 0;
          }
          o += Wo;
        }
      }
    }
  }
}

/** The adjoint of im2col: dx[b, iy, ix, ci] += dp[n·K + (ky·KW + kx)·Ci + ci] for in-image (iy, ix). */
export function col2im(dp: ArrayLike<number>, g: ConvGeometry, r0: number, r1: number, dx: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const rowLen = KW * Ci;
  const xRowLen = W * Ci;
  let o = 0;
  for (let r = r0; r < r1; r++) {
    const b = Math.floor(r / Ho);
    const oy = r - b * Ho;
    const xB = b * H * xRowLen;
    const iyBase = oy * sh - pt;
    for (let ox = 0; ox < Wo; ox++) {
      const ix0 = ox * sw - pl;
      const jMin = Math.min(rowLen, Math.max(0, -ix0 * Ci));
      const jMax = Math.max(jMin, Math.min(rowLen, (W - ix0) * Ci));
      for (let ky = 0; ky < KH; ky++) {
        const iy = iyBase + ky;
        if (iy >= 0 && iy < H) {
          const xBase = xB + iy * xRowLen + ix0 * Ci;
          for (let j = jMin; j < jMax; j++) dx[xBase + j] += dp[o + j];
        }
        o += rowLen;
      }
    }
  }
}

function convGeometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: tf.NamedAttrMap | undefined,
  what: string,
): ConvGeometry {
  if (attrs == null) throw new Error(`${what}: missing attributes`);
  const dataFormat = attrs.dataFormat;
  if (dataFormat != null && dataFormat !== 'NHWC') {
    throw new Error(`${what}: only NHWC is supported here, got ${String(dataFormat)}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrStrides(attrs.strides),
    1,
    attrPad(attrs.pad),
    attrRounding(attrs.dimRoundingMode),
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

function checkDyShape(dy: TensorInfo, g: ConvGeometry, what: string): void {
  const want = [g.batch, g.outHeight, g.outWidth, g.outChannels];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== want[i])) {
    throw new Error(`${what}: dy shape [${dy.shape.join(',')}] should be [${want.join(',')}]`);
  }
}

function checkFloat32(what: string, ...ts: TensorInfo[]): void {
  for (const t of ts) if (t.dtype !== 'float32') throw new Error(`${what}: float32 only, got ${t.dtype}`);
}

/** A Float32Array view of a wasm tensor. Take it after the last allocation: growing the heap detaches views. */
function f32(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  const v = backend.typedArrayFromHeap(t);
  if (!(v instanceof Float32Array)) throw new Error('expected a float32 wasm tensor');
  return v;
}

/** a · b on wasm (neither transposed: the fast path), via the backend's own BatchMatMul kernel. */
function wasmMatMul(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo): TensorInfo {
  const kernel = tf.getKernel('BatchMatMul', 'wasm');
  if (kernel == null) throw new Error('wasm BatchMatMul kernel not registered');
  const out = kernel.kernelFunc({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } });
  if (Array.isArray(out)) throw new Error('BatchMatMul returned several outputs');
  return out;
}

/** Time spent in our wasm convolution-gradient kernels (ms) and number of calls, for benchmarks. */
export const kernelStats = {
  Conv2DBackpropFilter: { calls: 0, ms: 0 },
  Conv2DBackpropInput: { calls: 0, ms: 0 },
};

export function resetKernelStats(): void {
  for (const s of Object.values(kernelStats)) {
    s.calls = 0;
    s.ms = 0;
  }
}

const now: () => number =
  typeof performance !== 'undefined' && typeof performance.now === 'function' ? () => performance.now() : () => Date.now();

const wasmConv2DBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const what = 'Conv2DBackpropFilter (wasm)';
  if (!isWasmBackend(backend)) throw new Error(`${what}: unexpected backend`);
  const t0 = now();
  const x = input(inputs, 'x');
  const dy = input(inputs, 'dy');
  checkFloat32(what, x, dy);
  const filterShape = attrShape4(attrs?.filterShape);
  const g = convGeometry(shape4(x), filterShape, attrs, what);
  checkDyShape(dy, g, what);
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const Co = g.outChannels;
  const Wo = g.outWidth;
  const rows = g.batch * g.outHeight;
  const step = rowsPerChunk(g);
  let out: TensorInfo | null = null;
  let acc: Float32Array | null = null;
  for (let r0 = 0; r0 < rows; r0 += step) {
    const r1 = Math.min(rows, r0 + step);
    const n = (r1 - r0) * Wo;
    const single = r0 === 0 && r1 === rows;
    const pT = backend.makeOutput([K, n], 'float32');
    const dyChunk: TensorInfo = single ? { dataId: dy.dataId, shape: [n, Co], dtype: 'float32' } : backend.makeOutput([n, Co], 'float32');
    try {
      if (!single) f32(backend, dyChunk).set(f32(backend, dy).subarray(r0 * Wo * Co, r1 * Wo * Co));
      im2colT(f32(backend, x), g, r0, r1, f32(backend, pT));
      const prod = wasmMatMul(backend, pT, dyChunk); // [K, Co]
      if (single) {
        out = { dataId: prod.dataId, shape: filterShape, dtype: 'float32' };
      } else {
        const pv = f32(backend, prod);
        if (acc == null) acc = pv.slice();
        else for (let i = 0; i < acc.length; i++) acc[i] += pv[i];
        backend.disposeData(prod.dataId);
      }
    } finally {
      backend.disposeData(pT.dataId);
      if (!single) backend.disposeData(dyChunk.dataId);
    }
  }
  if (out == null) {
    out = backend.makeOutput(filterShape, 'float32');
    if (acc != null) f32(backend, out).set(acc);
  }
  kernelStats.Conv2DBackpropFilter.calls++;
  kernelStats.Conv2DBackpropFilter.ms += now() - t0;
  return out;
};

const wasmConv2DBackpropInput: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const what = 'Conv2DBackpropInput (wasm)';
  if (!isWasmBackend(backend)) throw new Error(`${what}: unexpected backend`);
  const t0 = now();
  const dy = input(inputs, 'dy');
  const filter = input(inputs, 'filter');
  checkFloat32(what, dy, filter);
  const inShape = attrShape4(attrs?.inputShape);
  const g = convGeometry(inShape, shape4(filter), attrs, what);
  checkDyShape(dy, g, what);
  const K = g.filterHeight * g.filterWidth * g.inChannels;
  const Co = g.outChannels;
  const Wo = g.outWidth;
  const rows = g.batch * g.outHeight;
  const step = rowsPerChunk(g);
  const wT = backend.makeOutput([Co, K], 'float32');
  const dx = backend.makeOutput(inShape, 'float32');
  try {
    {
      const wv = f32(backend, filter);
      const wTv = f32(backend, wT);
      for (let k = 0; k < K; k++) for (let co = 0; co < Co; co++) wTv[co * K + k] = wv[k * Co + co];
      f32(backend, dx).fill(0);
    }
    for (let r0 = 0; r0 < rows; r0 += step) {
      const r1 = Math.min(rows, r0 + step);
      const n = (r1 - r0) * Wo;
      let dyChunk: TensorInfo;
      let ownChunk = false;
      if (r0 === 0 && r1 === rows) {
        dyChunk = { dataId: dy.dataId, shape: [n, Co], dtype: 'float32' };
      } else {
        dyChunk = backend.makeOutput([n, Co], 'float32');
        ownChunk = true;
        f32(backend, dyChunk).set(f32(backend, dy).subarray(r0 * Wo * Co, r1 * Wo * Co));
      }
      try {
        const dp = wasmMatMul(backend, dyChunk, wT); // [n, K]
        col2im(f32(backend, dp), g, r0, r1, f32(backend, dx));
        backend.disposeData(dp.dataId);
      } finally {
        if (ownChunk) backend.disposeData(dyChunk.dataId);
      }
    }
  } catch (e) {
    backend.disposeData(dx.dataId);
    throw e;
  } finally {
    backend.disposeData(wT.dataId);
  }
  kernelStats.Conv2DBackpropInput.calls++;
  kernelStats.Conv2DBackpropInput.ms += now() - t0;
  return dx;
};

// ---------------------------------------------------------------------------------------------
// ResizeNearestNeighborGrad: the exact adjoint of the cpu forward ResizeNearestNeighbor.

export interface ResizeNearestParams {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  alignCorners: boolean;
  halfPixelCenters: boolean;
}

/** Source index along one axis for output index `o`, exactly as the forward kernel computes it. */
function nearestSource(o: number, inSize: number, outSize: number, alignCorners: boolean, halfPixel: boolean): number {
  const effIn = alignCorners && outSize > 1 ? inSize - 1 : inSize;
  const effOut = alignCorners && outSize > 1 ? outSize - 1 : outSize;
  const ratio = effIn / effOut;
  const frac = halfPixel ? ratio * (o + 0.5) : ratio * o;
  let src = Math.min(inSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  if (halfPixel) src = Math.max(0, src);
  return src;
}

/** dx[b, src(y), src(x), c] += dy[b, y, x, c]; `dx` (length B·H·W·C) is overwritten. */
export function resizeNearestNeighborGradNHWC(dy: ArrayLike<number>, p: ResizeNearestParams, dx: Float32Array): void {
  const { batch, inHeight: H, inWidth: W, channels: C, outHeight: Ho, outWidth: Wo } = p;
  dx.fill(0);
  const srcCol = new Int32Array(Wo);
  for (let x = 0; x < Wo; x++) srcCol[x] = nearestSource(x, W, Wo, p.alignCorners, p.halfPixelCenters);
  let d = 0;
  for (let b = 0; b < batch; b++) {
    const dxB = b * H * W * C;
    for (let y = 0; y < Ho; y++) {
      const dxR = dxB + nearestSource(y, H, Ho, p.alignCorners, p.halfPixelCenters) * W * C;
      for (let x = 0; x < Wo; x++) {
        const o = dxR + srcCol[x] * C;
        for (let c = 0; c < C; c++) dx[o + c] += dy[d++];
      }
    }
  }
}

function resizeParams(images: TensorInfo, dy: TensorInfo, attrs: tf.NamedAttrMap | undefined): ResizeNearestParams {
  const [batch, inHeight, inWidth, channels] = shape4(images);
  const [dyBatch, outHeight, outWidth, dyChannels] = shape4(dy);
  if (dyBatch !== batch || dyChannels !== channels) {
    throw new Error(`ResizeNearestNeighborGrad: dy [${dy.shape.join(',')}] does not match images [${images.shape.join(',')}]`);
  }
  return {
    batch,
    inHeight,
    inWidth,
    channels,
    outHeight,
    outWidth,
    alignCorners: attrs?.alignCorners === true,
    halfPixelCenters: attrs?.halfPixelCenters === true,
  };
}

const cpuResizeNearestNeighborGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  if (!isCpuBackend(backend)) throw new Error('ResizeNearestNeighborGrad (cpu): unexpected backend');
  const images = input(inputs, 'images');
  const dy = input(inputs, 'dy');
  const p = resizeParams(images, dy, attrs);
  const dyVals = backend.readSync(dy.dataId);
  if (!(dyVals instanceof Float32Array || dyVals instanceof Int32Array || dyVals instanceof Uint8Array)) {
    throw new Error('ResizeNearestNeighborGrad (cpu): unexpected dy storage');
  }
  const dx = new Float32Array(p.batch * p.inHeight * p.inWidth * p.channels);
  resizeNearestNeighborGradNHWC(dyVals, p, dx);
  return backend.makeTensorInfo([p.batch, p.inHeight, p.inWidth, p.channels], 'float32', dx);
};

// ---------------------------------------------------------------------------------------------
// Registration

interface Replacement {
  kernelName: string;
  backendName: string;
  kernelFunc: tf.KernelFunc;
  /** Replace a stock kernel (true) or only fill a gap (false). */
  replace: boolean;
}

const REPLACEMENTS: readonly Replacement[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: wasmConv2DBackpropFilter, replace: false },
  { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc: wasmConv2DBackpropInput, replace: true },
  { kernelName: 'ResizeNearestNeighborGrad', backendName: 'cpu', kernelFunc: cpuResizeNearestNeighborGrad, replace: true },
];

/** True if the kernel currently registered for (name, backend) is ours. */
export function isOurKernel(kernelName: string, backendName: string): boolean {
  const k = tf.getKernel(kernelName, backendName);
  return k != null && REPLACEMENTS.some((r) => r.kernelFunc === k.kernelFunc);
}

/**
 * Registers every missing or wrong training kernel for the backends whose factories are registered
 * (call it after importing the backend packages; calling it again is harmless). Returns what it
 * registered this time, as 'backend:Kernel'.
 */
export function registerTrainingKernels(): string[] {
  const backends = new Set(registeredBackends());
  const done: string[] = [];
  for (const r of REPLACEMENTS) {
    if (!backends.has(r.backendName)) continue;
    const existing = tf.getKernel(r.kernelName, r.backendName);
    if (existing != null) {
      if (existing.kernelFunc === r.kernelFunc || !r.replace) continue;
      tf.unregisterKernel(r.kernelName, r.backendName);
    }
    tf.registerKernel({ kernelName: r.kernelName, backendName: r.backendName, kernelFunc: r.kernelFunc });
    done.push(`${r.backendName}:${r.kernelName}`);
  }
  return done;
}
