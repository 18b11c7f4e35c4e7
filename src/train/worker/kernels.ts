/**
 * Training kernels that tfjs 4.22 lacks, gets wrong or runs slowly, registered per backend.
 *
 * - wasm: no `Conv2DBackpropFilter` (the weight gradient of conv2d and conv2dTranspose), so conv
 *   layers cannot train. We add one that rearranges the data in JS and runs the wasm backend's own
 *   XNNPACK Conv2D. We also replace wasm's `Conv2DBackpropInput` (input gradient of conv2d, forward
 *   of conv2dTranspose): the stock one is correct but a scalar loop, 2-10× slower. Likewise
 *   `MaxPoolGrad` (correct, ~4× slower than a direct JS pass) and, through XNNPACK operators that
 *   tfjs-wasm already has, `ResizeNearestNeighborGrad`, `Sum` and `Mean` over the leading axes,
 *   `FusedBatchNorm` and `LeakyRelu` (each 4-30× faster than the stock kernel on training-size batches).
 *   `Slice` views the heap instead of copying it out, and `Identity` (tf.clone, which the engine runs
 *   on every tensor it saves for the backward pass) shares the input's buffer instead of copying it.
 * - cpu: `ResizeNearestNeighborGrad` (the gradient of upSampling2d) reads dy at the *images'* batch
 *   stride, so every image after the first in a batch gets a wrong gradient. Replaced by the exact
 *   adjoint of the cpu forward kernel.
 * - webgpu, webgl: `ResizeNearestNeighborGrad` recovers each source row as floor(H · (y / Ho)) in
 *   float32, which with IEEE rounding lands one row low for some sizes (H = 22, 23, 29, 37, …).
 *   Seen on webgpu (Chromium, SwiftShader): upsampling 22 rows ×2 sends row 13's gradient to row 12.
 *   webgl uses the same formula (right on SwiftShader GL; GPU-dependent). Replaced, for whole-number
 *   factors, by Reshape + Sum on the same backend, which is exact.
 *
 * Every other kernel that training our layer kinds needs exists on every backend:
 * `missingTrainingKernels()` checks TRAINING_KERNELS with tf.getKernel, and gradcheck.ts checks the
 * gradients themselves.
 *
 * Worker-side only (imports tfjs). Works in a browser Web Worker and in Node.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelPathReport } from '../protocol';
import { simdCoversConv } from '../../model/wasmThreadPlan';
import { heapPtr as ptr, simdCompileError, simdKernelsFor, type SimdKernels } from './simd/simd';

type TensorInfo = tf.TensorInfo;
type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type RoundingMode = 'floor' | 'round' | 'ceil';

/**
 * Every kernel that the forward and backward passes of our layer kinds, the losses (mse, bce), the
 * optimizers (adam, sgd, rmsprop) and model.fit ran on the cpu backend (collected with tf.profile
 * over gradientCheck() and fit() with each loss and optimizer).
 */
export const TRAINING_KERNELS: readonly string[] = [
  'Abs', 'Add', 'AvgPool', 'AvgPoolGrad', 'BatchMatMul', 'Cast', 'ClipByValue', 'Conv2D',
  'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Elu', 'EluGrad', 'Exp', 'Floor', 'FusedBatchNorm',
  'FusedConv2D', 'GatherV2', 'Greater', 'GreaterEqual', 'Identity', 'LeakyRelu', 'LessEqual', 'Log',
  'Log1p', 'LogicalAnd', 'MaxPool', 'MaxPoolGrad', 'Mean', 'Multiply', 'Neg', 'RealDiv', 'Relu',
  'Reshape', 'ResizeNearestNeighbor', 'ResizeNearestNeighborGrad', 'Rsqrt', 'Select', 'Selu',
  'Sigmoid', 'Slice', 'Softplus', 'Sqrt', 'Square', 'SquaredDifference', 'Step', 'Sub', 'Sum', 'Tanh',
  'Tile', 'ZerosLike', '_FusedMatMul',
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

export interface WasmBackendLike {
  typedArrayFromHeap(info: TensorInfo): ArrayLike<number>;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  disposeData(dataId: object): boolean;
}

interface CpuBackendLike {
  readSync(dataId: object): unknown;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array): TensorInfo;
}

/** For kernels that only run on our SIMD module (adam.ts, bce.ts): the wasm backend and the module, or a thrown error. */
export function requireSimd(backend: unknown, what: string): { backend: WasmBackendLike; k: SimdKernels } {
  if (!isWasmBackend(backend)) throw new Error(`${what}: wasm only`);
  const k = simdKernelsFor(backend);
  if (k == null) throw new Error(`${what}: no WebAssembly SIMD`);
  return { backend, k };
}

function hasMethods(b: unknown, names: readonly string[]): boolean {
  if (typeof b !== 'object' || b === null) return false;
  const rec = b as Record<string, unknown>;
  return names.every((n) => typeof rec[n] === 'function');
}

export function isWasmBackend(b: unknown): b is WasmBackendLike {
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
// Convolution gradients on wasm (NHWC, dilation 1).
//
// A direct JS loop over (b, oy, ox, ky, kx, ci, co) costs ~1-4 ns per multiply-add in V8, while the
// wasm backend's XNNPACK kernels (Conv2D, BatchMatMul without transposes) cost ~0.1-0.3 ns. So we
// only rearrange data in JS (O(data), not O(multiply-adds)) and let XNNPACK do the arithmetic:
//
// Conv2DBackpropFilter, dW[ky,kx,ci,co] = Σ_{b,oy,ox} x[b, oy·sh+ky−pt, ox·sw+kx−pl, ci] · dy[b,oy,ox,co]:
//   "normal":  a Conv2D with x as the input, laid out [Ci, H, W, B] (batch ↔ channels), and dy as the
//              filter, [Ho, Wo, B, Co], dilated by the stride: output [Ci, KH, KW, Co].
//   "swapped": (stride 1) a Conv2D with dy as the input, [Co, Ho, Wo, B], and x as the filter,
//              [H, W, B, Ci], with "full" padding: output [Co, KH, KW, Ci], flipped in (ky, kx).
//              Used when Co < Ci, as XNNPACK is slow with few output channels.
// Conv2DBackpropInput, dx = the transpose of the convolution applied to dy:
//   stride 1:  a Conv2D of dy with the filter flipped in (ky, kx) and ci/co swapped, "full" padding.
//   stride >1: dP = dy [N, Co] · Wᵀ [Co, K] with BatchMatMul (N = B·Ho·Wo, K = KH·KW·Ci), then
//              col2im (dx += dP scattered back to the pixels), in chunks of output rows.
//
// Measured in Node (batch 32 conv autoencoder on 28×28×1, 5 conv layers): a plain JS loop for the
// filter gradient took ~54 ms of a ~130 ms step; this takes ~15 ms, and the whole step ~45 ms.

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

/** Output rows (b, oy) per col2im chunk, so that rows·Wo·K ≤ wasmConvPaths.chunkFloats. */
function rowsPerChunk(g: ConvGeometry): number {
  const perRow = g.outWidth * g.filterHeight * g.filterWidth * g.inChannels;
  return Math.max(1, Math.floor(wasmConvPaths.chunkFloats / Math.max(1, perRow)));
}

/**
 * col2im for output rows [r0, r1) (row r = b·Ho + oy, n = (r − r0)·Wo + ox):
 * dx[b, oy·sh − pt + ky, ox·sw − pl + kx, ci] += dp[n·K + (ky·KW + kx)·Ci + ci] for in-image pixels.
 * For fixed (n, ky) the in-image kx range is one contiguous run of dx.
 */
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
export function f32(backend: WasmBackendLike, t: TensorInfo): Float32Array {
  const v = backend.typedArrayFromHeap(t);
  if (!(v instanceof Float32Array)) throw new Error('expected a float32 wasm tensor');
  return v;
}

const now: () => number =
  typeof performance !== 'undefined' && typeof performance.now === 'function' ? () => performance.now() : () => Date.now();

/** Milliseconds spent so far inside wasm's own kernels called through runWasmKernel (for kernelStats). */
let wasmInnerMs = 0;

/** Runs one of the wasm backend's own kernels (XNNPACK or C++) on wasm tensors; it must return one output. */
function runWasmKernel(name: string, backend: WasmBackendLike, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel == null) throw new Error(`wasm ${name} kernel not registered`);
  const t0 = now();
  const out = kernel.kernelFunc({ inputs, backend, attrs });
  wasmInnerMs += now() - t0;
  if (Array.isArray(out)) throw new Error(`${name} returned several outputs`);
  return out;
}

/** a · b on wasm (neither transposed: the fast path), via the backend's own BatchMatMul kernel. */
function wasmMatMul(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo): TensorInfo {
  return runWasmKernel('BatchMatMul', backend, { a, b }, { transposeA: false, transposeB: false });
}

export interface KernelStat {
  calls: number;
  /** All the time in the kernel (ms), inclusive of the wasm kernels it calls. */
  ms: number;
  /** Of that, the time inside wasm's own kernels it calls (XNNPACK Conv2D, BatchMatMul, Transpose). */
  wasmMs: number;
}

/** Time spent in some of our wasm kernels and number of calls, for benchmarks and tests. */
export const kernelStats: Record<
  'Conv2DBackpropFilter' | 'Conv2DBackpropInput' | 'MaxPoolGrad' | 'Sum' | 'Mean' | 'FusedBatchNorm',
  KernelStat
> = {
  Conv2DBackpropFilter: { calls: 0, ms: 0, wasmMs: 0 },
  Conv2DBackpropInput: { calls: 0, ms: 0, wasmMs: 0 },
  MaxPoolGrad: { calls: 0, ms: 0, wasmMs: 0 },
  Sum: { calls: 0, ms: 0, wasmMs: 0 },
  Mean: { calls: 0, ms: 0, wasmMs: 0 },
  FusedBatchNorm: { calls: 0, ms: 0, wasmMs: 0 },
};

export function resetKernelStats(): void {
  for (const s of Object.values(kernelStats)) {
    s.calls = 0;
    s.ms = 0;
    s.wasmMs = 0;
  }
}

/** Adds one call that started at t0 (with wasmInnerMs at inner0 then) to a kernel's stats. */
function countCall(stat: KernelStat, t0: number, inner0: number): void {
  stat.calls++;
  stat.ms += now() - t0;
  stat.wasmMs += wasmInnerMs - inner0;
}

/** The wasm backend's own Conv2D (XNNPACK), stride 1, explicit padding. */
function wasmConv2D(
  backend: WasmBackendLike,
  x: TensorInfo,
  filter: TensorInfo,
  pad: tf.backend_util.ExplicitPadding,
  dilations: [number, number],
): TensorInfo {
  return runWasmKernel('Conv2D', backend, { x, filter }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations });
}

/** The wasm backend's own Transpose (C++): the big layout changes of the gradients, faster than a JS loop. */
function wasmTranspose(backend: WasmBackendLike, x: TensorInfo, perm: number[]): TensorInfo {
  return runWasmKernel('Transpose', backend, { x }, { perm });
}

/**
 * Which formulation the wasm convolution gradients use ('auto' picks per call), and the largest dP
 * chunk in floats (default 4 Mi floats = 16 MiB, bounding the wasm heap one col2im pass uses).
 * Exposed for tests and benchmarks, which force each path to check it against the cpu backend.
 */
export const wasmConvPaths: {
  filterGrad: 'auto' | 'normal' | 'swapped';
  inputGrad: 'auto' | 'matmul';
  chunkFloats: number;
  /** Our SIMD kernels (simd/) for convolutions with one input or one output channel; false: XNNPACK paths only. */
  direct: boolean;
  /** Filter gradients that go to our SIMD kernel: 'auto' those with few channels (fewChannels), 'all' every one (tests). */
  directFilterGrad: 'auto' | 'all';
} = {
  filterGrad: 'auto',
  inputGrad: 'auto',
  chunkFloats: 1 << 22,
  direct: true,
  directFilterGrad: 'auto',
};

/** Calls that ran on our SIMD kernels (simd/) rather than the XNNPACK-based paths, per kernel. */
export const directCalls = { FusedConv2D: 0, Conv2DBackpropFilter: 0, Conv2DBackpropInput: 0, MaxPoolGrad: 0, BatchMatMul: 0, ResizeNearestNeighbor: 0 };

/**
 * Our SIMD kernels, when this convolution has one input or one output channel (an autoencoder's
 * first and last layers), where XNNPACK reaches only ~1-5 GFLOP/s: measured at batch 32, 28×28,
 * 16 ↔ 1 channels, 2-7× faster than the XNNPACK-based paths (bench/wasm-profile.md).
 */
function directConvKernels(backend: WasmBackendLike, g: ConvGeometry): SimdKernels | null {
  if (!wasmConvPaths.direct || (g.inChannels !== 1 && g.outChannels !== 1)) return null;
  return simdKernelsFor(backend);
}

/**
 * Filter gradients that our SIMD kernel (one pass over the pixels per tap and channel of the smaller
 * side) takes from XNNPACK (two transposes and a Conv2D): few channels on either side. Measured at
 * batch 32, stride 1 (ms, ours vs XNNPACK path): 1→16 28×28 0.29-0.35 vs 2.2-2.8; 16→16 14×14 1.9-2.1
 * vs 2.5-7.0; 16→4 14×14 0.25 vs 0.68; 4→16 7×7 0.09-0.13 vs 0.5-1.4; 8→8 28×28 2.2 vs 2.2-3.0; but
 * 64→64 14×14 37-40 vs 23 (there dy no longer stays in cache between the passes).
 */
const fewChannels = simdCoversConv;


const wasmConv2DBackpropFilter: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const what = 'Conv2DBackpropFilter (wasm)';
  if (!isWasmBackend(backend)) throw new Error(`${what}: unexpected backend`);
  const t0 = now();
  const inner0 = wasmInnerMs;
  const x = input(inputs, 'x');
  const dy = input(inputs, 'dy');
  checkFloat32(what, x, dy);
  const filterShape = attrShape4(attrs?.filterShape);
  const g = convGeometry(shape4(x), filterShape, attrs, what);
  checkDyShape(dy, g, what);
  const { batch: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: Co } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const direct =
    wasmConvPaths.filterGrad === 'auto' && wasmConvPaths.direct && (wasmConvPaths.directFilterGrad === 'all' || fewChannels(Ci, Co))
      ? simdKernelsFor(backend)
      : null;
  if (direct != null) {
    const out = backend.makeOutput(filterShape, 'float32');
    const geo = [KH, KW, sh, sw, pt, pl] as const;
    const scratch = backend.makeOutput([16], 'float32');
    try {
      direct.convFilterGrad(ptr(backend, x), ptr(backend, dy), ptr(backend, out), ptr(backend, scratch), B, H, W, Ci, Ho, Wo, Co, ...geo);
    } finally {
      backend.disposeData(scratch.dataId);
    }
    directCalls.Conv2DBackpropFilter++;
    countCall(kernelStats.Conv2DBackpropFilter, t0, inner0);
    return out;
  }
  const swappable = sh === 1 && sw === 1 && pt <= KH - 1 && pl <= KW - 1 && H - Ho + pt >= 0 && W - Wo + pl >= 0;
  const mode = wasmConvPaths.filterGrad;
  const swapped = mode === 'swapped' ? swappable : mode === 'normal' ? false : swappable && Co < Ci;
  const dW = backend.makeOutput(filterShape, 'float32');
  try {
    if (swapped) {
      // in = dy as [Co, Ho, Wo, B], filter = x as [H, W, B, Ci]  →  out [Co, KH, KW, Ci], flipped in (ky, kx)
      const inT = wasmTranspose(backend, dy, [3, 1, 2, 0]); // [Co, Ho, Wo, B]
      let fT: TensorInfo | null = null;
      let res: TensorInfo | null = null;
      try {
        fT = wasmTranspose(backend, x, [1, 2, 0, 3]); // [H, W, B, Ci]
        res = wasmConv2D(backend, inT, fT, [[0, 0], [KH - 1 - pt, H - Ho + pt], [KW - 1 - pl, W - Wo + pl], [0, 0]], [1, 1]);
        const rv = f32(backend, res);
        const ov = f32(backend, dW);
        let i = 0;
        for (let co = 0; co < Co; co++)
          for (let ky = KH - 1; ky >= 0; ky--)
            for (let kx = KW - 1; kx >= 0; kx--) {
              const o = (ky * KW + kx) * Ci * Co + co;
              for (let ci = 0; ci < Ci; ci++) ov[o + ci * Co] = rv[i++];
            }
      } finally {
        backend.disposeData(inT.dataId);
        if (fT != null) backend.disposeData(fT.dataId);
        if (res != null) backend.disposeData(res.dataId);
      }
    } else {
      // in = x as [Ci, H', W', B] (cropped to the rows/cols the conv reads), filter = dy as [Ho, Wo, B, Co],
      // dilation = stride  →  out [Ci, KH, KW, Co]
      const needH = KH - pt + (Ho - 1) * sh;
      const needW = KW - pl + (Wo - 1) * sw;
      const Hc = Math.min(H, needH);
      const Wc = Math.min(W, needW);
      if (Hc <= 0 || Wc <= 0) {
        // padding so large that no input pixel meets the filter
        f32(backend, dW).fill(0);
        return dW;
      }
      let inT: TensorInfo | null = null;
      let fT: TensorInfo | null = null;
      let res: TensorInfo | null = null;
      try {
        if (Hc === H && Wc === W) {
          inT = wasmTranspose(backend, x, [3, 1, 2, 0]); // [Ci, H, W, B]
        } else {
          // Cropped to the rows/cols the convolution reads: a JS pass (rare: a stride that leaves a remainder).
          inT = backend.makeOutput([Ci, Hc, Wc, B], 'float32');
          const xv = f32(backend, x);
          const iv = f32(backend, inT);
          const plane = Hc * Wc * B;
          for (let b = 0; b < B; b++)
            for (let y = 0; y < Hc; y++) {
              let i = ((b * H + y) * W) * Ci;
              for (let xx = 0; xx < Wc; xx++) {
                const o = (y * Wc + xx) * B + b;
                for (let ci = 0; ci < Ci; ci++) iv[ci * plane + o] = xv[i++];
              }
            }
        }
        fT = wasmTranspose(backend, dy, [1, 2, 0, 3]); // [Ho, Wo, B, Co]
        res = wasmConv2D(backend, inT, fT, [[0, 0], [pt, needH - Hc], [pl, needW - Wc], [0, 0]], [sh, sw]);
        const rv = f32(backend, res);
        const ov = f32(backend, dW);
        let i = 0;
        for (let ci = 0; ci < Ci; ci++)
          for (let k = 0; k < KH * KW; k++) {
            const o = (k * Ci + ci) * Co;
            for (let co = 0; co < Co; co++) ov[o + co] = rv[i++];
          }
      } finally {
        if (inT != null) backend.disposeData(inT.dataId);
        if (fT != null) backend.disposeData(fT.dataId);
        if (res != null) backend.disposeData(res.dataId);
      }
    }
  } catch (e) {
    backend.disposeData(dW.dataId);
    throw e;
  }
  countCall(kernelStats.Conv2DBackpropFilter, t0, inner0);
  return dW;
};

const wasmConv2DBackpropInput: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const what = 'Conv2DBackpropInput (wasm)';
  if (!isWasmBackend(backend)) throw new Error(`${what}: unexpected backend`);
  const t0 = now();
  const inner0 = wasmInnerMs;
  const dy = input(inputs, 'dy');
  const filter = input(inputs, 'filter');
  checkFloat32(what, dy, filter);
  const inShape = attrShape4(attrs?.inputShape);
  const g = convGeometry(inShape, shape4(filter), attrs, what);
  checkDyShape(dy, g, what);
  const { inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outChannels: Co, outWidth: Wo } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  const direct = wasmConvPaths.inputGrad === 'auto' ? directConvKernels(backend, g) : null;
  if (direct != null) {
    const out = backend.makeOutput(inShape, 'float32');
    const geo = [KH, KW, sh, sw, pt, pl] as const;
    const B = g.batch;
    if (Ci === 1) direct.convInputGradCi1(ptr(backend, dy), ptr(backend, filter), ptr(backend, out), B, H, W, Ho, Wo, Co, ...geo);
    else direct.convInputGradCo1(ptr(backend, dy), ptr(backend, filter), ptr(backend, out), B, H, W, Ci, Ho, Wo, ...geo);
    directCalls.Conv2DBackpropInput++;
    countCall(kernelStats.Conv2DBackpropInput, t0, inner0);
    return out;
  }
  if (wasmConvPaths.inputGrad === 'auto' && sh === 1 && sw === 1 && pt <= KH - 1 && pl <= KW - 1 && H - Ho + pt >= 0 && W - Wo + pl >= 0) {
    // Stride 1: dx = conv2d(dy, W flipped in (ky, kx) with ci/co swapped), "full" padding.
    const wF = backend.makeOutput([KH, KW, Co, Ci], 'float32');
    try {
      const wv = f32(backend, filter);
      const fv = f32(backend, wF);
      let i = 0;
      for (let ky = 0; ky < KH; ky++)
        for (let kx = 0; kx < KW; kx++) {
          const o = ((KH - 1 - ky) * KW + (KW - 1 - kx)) * Co * Ci;
          for (let ci = 0; ci < Ci; ci++) for (let co = 0; co < Co; co++) fv[o + co * Ci + ci] = wv[i++];
        }
      const dx = wasmConv2D(backend, dy, wF, [[0, 0], [KH - 1 - pt, H - Ho + pt], [KW - 1 - pl, W - Wo + pl], [0, 0]], [1, 1]);
      countCall(kernelStats.Conv2DBackpropInput, t0, inner0);
      return dx;
    } finally {
      backend.disposeData(wF.dataId);
    }
  }
  const K = KH * KW * Ci;
  const rows = g.batch * Ho;
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
  countCall(kernelStats.Conv2DBackpropInput, t0, inner0);
  return dx;
};

/** The wasm kernel (and its attributes) that applies a fused activation, or null for none; undefined if unknown. */
function fusedActivationKernel(
  attrs: tf.NamedAttrMap | undefined,
  alpha: TensorInfo | undefined,
): { name: string; attrs: tf.NamedAttrMap; alpha?: TensorInfo } | null | undefined {
  const a = attrs?.activation ?? 'linear';
  switch (a) {
    case 'linear':
      return null;
    case 'relu':
      return { name: 'Relu', attrs: {} };
    case 'relu6':
      return { name: 'Relu6', attrs: {} };
    case 'elu':
      return { name: 'Elu', attrs: {} };
    case 'sigmoid':
      return { name: 'Sigmoid', attrs: {} };
    case 'leakyrelu':
      return typeof attrs?.leakyreluAlpha === 'number' ? { name: 'LeakyRelu', attrs: { alpha: attrs.leakyreluAlpha } } : undefined;
    case 'prelu':
      return alpha != null ? { name: 'Prelu', attrs: {}, alpha } : undefined;
    default:
      return undefined;
  }
}

type FusedActivation = NonNullable<ReturnType<typeof fusedActivationKernel>>;

/** y passed through a fused activation with wasm's own kernel (y is freed), or y itself for none. */
function applyFusedActivation(backend: WasmBackendLike, y: TensorInfo, act: FusedActivation | null): TensorInfo {
  if (act == null) return y;
  try {
    return runWasmKernel(act.name, backend, act.alpha != null ? { x: y, alpha: act.alpha } : { x: y }, act.attrs);
  } finally {
    backend.disposeData(y.dataId);
  }
}

/**
 * FusedConv2D (conv2d + bias + activation; tfjs-layers' conv forward) on wasm: with one output channel
 * (an autoencoder's last layer, where XNNPACK runs at ~4 GFLOP/s) our SIMD kernel, then the activation
 * with wasm's own kernel; everything else (and dilation, NCHW, a bias of another size) the stock kernel.
 */
export function wasmFusedConv2D(stock: tf.KernelFunc | null): tf.KernelFunc {
  if (stock == null) throw new Error('wasm FusedConv2D kernel not registered');
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x;
    const filter = inputs.filter;
    const bias = inputs.bias;
    const dil = attrs?.dilations;
    const dilated = dil != null && !(dil === 1 || (isNumberArray(dil) && dil.every((d) => d === 1)));
    if (!wasmConvPaths.direct || !isWasmBackend(backend) || x == null || filter == null || dilated) return stock(args);
    if (x.shape.length !== 4 || filter.shape.length !== 4 || filter.shape[3] !== 1) return stock(args);
    if (x.dtype !== 'float32' || filter.dtype !== 'float32' || (bias != null && (bias.dtype !== 'float32' || size(bias.shape) !== 1))) {
      return stock(args);
    }
    const act = fusedActivationKernel(attrs, inputs.preluActivationWeights);
    if (act === undefined) return stock(args);
    const what = 'FusedConv2D (wasm)';
    const g = convGeometry(shape4(x), shape4(filter), attrs, what);
    const k = directConvKernels(backend, g);
    if (k == null) return stock(args);
    const out = backend.makeOutput([g.batch, g.outHeight, g.outWidth, 1], 'float32');
    k.convForwardCo1(
      ptr(backend, x), ptr(backend, filter), bias != null ? ptr(backend, bias) : 0, ptr(backend, out),
      g.batch, g.inHeight, g.inWidth, g.inChannels, g.outHeight, g.outWidth,
      g.filterHeight, g.filterWidth, g.strideHeight, g.strideWidth, g.padTop, g.padLeft,
    );
    directCalls.FusedConv2D++;
    return applyFusedActivation(backend, out, act);
  };
}

function size(shape: readonly number[]): number {
  return shape.reduce((p, q) => p * q, 1);
}

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

interface DisposingBackend {
  disposeData(dataId: object): boolean;
}

function isDisposingBackend(b: unknown): b is DisposingBackend {
  return hasMethods(b, ['disposeData']);
}

/**
 * The whole-number factors [sy, sx] of an upsampling whose gradient is a block sum (each input pixel
 * gets the sum of its sy×sx block of dy), or null when the sizes or alignCorners make it something else.
 */
function blockFactors(p: ResizeNearestParams): [number, number] | null {
  const sy = p.outHeight / p.inHeight;
  const sx = p.outWidth / p.inWidth;
  const whole = Number.isInteger(sy) && Number.isInteger(sx) && (!p.alignCorners || (sy === 1 && sx === 1));
  return whole ? [sy, sx] : null;
}

/**
 * ResizeNearestNeighborGrad for whole-number factors (upSampling2d: size = input × s, no
 * alignCorners) as Reshape + Sum kernels of the same backend:
 *   dx = sum over (a, c) of dy reshaped to [B, H, sy, W, sx, C].
 * Exact, whatever the backend's float arithmetic. The webgl and webgpu kernels instead recover each
 * source row as floor(H · (y / Ho)) in float32, which can land one row too low (e.g. H = 22, y = 26:
 * 22 · fl(26/44) = 12.9999995 → 12), sending that row's gradient to the wrong pixel.
 * Other factors fall back to the backend's own kernel.
 */
export function blockSumResizeNearestNeighborGrad(backendName: string, fallback: tf.KernelFunc | null): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const images = input(inputs, 'images');
    const dy = input(inputs, 'dy');
    const p = resizeParams(images, dy, attrs);
    const factors = blockFactors(p);
    if (factors == null) {
      if (fallback == null) throw new Error(`ResizeNearestNeighborGrad (${backendName}): unsupported sizes`);
      return fallback({ inputs, backend, attrs });
    }
    const [sy, sx] = factors;
    if (!isDisposingBackend(backend)) throw new Error(`ResizeNearestNeighborGrad (${backendName}): unexpected backend`);
    const reshapeK = tf.getKernel('Reshape', backendName);
    const sumK = tf.getKernel('Sum', backendName);
    if (reshapeK == null || sumK == null) throw new Error(`ResizeNearestNeighborGrad (${backendName}): no Reshape/Sum kernel`);
    const blocks = reshapeK.kernelFunc({
      inputs: { x: dy },
      backend,
      attrs: { shape: [p.batch, p.inHeight, sy, p.inWidth, sx, p.channels] },
    });
    if (Array.isArray(blocks)) throw new Error('Reshape returned several outputs');
    try {
      const dx = sumK.kernelFunc({ inputs: { x: blocks }, backend, attrs: { axis: [2, 4], keepDims: false } });
      if (Array.isArray(dx)) throw new Error('Sum returned several outputs');
      return dx;
    } finally {
      backend.disposeData(blocks.dataId);
    }
  };
}

/** The whole factor f with source(o) = ⌊o / f⌋ for every output index, exactly as nearestSource finds it; else null. */
function wholeFactor(inSize: number, outSize: number): number | null {
  if (inSize <= 0 || outSize % inSize !== 0) return null;
  const f = outSize / inSize;
  for (let o = 0; o < outSize; o++) if (nearestSource(o, inSize, outSize, false, false) !== Math.floor(o / f)) return null;
  return f;
}

/**
 * ResizeNearestNeighbor (upSampling2d's forward) on wasm: by whole factors (no corner alignment, no
 * half-pixel centres, the sources exactly as the cpu backend picks them) our SIMD copy kernel; the
 * stock C++ kernel computes a source per output element (0.56 ms a step on the default model).
 */
export function wasmResizeNearestNeighbor(stock: tf.KernelFunc | null): tf.KernelFunc {
  if (stock == null) throw new Error('wasm ResizeNearestNeighbor kernel not registered');
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs.images;
    const sizeAttr = attrs?.size;
    if (!wasmConvPaths.direct || !isWasmBackend(backend) || x == null || x.dtype !== 'float32' || x.shape.length !== 4) return stock(args);
    if (attrs?.alignCorners === true || attrs?.halfPixelCenters === true || !isNumberArray(sizeAttr) || sizeAttr.length !== 2) return stock(args);
    const [N, H, W, C] = shape4(x);
    const fy = wholeFactor(H, sizeAttr[0]);
    const fx = wholeFactor(W, sizeAttr[1]);
    if (fy == null || fx == null) return stock(args);
    const k = simdKernelsFor(backend);
    if (k == null) return stock(args);
    const out = backend.makeOutput([N, sizeAttr[0], sizeAttr[1], C], 'float32');
    k.upsampleNearest(ptr(backend, x), ptr(backend, out), N, H, W, C, fy, fx);
    directCalls.ResizeNearestNeighbor++;
    return out;
  };
}

const wasmResizeNearestNeighborGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const what = 'ResizeNearestNeighborGrad (wasm)';
  if (!isWasmBackend(backend)) throw new Error(`${what}: unexpected backend`);
  const images = input(inputs, 'images');
  const dy = input(inputs, 'dy');
  checkFloat32(what, dy);
  const p = resizeParams(images, dy, attrs);
  const factors = blockFactors(p);
  if (factors != null && factors[0] * factors[1] > 1) {
    const [sy, sx] = factors;
    // Whole-number factors: each input pixel's gradient is the sum of its sy×sx block of dy, i.e.
    // XNNPACK's average pooling (window = stride = the factors) times sy·sx: ~10× the JS scatter.
    const pooled = runWasmKernel('AvgPool', backend, { x: dy }, { filterSize: [sy, sx], strides: [sy, sx], pad: 'valid' });
    const factor = backend.makeOutput([], 'float32');
    try {
      f32(backend, factor)[0] = sy * sx;
      return runWasmKernel('Multiply', backend, { a: pooled, b: factor }, {});
    } finally {
      backend.disposeData(pooled.dataId);
      backend.disposeData(factor.dataId);
    }
  }
  const dx = backend.makeOutput([p.batch, p.inHeight, p.inWidth, p.channels], 'float32');
  resizeNearestNeighborGradNHWC(f32(backend, dy), p, f32(backend, dx));
  return dx;
};

// ---------------------------------------------------------------------------------------------
// MaxPoolGrad (wasm): the stock kernel is a scalar loop; this one is one pass over the windows.

export interface PoolGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  channels: number;
  outHeight: number;
  outWidth: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
}

/**
 * dx[argmax of each window, per channel] += dy[b, oy, ox, c]; `dx` is overwritten. The argmax is the
 * first maximum in (ky, kx) order, as the cpu backend picks it.
 */
export function maxPoolGradNHWC(x: ArrayLike<number>, dy: ArrayLike<number>, g: PoolGeometry, dx: Float32Array): void {
  const { batch: B, inHeight: H, inWidth: W, channels: C, outHeight: Ho, outWidth: Wo } = g;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padTop: pt, padLeft: pl } = g;
  dx.fill(0);
  // Windows that do not overlap (stride ≥ window, the usual 2×2 pooling with stride 2): each input pixel
  // is in at most one window, so a window writes its one gradient per channel with no accumulation.
  const disjoint = sh >= KH && sw >= KW;
  const rowLen = W * C;
  const best = new Float64Array(C);
  const at = new Int32Array(C);
  let d = 0;
  for (let b = 0; b < B; b++) {
    const xB = b * H * rowLen;
    for (let oy = 0; oy < Ho; oy++) {
      const y0 = Math.max(0, oy * sh - pt);
      const y1 = Math.min(H, oy * sh - pt + KH);
      for (let ox = 0; ox < Wo; ox++) {
        const x0 = Math.max(0, ox * sw - pl);
        const x1 = Math.min(W, ox * sw - pl + KW);
        if (disjoint) {
          d = disjointWindowGrad(x, dy, dx, xB + y0 * rowLen + x0 * C, y1 - y0, x1 - x0, rowLen, C, d);
          continue;
        }
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let y = y0; y < y1; y++) {
          for (let xx = x0; xx < x1; xx++) {
            const base = xB + y * rowLen + xx * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        for (let c = 0; c < C; c++, d++) if (at[c] >= 0) dx[at[c]] += dy[d];
      }
    }
  }
}

/**
 * One window of maxPoolGradNHWC when windows do not overlap: rows × cols pixels from x offset p0,
 * channel by channel (the 2×2 window unrolled); dx[first maximum] = dy[d + c]. Returns d + C.
 * The first maximum in (ky, kx) order, and NaN is never a maximum, as on the cpu backend.
 */
function disjointWindowGrad(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  dx: Float32Array,
  p0: number,
  rows: number,
  cols: number,
  rowLen: number,
  C: number,
  d: number,
): number {
  if (rows <= 0 || cols <= 0) return d + C;
  if (rows === 2 && cols === 2) {
    const p1 = p0 + C;
    const p2 = p0 + rowLen;
    const p3 = p2 + C;
    for (let c = 0; c < C; c++, d++) {
      let v = x[p0 + c];
      let at = v > Number.NEGATIVE_INFINITY ? p0 + c : -1;
      let best = at >= 0 ? v : Number.NEGATIVE_INFINITY;
      v = x[p1 + c];
      if (v > best) {
        best = v;
        at = p1 + c;
      }
      v = x[p2 + c];
      if (v > best) {
        best = v;
        at = p2 + c;
      }
      v = x[p3 + c];
      if (v > best) at = p3 + c;
      if (at >= 0) dx[at] = dy[d];
    }
    return d;
  }
  for (let c = 0; c < C; c++, d++) {
    let best = Number.NEGATIVE_INFINITY;
    let at = -1;
    for (let y = 0; y < rows; y++) {
      for (let p = p0 + y * rowLen + c, pEnd = p + cols * C; p < pEnd; p += C) {
        const v = x[p];
        if (v > best) {
          best = v;
          at = p;
        }
      }
    }
    if (at >= 0) dx[at] = dy[d];
  }
  return d;
}

function attrPair(v: unknown, what: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (isNumberArray(v) && v.length === 2) return [v[0], v[1]];
  throw new Error(`bad ${what} attribute: ${String(v)}`);
}

const wasmMaxPoolGrad: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const what = 'MaxPoolGrad (wasm)';
  if (!isWasmBackend(backend)) throw new Error(`${what}: unexpected backend`);
  const t0 = now();
  const inner0 = wasmInnerMs;
  const dy = input(inputs, 'dy');
  const x = input(inputs, 'input');
  checkFloat32(what, dy, x);
  const info = tf.backend_util.computePool2DInfo(
    shape4(x),
    attrPair(attrs?.filterSize, 'filterSize'),
    attrStrides(attrs?.strides),
    1,
    attrPad(attrs?.pad),
    attrRounding(attrs?.dimRoundingMode),
  );
  const want = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  if (dy.shape.length !== 4 || dy.shape.some((v, i) => v !== want[i])) {
    throw new Error(`${what}: dy shape [${dy.shape.join(',')}] should be [${want.join(',')}]`);
  }
  const dx = backend.makeOutput(x.shape, 'float32');
  const disjoint = info.strideHeight >= info.effectiveFilterHeight && info.strideWidth >= info.effectiveFilterWidth;
  const simd = wasmConvPaths.direct && disjoint ? simdKernelsFor(backend) : null;
  if (simd != null) {
    // windows that do not overlap (the usual 2×2 pool, stride 2): our SIMD kernel, 4 channels at a time
    simd.maxPoolGradDisjoint(
      ptr(backend, x), ptr(backend, dy), ptr(backend, dx),
      info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
      info.effectiveFilterHeight, info.effectiveFilterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
    );
    directCalls.MaxPoolGrad++;
    countCall(kernelStats.MaxPoolGrad, t0, inner0);
    return dx;
  }
  maxPoolGradNHWC(
    f32(backend, x),
    f32(backend, dy),
    {
      batch: info.batchSize,
      inHeight: info.inHeight,
      inWidth: info.inWidth,
      channels: info.inChannels,
      outHeight: info.outHeight,
      outWidth: info.outWidth,
      filterHeight: info.effectiveFilterHeight,
      filterWidth: info.effectiveFilterWidth,
      strideHeight: info.strideHeight,
      strideWidth: info.strideWidth,
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
    },
    f32(backend, dx),
  );
  countCall(kernelStats.MaxPoolGrad, t0, inner0);
  return dx;
};

// ---------------------------------------------------------------------------------------------
// BatchMatMul on wasm with a transposed operand (the dense layers' gradients: xᵀ·dy and dy·Wᵀ): the
// stock kernel runs a scalar loop there (19 ms of a 42 ms dense-AE step), but XNNPACK without
// transposes. So transpose the operand with wasm's Transpose and call the stock kernel without.

/** Which matrix products run on our SIMD GEMMs: 'auto' (see simdMatMul), 'all' or 'off' (tests, benchmarks). */
export const wasmMatMulPaths: { simd: 'auto' | 'all' | 'off' } = { simd: 'auto' };

/**
 * a·b, aᵀ·b or a·bᵀ (float32, same batch dims) on our SIMD GEMMs, or null to leave it to XNNPACK.
 * XNNPACK packs B into a new operator on every call (every weight and gradient is a new tensor each
 * step) and tfjs transposes a transposed operand first; ours reads the operands where they are.
 */
function simdMatMul(backend: WasmBackendLike, a: TensorInfo, b: TensorInfo, ta: boolean, tb: boolean): TensorInfo | null {
  if (wasmMatMulPaths.simd === 'off' || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const r = a.shape.length;
  const M = ta ? a.shape[r - 1] : a.shape[r - 2];
  const K = ta ? a.shape[r - 2] : a.shape[r - 1];
  const N = tb ? b.shape[r - 2] : b.shape[r - 1];
  if ((tb ? b.shape[r - 1] : b.shape[r - 2]) !== K) return null;
  // Measured at batch 32 (ms, ours vs XNNPACK with fresh operands, as in training): 32×784·784×256 0.44 vs
  // 0.90-1.0; 32×784·(256×784)ᵀ 0.34 vs 1.6 (transpose + GEMM); (32×784)ᵀ·32×256 0.32 vs 0.42. Ours does
  // not block for the cache, so a B of over 4 MiB stays with XNNPACK.
  if (wasmMatMulPaths.simd === 'auto' && K * N > 1 << 20) return null;
  const k = simdKernelsFor(backend);
  if (k == null) return null;
  const batch = a.shape.slice(0, -2);
  const out = backend.makeOutput([...batch, M, N], 'float32');
  const count = batch.reduce((p, q) => p * q, 1);
  const pa = ptr(backend, a);
  const pb = ptr(backend, b);
  const pc = ptr(backend, out);
  for (let i = 0; i < count; i++) {
    const oa = pa + 4 * i * M * K;
    const ob = pb + 4 * i * K * N;
    const oc = pc + 4 * i * M * N;
    if (tb) k.gemmNT(oa, ob, oc, M, K, N);
    else k.gemmNN(oa, ob, oc, M, K, N, ta ? 1 : K, ta ? M : 1);
  }
  directCalls.BatchMatMul++;
  return out;
}

/**
 * _FusedMatMul (a dense layer's forward: a·b + bias, activation) on wasm: our GEMM, then the bias with
 * wasm's Add and the activation with wasm's own kernel; what our GEMM does not take, the stock kernel.
 */
export function wasmFusedMatMul(stock: tf.KernelFunc | null): tf.KernelFunc {
  if (stock == null) throw new Error('wasm _FusedMatMul kernel not registered');
  return (args) => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a;
    const b = inputs.b;
    const bias = inputs.bias;
    const ta = attrs?.transposeA === true;
    const tb = attrs?.transposeB === true;
    if (!isWasmBackend(backend) || a == null || b == null || (ta && tb) || a.shape.length < 2) return stock(args);
    if (a.shape.length !== b.shape.length || !a.shape.slice(0, -2).every((d, i) => d === b.shape[i])) return stock(args);
    if (bias != null && bias.dtype !== 'float32') return stock(args);
    const act = fusedActivationKernel(attrs, inputs.preluActivationWeights);
    if (act === undefined) return stock(args);
    const prod = simdMatMul(backend, a, b, ta, tb);
    if (prod == null) return stock(args);
    if (bias == null) return applyFusedActivation(backend, prod, act);
    let withBias: TensorInfo;
    try {
      withBias = runWasmKernel('Add', backend, { a: prod, b: bias }, {});
    } finally {
      backend.disposeData(prod.dataId);
    }
    return applyFusedActivation(backend, withBias, act);
  };
}

export function wasmBatchMatMulNoTranspose(stock: tf.KernelFunc | null): tf.KernelFunc {
  if (stock == null) throw new Error('wasm BatchMatMul kernel not registered');
  return (args) => {
    const { inputs, backend, attrs } = args;
    const transposeA = attrs?.transposeA === true;
    const transposeB = attrs?.transposeB === true;
    const a = input(inputs, 'a');
    const b = input(inputs, 'b');
    const sameBatch = a.shape.length === b.shape.length && a.shape.slice(0, -2).every((d, i) => d === b.shape[i]);
    if (isWasmBackend(backend) && sameBatch && a.shape.length >= 2 && !(transposeA && transposeB)) {
      const out = simdMatMul(backend, a, b, transposeA, transposeB);
      if (out != null) return out;
    }
    if ((!transposeA && !transposeB) || !isWasmBackend(backend) || !sameBatch || a.shape.length < 2) return stock(args);
    const swapLast = (rank: number): number[] => [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
    const owned: TensorInfo[] = [];
    try {
      const a2 = transposeA ? wasmTranspose(backend, a, swapLast(a.shape.length)) : a;
      if (transposeA) owned.push(a2);
      const b2 = transposeB ? wasmTranspose(backend, b, swapLast(b.shape.length)) : b;
      if (transposeB) owned.push(b2);
      return stock({ inputs: { a: a2, b: b2 }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of owned) backend.disposeData(t.dataId);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Per-channel kernels on wasm: sums and means over every axis but the last (bias gradients,
// batch-norm statistics and gradients) and batch normalization itself.
//
// wasm's Sum and Mean first Transpose the reduced axes innermost (a full copy with a scattered
// write), and its FusedBatchNorm works out each element's channel with a division. On a
// 32×28×28×64 batch (Node): Sum 3.5-6.5 ms, Mean 3.5-6.5 ms, FusedBatchNorm 6.9-7.8 ms. Here the
// mean is XNNPACK's average pooling with one window over all the rows (the tensor seen as a
// [1, rows, 1, C] image: 0.2-0.35 ms; the sum is that times the row count), and batch norm is
// x·k + b with k and b per channel, i.e. XNNPACK's 1×1 depthwise convolution with bias (0.4-0.6 ms).
// Other axes, dtypes and parameter shapes go to the stock kernels.

/** True if `axis` names exactly the axes 0 … rank−2 of `shape` (rank ≥ 2, nothing empty). */
function reducesAllButLast(shape: readonly number[], axis: unknown): boolean {
  if (shape.length < 2 || shape.some((d) => d === 0)) return false;
  if (typeof axis !== 'number' && !isNumberArray(axis)) return false;
  const axes = tf.util.parseAxisParam(axis, [...shape]).sort((a, b) => a - b);
  return axes.length === shape.length - 1 && axes.every((a, i) => a === i);
}

/** `x` seen as one [1, rows, 1, C] image (same storage): what XNNPACK's pooling and depthwise kernels take per channel. */
function asChannelRows(x: TensorInfo): { image: TensorInfo; rows: number; C: number } {
  const C = x.shape[x.shape.length - 1] ?? 0;
  const rows = C > 0 ? tf.util.sizeFromShape(x.shape) / C : 0;
  return { image: { dataId: x.dataId, shape: [1, rows, 1, C], dtype: x.dtype }, rows, C };
}

function wasmChannelReduce(kind: 'Sum' | 'Mean', stock: tf.KernelFunc | null): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = input(inputs, 'x');
    const { image, rows, C } = asChannelRows(x);
    if (!isWasmBackend(backend) || x.dtype !== 'float32' || rows < 2 || !reducesAllButLast(x.shape, attrs?.axis)) {
      if (stock == null) throw new Error(`${kind} (wasm): no stock kernel for this case`);
      return stock(args);
    }
    const t0 = now();
    const inner0 = wasmInnerMs;
    // The rows averaged by one pooling window over all of them.
    const pooled = runWasmKernel('AvgPool', backend, { x: image }, { filterSize: [rows, 1], strides: [1, 1], pad: 'valid' });
    const outShape = attrs?.keepDims === true ? [...x.shape.slice(0, -1).map(() => 1), C] : [C];
    if (kind === 'Mean') {
      countCall(kernelStats[kind], t0, inner0);
      return { dataId: pooled.dataId, shape: outShape, dtype: 'float32' };
    }
    try {
      const out = backend.makeOutput(outShape, 'float32');
      const pv = f32(backend, pooled);
      const ov = f32(backend, out);
      for (let c = 0; c < C; c++) ov[c] = pv[c] * rows;
      countCall(kernelStats[kind], t0, inner0);
      return out;
    } finally {
      backend.disposeData(pooled.dataId);
    }
  };
}

/** A per-channel batch-norm parameter as C values (it may hold C values, or 1 for all), or null if neither. */
function channelParam(backend: WasmBackendLike, t: TensorInfo | undefined, C: number, fill: number): Float64Array | null {
  if (t == null) return new Float64Array(C).fill(fill);
  const v = f32(backend, t);
  if (v.length === C) return Float64Array.from(v);
  if (v.length === 1) return new Float64Array(C).fill(v[0]);
  return null;
}

function wasmFusedBatchNorm(stock: tf.KernelFunc | null): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = input(inputs, 'x');
    const { image, C } = asChannelRows(x);
    const fallback = (): TensorInfo | TensorInfo[] => {
      if (stock == null) throw new Error('FusedBatchNorm (wasm): no stock kernel for this case');
      return stock(args);
    };
    const all = [x, inputs.mean, inputs.variance, inputs.offset, inputs.scale];
    if (!isWasmBackend(backend) || C === 0 || all.some((t) => t != null && t.dtype !== 'float32')) return fallback();
    const t0 = now();
    const inner0 = wasmInnerMs;
    const mean = channelParam(backend, input(inputs, 'mean'), C, 0);
    const variance = channelParam(backend, input(inputs, 'variance'), C, 1);
    const offset = channelParam(backend, inputs.offset, C, 0);
    const scale = channelParam(backend, inputs.scale, C, 1);
    if (mean == null || variance == null || offset == null || scale == null) return fallback();
    const eps = Number(attrs?.varianceEpsilon ?? 1e-3);
    // y = (x − mean)·scale/√(var + ε) + offset = x·k + b: a 1×1 depthwise convolution with bias
    // over x seen as rows of C channels.
    const k = backend.makeOutput([1, 1, C, 1], 'float32');
    const b = backend.makeOutput([C], 'float32');
    try {
      const kv = f32(backend, k);
      const bv = f32(backend, b);
      for (let c = 0; c < C; c++) {
        const kc = scale[c] / Math.sqrt(variance[c] + eps);
        kv[c] = kc;
        bv[c] = offset[c] - mean[c] * kc;
      }
      const out = runWasmKernel('FusedDepthwiseConv2D', backend, { x: image, filter: k, bias: b }, {
        strides: [1, 1],
        pad: 'valid',
        dilations: [1, 1],
        dataFormat: 'NHWC',
        activation: 'linear',
      });
      countCall(kernelStats.FusedBatchNorm, t0, inner0);
      return { dataId: out.dataId, shape: [...x.shape], dtype: 'float32' };
    } finally {
      backend.disposeData(k.dataId);
      backend.disposeData(b.dataId);
    }
  };
}

/**
 * LeakyRelu on wasm as XNNPACK's PReLU with the same slope for every channel: the stock kernel is a
 * scalar C++ loop whose branch the data's mixed signs keep mispredicting (9.7 ms on 32×28×28×64 normal
 * values, 1.2 ms on positive ones), PReLU is vectorized (0.3 ms).
 */
function wasmLeakyRelu(stock: tf.KernelFunc | null): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = input(inputs, 'x');
    const C = x.shape[x.shape.length - 1] ?? 0;
    if (!isWasmBackend(backend) || x.dtype !== 'float32' || C === 0 || tf.util.sizeFromShape(x.shape) === 0) {
      if (stock == null) throw new Error('LeakyRelu (wasm): no stock kernel for this case');
      return stock(args);
    }
    const alpha = backend.makeOutput([C], 'float32');
    try {
      f32(backend, alpha).fill(Number(attrs?.alpha ?? 0.2));
      return runWasmKernel('Prelu', backend, { x, alpha }, {});
    } finally {
      backend.disposeData(alpha.dataId);
    }
  };
}

/**
 * Slice on wasm, contiguous case: the stock kernel first copies the whole input out of the heap
 * (`readSync`, ~3 ns a byte) for every slice; a view of the heap needs no copy. The flat optimizer's
 * six slices of the dense AE's 17,712 small weights took 2 ms a step that way. Other cases: stock.
 */
function wasmSlice(stock: tf.KernelFunc | null): tf.KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const x = input(inputs, 'x');
    const numbers = (v: unknown): v is number | number[] => typeof v === 'number' || isNumberArray(v);
    if (isWasmBackend(backend) && x.dtype !== 'string' && numbers(attrs?.begin) && (attrs?.size === undefined || numbers(attrs.size))) {
      const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size);
      if (tf.slice_util.isSliceContinous([...x.shape], begin, size)) {
        const offset = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides([...x.shape]));
        const out = backend.makeOutput(size, x.dtype);
        const n = tf.util.sizeFromShape(size);
        const xv = backend.typedArrayFromHeap(x);
        const ov = backend.typedArrayFromHeap(out);
        if (!(xv instanceof Float32Array || xv instanceof Int32Array || xv instanceof Uint8Array) || xv.constructor !== ov.constructor) {
          backend.disposeData(out.dataId);
        } else {
          (ov as typeof xv).set(xv.subarray(offset, offset + n));
          return out;
        }
      }
    }
    if (stock == null) throw new Error('Slice (wasm): no stock kernel for this case');
    return stock(args);
  };
}

/** A backend that counts references to its data (wasm: disposeData frees at refCount 0). */
interface RefCountingBackend {
  incRef(dataId: object): void;
}

function isRefCountingBackend(b: unknown): b is RefCountingBackend {
  return hasMethods(b, ['incRef', 'disposeData']);
}

/**
 * Identity on wasm without a copy. The engine clones every tensor it saves for the backward pass
 * through Identity (tf.clone), and the stock wasm kernel mallocs a new buffer and copies the values
 * (43-112 copies a training step). No kernel writes into its inputs and Variable.assign swaps the
 * dataId, so two tensors can share one buffer: like the cpu backend's Identity and wasm's own
 * Reshape, we add a reference to the input's data and return its dataId. The backend's
 * disposeData frees the buffer only when its refCount reaches 0, i.e. when both tensors are gone.
 * Strings too (their bytes sit in the same refcounted dataIdMap entry, with no heap buffer), as
 * on cpu. complex64, which the wasm backend cannot make (no Complex kernel), goes to the stock kernel.
 */
function wasmIdentity(stock: tf.KernelFunc | null): tf.KernelFunc {
  return (args) => {
    const { inputs, backend } = args;
    const x = input(inputs, 'x');
    if (isRefCountingBackend(backend) && x.dtype !== 'complex64') {
      backend.incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    }
    if (stock == null) throw new Error(`Identity (wasm): no stock kernel for dtype ${x.dtype}`);
    return stock(args);
  };
}

// ---------------------------------------------------------------------------------------------
// Gradients (all backends): same mathematics as tfjs-core's, fewer and cheaper kernels.
//
// LeakyRelu: tfjs-core computes where(x > 0, dy, dy·α) — Greater, Multiply and Select, the last two
// slow scalar loops on wasm (~0.6 ms each per 28×28×16 batch). Here dy · step(x, α): Step gives 1 for
// x > 0 and α otherwise, exactly the same factor.
//
// FusedBatchNorm: tfjs-core tiles 1/√(var+ε) to the full [B, H, W, C] shape (wasm's Tile: 208 of a
// 680 ms step of the 64-kernel model) and runs eight full-size products and four full-size sums.
// Broadcasting needs no tile, and with S1 = Σ dy and S2 = Σ dy·(x − mean) over the batch and pixels:
//   dx = dy·γ/√(var+ε),  dmean = −γ/√(var+ε)·S1,  dvar = −½·γ·(var+ε)^(−3/2)·S2,
//   dγ = S2/√(var+ε),    dβ = S1
// — three full-size element-wise kernels and two full-size sums.

function oneTensor(dy: tf.Tensor | tf.Tensor[], what: string): tf.Tensor {
  if (Array.isArray(dy)) throw new Error(`${what}: expected one output gradient`);
  return dy;
}

const leakyReluGrad: tf.GradConfig = {
  kernelName: 'LeakyRelu',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const alpha = Number(attrs.alpha);
    return { x: () => tf.mul(oneTensor(dy, 'LeakyRelu gradient'), tf.step(x, alpha)) };
  },
};

function batchNormGrad(stock: tf.GradConfig | undefined): tf.GradConfig {
  return {
    kernelName: 'FusedBatchNorm',
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dyIn, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      if (mean.rank !== 1 || x.rank < 2) {
        if (stock?.gradFunc == null) throw new Error('FusedBatchNorm gradient: no stock gradient for this shape');
        return stock.gradFunc(dyIn, saved, attrs);
      }
      const dy = oneTensor(dyIn, 'FusedBatchNorm gradient');
      const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
      const gamma = scale ?? tf.scalar(1);
      const rstd = tf.rsqrt(tf.add(variance, tf.scalar(Number(attrs.varianceEpsilon))));
      const gammaRstd = tf.mul(gamma, rstd);
      // Computed here, not in the closures: the engine runs each closure in its own tidy, so a sum
      // kept from one closure for the next would be freed in between. Training needs them all anyway.
      const sumDy = tf.sum(dy, axes);
      const sumDyXc = tf.sum(tf.mul(dy, tf.sub(x, mean)), axes);
      return {
        x: () => tf.mul(dy, gammaRstd),
        mean: () => tf.reshape(tf.mul(tf.neg(gammaRstd), sumDy), mean.shape),
        variance: () => tf.reshape(tf.mul(tf.mul(tf.mul(gammaRstd, tf.square(rstd)), tf.scalar(-0.5)), sumDyXc), mean.shape),
        scale: () => tf.reshape(tf.mul(rstd, sumDyXc), mean.shape),
        offset: () => tf.reshape(sumDy, mean.shape),
      };
    },
  };
}

/** The stock gradients we replaced, to restore them (tests compare ours with them). */
const stockGradients = new Map<string, tf.GradConfig | undefined>();

/** Registers our LeakyRelu and FusedBatchNorm gradients (calling it again is harmless). */
export function registerTrainingGradients(): void {
  if (stockGradients.size > 0) return;
  for (const [name, make] of [
    ['LeakyRelu', () => leakyReluGrad],
    ['FusedBatchNorm', (stock: tf.GradConfig | undefined) => batchNormGrad(stock)],
  ] as const) {
    const stock = tf.getGradient(name) ?? undefined;
    stockGradients.set(name, stock);
    if (stock != null) tf.unregisterGradient(name);
    tf.registerGradient(make(stock));
  }
}

/** Puts tfjs-core's own gradients back (for tests that compare). */
export function restoreStockGradients(): void {
  for (const [name, stock] of stockGradients) {
    tf.unregisterGradient(name);
    if (stock != null) tf.registerGradient(stock);
  }
  stockGradients.clear();
}

// ---------------------------------------------------------------------------------------------
// Registration

interface Replacement {
  kernelName: string;
  backendName: string;
  /** Builds our kernel; gets the backend's own kernel, if any, to fall back on. */
  make: (stock: tf.KernelFunc | null) => tf.KernelFunc;
  /** Replace a stock kernel (true) or only fill a gap (false). */
  replace: boolean;
  why: string;
}

const REPLACEMENTS: readonly Replacement[] = [
  {
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    make: (stock) => wasmBatchMatMulNoTranspose(stock),
    replace: true,
    why: 'stock kernel runs a scalar loop when an operand is transposed (dense gradients), and XNNPACK packs B anew every call; our SIMD GEMMs read the operands in place, 1.3-4.7× faster at the dense layers’ sizes',
  },
  {
    kernelName: '_FusedMatMul',
    backendName: 'wasm',
    make: (stock) => wasmFusedMatMul(stock),
    replace: true,
    why: 'XNNPACK packs B into a new operator every call (weights change every step); our SIMD GEMM reads it in place, ~2× faster at the dense layers’ sizes',
  },
  {
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    make: () => wasmConv2DBackpropFilter,
    replace: false,
    why: 'missing in tfjs-backend-wasm 4.22 (conv layers cannot train)',
  },
  {
    kernelName: 'FusedConv2D',
    backendName: 'wasm',
    make: (stock) => wasmFusedConv2D(stock),
    replace: true,
    why: 'XNNPACK reaches ~4 GFLOP/s with one output channel (the last layer); our SIMD kernel is ~3× faster there',
  },
  {
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    make: () => wasmConv2DBackpropInput,
    replace: true,
    why: 'stock kernel is a scalar C++ loop, 2-10× slower than XNNPACK-based formulations',
  },
  {
    kernelName: 'MaxPoolGrad',
    backendName: 'wasm',
    make: () => wasmMaxPoolGrad,
    replace: true,
    why: 'stock kernel is a slow scalar loop',
  },
  {
    kernelName: 'ResizeNearestNeighbor',
    backendName: 'wasm',
    make: (stock) => wasmResizeNearestNeighbor(stock),
    replace: true,
    why: 'stock kernel computes a source per output element; by whole factors our SIMD kernel copies each pixel and row block',
  },
  {
    kernelName: 'ResizeNearestNeighborGrad',
    backendName: 'wasm',
    make: () => wasmResizeNearestNeighborGrad,
    replace: true,
    why: 'stock kernel searches a window per input pixel; the direct scatter is several times faster',
  },
  {
    kernelName: 'Sum',
    backendName: 'wasm',
    make: (stock) => wasmChannelReduce('Sum', stock),
    replace: true,
    why: 'stock kernel transposes the whole tensor first; over all axes but the last (bias and batch-norm gradients) XNNPACK average pooling is ~15× faster',
  },
  {
    kernelName: 'Mean',
    backendName: 'wasm',
    make: (stock) => wasmChannelReduce('Mean', stock),
    replace: true,
    why: 'stock kernel transposes the whole tensor first; over all axes but the last (batch-norm statistics) XNNPACK average pooling is ~15× faster',
  },
  {
    kernelName: 'FusedBatchNorm',
    backendName: 'wasm',
    make: (stock) => wasmFusedBatchNorm(stock),
    replace: true,
    why: 'stock kernel divides per element to find its channel; x·k + b as an XNNPACK 1×1 depthwise convolution with bias is ~15× faster',
  },
  {
    kernelName: 'LeakyRelu',
    backendName: 'wasm',
    make: (stock) => wasmLeakyRelu(stock),
    replace: true,
    why: 'stock kernel is a branchy scalar loop (9.7 ms on a 32×28×28×64 batch of mixed signs); XNNPACK PReLU with one slope is ~30× faster',
  },
  {
    kernelName: 'Slice',
    backendName: 'wasm',
    make: (stock) => wasmSlice(stock),
    replace: true,
    why: 'stock kernel copies the whole input out of the heap for every slice; a contiguous slice needs one copy of its own values',
  },
  {
    kernelName: 'Identity',
    backendName: 'wasm',
    make: (stock) => wasmIdentity(stock),
    replace: true,
    why: 'stock kernel mallocs and copies the whole tensor; the engine clones every tensor saved for the backward pass through it, so sharing the buffer (refcounted, as Reshape does) saves 43-112 copies a step',
  },
  {
    kernelName: 'ResizeNearestNeighborGrad',
    backendName: 'cpu',
    make: () => cpuResizeNearestNeighborGrad,
    replace: true,
    why: 'stock kernel reads dy at the images’ batch stride: wrong for every image after the first',
  },
  {
    kernelName: 'ResizeNearestNeighborGrad',
    backendName: 'webgl',
    make: (stock) => blockSumResizeNearestNeighborGrad('webgl', stock),
    replace: true,
    why: 'stock kernel can misroute rows for some sizes (float32 rounding; GPU-dependent)',
  },
  {
    kernelName: 'ResizeNearestNeighborGrad',
    backendName: 'webgpu',
    make: (stock) => blockSumResizeNearestNeighborGrad('webgpu', stock),
    replace: true,
    why: 'stock kernel misroutes rows for some sizes (float32 rounding), e.g. 22 rows ×2',
  },
];

/** Kernel functions we registered, so a second call recognises them. */
const ours = new WeakSet<tf.KernelFunc>();

/** True if the kernel currently registered for (name, backend) is one of ours. */
export function isOurKernel(kernelName: string, backendName: string): boolean {
  const k = tf.getKernel(kernelName, backendName);
  return k != null && ours.has(k.kernelFunc);
}

/** What each replacement fixes, as 'backend:Kernel' → reason (for logs and the UI). */
export const KERNEL_FIXES: ReadonlyMap<string, string> = new Map(
  REPLACEMENTS.map((r) => [`${r.backendName}:${r.kernelName}`, r.why]),
);

/**
 * Registers every missing or wrong training kernel for the backends whose factories are registered
 * (call it after importing the backend packages; calling it again is harmless). Returns what it
 * registered this time, as 'backend:Kernel'.
 */
export function registerTrainingKernels(): string[] {
  registerTrainingGradients();
  const backends = new Set(registeredBackends());
  const done: string[] = [];
  for (const r of REPLACEMENTS) {
    if (!backends.has(r.backendName)) continue;
    const existing = tf.getKernel(r.kernelName, r.backendName);
    if (existing != null && (ours.has(existing.kernelFunc) || !r.replace)) continue;
    const kernelFunc = r.make(existing?.kernelFunc ?? null);
    ours.add(kernelFunc);
    if (existing != null) tf.unregisterKernel(r.kernelName, r.backendName);
    // Keep the stock kernel's setup (wasm kernels bind their C++ entry point there): ours may call it.
    tf.registerKernel({ kernelName: r.kernelName, backendName: r.backendName, kernelFunc, setupFunc: existing?.setupFunc });
    done.push(`${r.backendName}:${r.kernelName}`);
  }
  return done;
}

/** What trains on the current (wasm) backend besides tfjs-wasm's own kernels, for the page. */
export function wasmKernelReport(threads?: { threads: number; note: string }): KernelPathReport {
  const simd = simdKernelsFor(tf.backend()) != null;
  return {
    fused: false,
    wasmSimd: simd,
    wasmThreads: threads?.threads,
    wasmThreadsNote: threads?.note,
    detail: simd
      ? 'our WebAssembly SIMD kernels for one-channel convolutions, few-channel filter gradients, pooling and upsampling, matrix products, binary cross-entropy and Adam; XNNPACK for the rest'
      : `tfjs-wasm and XNNPACK kernels alone (ours did not load: ${simdCompileError() ?? 'no WebAssembly SIMD'})`,
  };
}
