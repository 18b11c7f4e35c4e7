/**
 * The fused WebGPU training path's 2-D convolution kernels (#19): forward (with a bias + activation
 * epilogue, and optionally the next backward step's activation derivative), the input gradient (also
 * a transposed convolution's forward pass), and the filter gradient as a split reduction over the
 * batch's positions. Pure TypeScript (WGSL as text), following wgsl.ts' conventions: NHWC tensors,
 * HWIO kernels, shapes baked into the shader, bindings in @group(0) in the listed order.
 */
import { actFn, dactFn, declareBindings, flatIndex, groups1d, type BindingSpec, type FusedActivation, type KernelSource } from './wgsl';
import type { OpKernels } from './reduce';

/** Multi-kernel ops' shape (reduce.ts'), re-exported for callers of the filter gradient. */
export type { OpKernels };

/** A forward convolution's geometry: input [N,H,W,C], kernel HWIO [KH,KW,C,F], output [N,OH,OW,F]; padTop/padLeft as tfjs computes them. */
export interface ConvGeometry {
  N: number;
  H: number;
  W: number;
  C: number;
  KH: number;
  KW: number;
  F: number;
  stride: number;
  padTop: number;
  padLeft: number;
  OH: number;
  OW: number;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`conv: ${name} must be a positive integer, got ${v}`);
}

/**
 * tfjs' geometry rules for a square kernel K and one stride on both axes: 'same' → OH = ceil(H/s),
 * padTotal = max((OH−1)·s + K − H, 0), padTop = floor(padTotal/2) (the extra row, if any, at the
 * bottom); 'valid' → OH = ceil((H − K + 1)/s), no padding.
 */
export function convGeometry(N: number, H: number, W: number, C: number, K: number, F: number, stride: number, padding: 'same' | 'valid'): ConvGeometry {
  for (const [name, v] of Object.entries({ N, H, W, C, K, F, stride })) positiveInt(name, v);
  let OH: number, OW: number, padTop = 0, padLeft = 0;
  if (padding === 'same') {
    OH = Math.ceil(H / stride);
    OW = Math.ceil(W / stride);
    padTop = Math.floor(Math.max((OH - 1) * stride + K - H, 0) / 2);
    padLeft = Math.floor(Math.max((OW - 1) * stride + K - W, 0) / 2);
  } else {
    if (K > H || K > W) throw new Error(`conv: a ${K}×${K} 'valid' kernel does not fit a ${H}×${W} input`);
    OH = Math.ceil((H - K + 1) / stride);
    OW = Math.ceil((W - K + 1) / stride);
  }
  return { N, H, W, C, KH: K, KW: K, F, stride, padTop, padLeft, OH, OW };
}

function checkGeometry(g: ConvGeometry): void {
  for (const k of ['N', 'H', 'W', 'C', 'KH', 'KW', 'F', 'stride', 'OH', 'OW'] as const) positiveInt(k, g[k]);
  if (!Number.isInteger(g.padTop) || !Number.isInteger(g.padLeft) || g.padTop < 0 || g.padLeft < 0) throw new Error('conv: negative or fractional padding');
  if (g.padTop >= g.KH || g.padLeft >= g.KW) throw new Error('conv: padding must be smaller than the kernel');
}

/**
 * The nearest-neighbour upsampling factor folded into a kernel (default 1), checked against the
 * geometry: the geometry is in upsampled terms, so H and W must be multiples of it.
 */
function upsampleFactor(g: ConvGeometry, upsample: number | undefined): number {
  const u = upsample ?? 1;
  positiveInt('upsample', u);
  if (g.H % u !== 0 || g.W % u !== 0) throw new Error(`conv: upsample ${u} must divide the upsampled input size ${g.H}×${g.W}`);
  return u;
}

/**
 * WGSL u32 index of x[n, ih, iw, 0] for in-range upsampled coordinates ih, iw (i32 expressions),
 * x holding the input at 1/U resolution: x_up[n, ih, iw, c] = x[n, ih/U, iw/U, c].
 */
function xPixelIndex(g: ConvGeometry, U: number, n: string, ih: string, iw: string): string {
  if (U === 1) return `((${n} * ${g.H}u + u32(${ih})) * ${g.W}u + u32(${iw})) * ${g.C}u`;
  return `((${n} * ${g.H / U}u + u32(${ih}) / ${U}u) * ${g.W / U}u + u32(${iw}) / ${U}u) * ${g.C}u`;
}

/** Output channels (or input channels, for the input gradient) one thread computes. */
const CHANNELS_PER_THREAD = 4;
const WG = 64;

export interface ConvEpilogue {
  bias?: boolean;
  act?: FusedActivation;
  alpha?: number;
  /** Multiply by the activation derivative dact(aux), aux being the stored output of the layer below (same shape as the result). */
  dact?: { act: FusedActivation; alpha?: number };
  label?: string;
  /**
   * Fold a preceding nearest-neighbour upsampling by this integer factor U (default 1) into the kernel:
   * the geometry stays in upsampled terms (H, W multiples of U) but the low-resolution tensor
   * [N, H/U, W/U, C] is bound instead of the upsampled one (forward: x; input gradient: dx, and aux).
   */
  upsample?: number;
}

function epilogueBindings(o: ConvEpilogue): BindingSpec[] {
  const b: BindingSpec[] = [];
  if (o.bias) b.push({ name: 'bias', access: 'read' });
  if (o.dact) b.push({ name: 'aux', access: 'read' });
  return b;
}

/**
 * The shared shape of the forward and input-gradient kernels: one thread per output pixel and group
 * of up to CHANNELS_PER_THREAD channels (of `channels`), with `body` accumulating acc0..acc{cb−1} for
 * channels ch0..ch{cb−1} (clamped to the last channel; lanes past it are computed but not written).
 * `decl` declares the pixel's coordinates from `pix`.
 */
function perPixelKernel(
  label: string,
  pixels: number,
  channels: number,
  ins: BindingSpec[],
  out: string,
  o: ConvEpilogue,
  decl: string,
  body: string,
): KernelSource {
  const cb = Math.min(CHANNELS_PER_THREAD, channels);
  const groups = Math.ceil(channels / cb);
  const bindings = [...ins, ...epilogueBindings(o), { name: out, access: 'read_write' as const }];
  const total = pixels * groups;
  const lanes = Array.from({ length: cb }, (_, j) => j);
  const ragged = channels % cb !== 0;
  const act = o.act ?? 'linear';
  const epilogue = lanes
    .map((j) => {
      const z = o.bias ? `acc${j} + bias[c0 + ${j}u]` : `acc${j}`;
      const v = o.dact ? `act(${z}) * dact(aux[ob + ${j}u])` : `act(${z})`;
      const store = `${out}[ob + ${j}u] = ${v};`;
      return ragged && j > 0 ? `  if (c0 + ${j}u < ${channels}u) { ${store} }` : `  ${store}`;
    })
    .join('\n');
  const code = `${declareBindings(bindings)}
${actFn('act', act, o.alpha)}
${o.dact ? dactFn('dact', o.dact.act, o.dact.alpha) : ''}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = ${flatIndex(WG)};
  if (t >= ${total}u) { return; }
  let cg = t % ${groups}u;
  let pix = t / ${groups}u;
  let c0 = cg * ${cb}u;
${lanes.map((j) => `  let ch${j} = ${ragged && j > 0 ? `min(c0 + ${j}u, ${channels - 1}u)` : `c0 + ${j}u`};`).join('\n')}
${decl}
${lanes.map((j) => `  var acc${j} = 0.0;`).join('\n')}
${body}
  let ob = pix * ${channels}u + c0;
${epilogue}
}
`;
  return { label, code, bindings, workgroups: groups1d(total, WG) };
}

/**
 * y = act(conv(x, w) + bias) [⊙ dact(aux)]. Bindings: x (read, [N,H,W,C]; [N,H/U,W/U,C] with
 * `upsample` U, read as x_up[n,ih,iw,c] = x[n,⌊ih/U⌋,⌊iw/U⌋,c]), w (read, [KH,KW,C,F]),
 * [bias (read, [F])], [aux (read, [N,OH,OW,F]), when dact], y (read_write, [N,OH,OW,F]).
 * One thread per output pixel and 4 output channels (each input value loaded once for the 4).
 */
export function conv2dForwardKernel(g: ConvGeometry, o: ConvEpilogue = {}): KernelSource {
  checkGeometry(g);
  const U = upsampleFactor(g, o.upsample);
  const { N, H, W, C, KH, KW, F, stride: S, padTop, padLeft, OH, OW } = g;
  const cb = Math.min(CHANNELS_PER_THREAD, F);
  const lanes = Array.from({ length: cb }, (_, j) => j);
  const decl = `  let ow = pix % ${OW}u;
  let oh = (pix / ${OW}u) % ${OH}u;
  let n = pix / ${OW * OH}u;
  let ih0 = i32(oh * ${S}u) - ${padTop};
  let iw0 = i32(ow * ${S}u) - ${padLeft};`;
  const body = `  for (var kh = 0; kh < ${KH}; kh++) {
    let ih = ih0 + kh;
    if (ih < 0 || ih >= ${H}) { continue; }
    for (var kw = 0; kw < ${KW}; kw++) {
      let iw = iw0 + kw;
      if (iw < 0 || iw >= ${W}) { continue; }
      let xb = ${xPixelIndex(g, U, 'n', 'ih', 'iw')};
      let wb = u32(kh * ${KW} + kw) * ${C * F}u;
      for (var c = 0u; c < ${C}u; c++) {
        let xv = x[xb + c];
        let wr = wb + c * ${F}u;
${lanes.map((j) => `        acc${j} += xv * w[wr + ch${j}];`).join('\n')}
      }
    }
  }`;
  return perPixelKernel(
    o.label ?? 'conv2d.forward',
    N * OH * OW,
    F,
    [
      { name: 'x', access: 'read' },
      { name: 'w', access: 'read' },
    ],
    'y',
    o,
    decl,
    body,
  );
}

/**
 * dx = ∂(conv(x, w))/∂x · dy, then act(dx + bias) [⊙ dact(aux)] (the input gradient is also a
 * transposed convolution's forward pass: w is then that layer's [KH,KW,outC,inC] kernel, F its input
 * channels). Bindings: dy (read, [N,OH,OW,F]), w (read, [KH,KW,C,F]), [bias (read, [C])],
 * [aux (read, [N,H,W,C]), when dact], dx (read_write, [N,H,W,C]). One thread per input pixel and 4
 * input channels; with stride s only the taps on the stride grid (kh ≡ ih + padTop mod s) are visited.
 * With `upsample` U (the gradient of conv(upsample(x))): dx and aux are [N,H/U,W/U,C], and
 * dx[n,i,j,c] = dact(aux[n,i,j,c]) · Σ over the U×U block (ih = i·U + a, iw = j·U + b) of the
 * upsampled input's gradient; bias and act (the transposed-conv use) are not allowed with U > 1.
 */
export function conv2dBackpropInputKernel(g: ConvGeometry, o: ConvEpilogue = {}): KernelSource {
  checkGeometry(g);
  const U = upsampleFactor(g, o.upsample);
  if (U > 1 && (o.bias || (o.act ?? 'linear') !== 'linear')) {
    throw new Error('conv: the input gradient with upsample > 1 takes no bias or activation epilogue (only dact)');
  }
  const { N, H, W, C, KH, KW, F, stride: S, padTop, padLeft, OH, OW } = g;
  const cb = Math.min(CHANNELS_PER_THREAD, C);
  const lanes = Array.from({ length: cb }, (_, j) => j);
  const decl =
    U === 1
      ? `  let iw = pix % ${W}u;
  let ih = (pix / ${W}u) % ${H}u;
  let n = pix / ${W * H}u;
  let ihp = i32(ih) + ${padTop};
  let iwp = i32(iw) + ${padLeft};`
      : `  let jl = pix % ${W / U}u;
  let il = (pix / ${W / U}u) % ${H / U}u;
  let n = pix / ${(W / U) * (H / U)}u;`;
  const loop = (k: string, kp: string, K: number, out: string, O: number): string =>
    S === 1
      ? `for (var ${k} = 0; ${k} < ${K}; ${k}++) {
      let ${out}s = ${kp} - ${k};
      if (${out}s < 0) { break; }
      if (${out}s >= ${O}) { continue; }
      let ${out} = u32(${out}s);`
      : `for (var ${k} = ${kp} % ${S}; ${k} < ${K}; ${k} += ${S}) {
      let ${out}s = ${kp} - ${k};
      if (${out}s < 0) { break; }
      let ${out} = u32(${out}s / ${S});
      if (${out} >= ${O}u) { continue; }`;
  const taps = `  ${loop('kh', 'ihp', KH, 'oh', OH)}
    ${loop('kw', 'iwp', KW, 'ow', OW)}
      let db = ((n * ${OH}u + oh) * ${OW}u + ow) * ${F}u;
      let wb = u32(kh * ${KW} + kw) * ${C * F}u;
${lanes.map((j) => `      let wr${j} = wb + ch${j} * ${F}u;`).join('\n')}
      for (var f = 0u; f < ${F}u; f++) {
        let d = dy[db + f];
${lanes.map((j) => `        acc${j} += d * w[wr${j} + f];`).join('\n')}
      }
    }
  }`;
  // With U > 1 the thread sums the upsampled gradient over its U×U block (the upsampling's gradient).
  const body =
    U === 1
      ? taps
      : `  for (var ua = 0u; ua < ${U}u; ua++) {
  for (var ub = 0u; ub < ${U}u; ub++) {
  let ihp = i32(il * ${U}u + ua) + ${padTop};
  let iwp = i32(jl * ${U}u + ub) + ${padLeft};
${taps}
  }
  }`;
  return perPixelKernel(
    o.label ?? 'conv2d.backpropInput',
    (N * H * W) / (U * U),
    C,
    [
      { name: 'dy', access: 'read' },
      { name: 'w', access: 'read' },
    ],
    'dx',
    o,
    decl,
    body,
  );
}

/** Largest scratch (floats) the filter gradient's partial sums may take. */
const FILTER_SCRATCH_MAX = 1 << 22;
/** Workgroups the filter gradient's first pass aims for (tiles × chunks). */
const FILTER_TARGET_GROUPS = 512;
/** Fewest position steps (of TK positions) one chunk takes, so partial writes stay a small part of the work. */
const FILTER_MIN_STEPS = 4;

/** The filter gradient's tiling, exported for tests and plans. */
export interface FilterGradPlan {
  /** Weight rows (KH·KW·C, HWIO's leading dims), the GEMM's rows R (M, plus one for the bias) and its inner length (N·OH·OW). */
  M: number;
  R: number;
  P: number;
  /** Per-thread micro tile, thread grid (rows, columns, position lanes) and workgroup tile. */
  RM: number;
  RN: number;
  TGM: number;
  TGN: number;
  TGK: number;
  TM: number;
  TN: number;
  /** Positions staged in workgroup memory per step. */
  TK: number;
  tilesM: number;
  tilesN: number;
  /** Chunks the positions are split into, and positions per chunk (a multiple of TK). */
  chunks: number;
  chunkLen: number;
}

export function filterGradPlan(g: ConvGeometry, bias = false): FilterGradPlan {
  checkGeometry(g);
  const M = g.KH * g.KW * g.C;
  const R = M + (bias ? 1 : 0);
  const F = g.F;
  const P = g.N * g.OH * g.OW;
  const RN = Math.min(4, F);
  const RM = Math.min(4, R);
  const TGN = Math.min(Math.ceil(F / RN), 16);
  const TGM = Math.min(Math.ceil(R / RM), Math.floor(256 / TGN), 64);
  const TGK = Math.floor(256 / (TGM * TGN));
  const TM = TGM * RM;
  const TN = TGN * RN;
  let mult = Math.max(1, Math.ceil(16 / TGK));
  while (mult > 1 && TGK * mult * (TM + TN) > 3072) mult--;
  const TK = TGK * mult;
  const tilesM = Math.ceil(R / TM);
  const tilesN = Math.ceil(F / TN);
  const steps = Math.ceil(P / TK);
  let chunks = Math.min(
    Math.ceil(steps / FILTER_MIN_STEPS),
    Math.ceil(FILTER_TARGET_GROUPS / (tilesM * tilesN)),
    Math.floor(FILTER_SCRATCH_MAX / (R * F)),
    65535,
  );
  chunks = Math.max(1, chunks);
  const chunkLen = Math.ceil(steps / chunks) * TK;
  chunks = Math.ceil(P / chunkLen);
  return { M, R, P, RM, RN, TGM, TGN, TGK, TM, TN, TK, tilesM, tilesN, chunks, chunkLen };
}

/** Invocations the direct filter gradient aims for (blocks × chunks). */
const DIRECT_TARGET_INVOCATIONS = 2048;
/** Fewest positions one direct chunk takes. */
const DIRECT_MIN_CHUNK = 32;
/** Accumulators (weights) one direct invocation aims to hold. */
const DIRECT_ACCUMULATORS = 32;

/** The direct (no workgroup memory) filter gradient's blocking, exported for tests and plans. */
export interface FilterGradDirectPlan {
  M: number;
  R: number;
  P: number;
  /** Output channels and weight rows per invocation; `shared`: the RB rows are consecutive input channels of one tap (RB divides C). */
  FB: number;
  RB: number;
  shared: boolean;
  fBlocks: number;
  rowBlocks: number;
  /** fBlocks · rowBlocks, plus fBlocks bias blocks (each sums dy for FB channels) with bias. */
  blocks: number;
  chunks: number;
  chunkLen: number;
}

export function filterGradDirectPlan(g: ConvGeometry, bias = false): FilterGradDirectPlan {
  checkGeometry(g);
  const M = g.KH * g.KW * g.C;
  const R = M + (bias ? 1 : 0);
  const F = g.F;
  const P = g.N * g.OH * g.OW;
  const FB = Math.min(CHANNELS_PER_THREAD, F);
  const target = Math.max(1, Math.floor(DIRECT_ACCUMULATORS / FB));
  let d = Math.min(target, g.C, 16);
  while (g.C % d !== 0) d--;
  const shared = d >= 2;
  // Per-row taps cost their own index and bounds test; more than 4 of them also slow SwiftShader's shader compiler badly.
  const RB = shared ? d : Math.min(target, M, 4);
  const fBlocks = Math.ceil(F / FB);
  const rowBlocks = Math.ceil(M / RB);
  const blocks = fBlocks * rowBlocks + (bias ? fBlocks : 0);
  let chunks = Math.min(
    Math.ceil(DIRECT_TARGET_INVOCATIONS / blocks),
    Math.ceil(P / DIRECT_MIN_CHUNK),
    Math.floor(FILTER_SCRATCH_MAX / (R * F)),
    Math.floor((65535 * 65535 * WG) / blocks),
  );
  chunks = Math.max(1, chunks);
  const chunkLen = Math.ceil(P / chunks);
  chunks = Math.ceil(P / chunkLen);
  return { M, R, P, FB, RB, shared, fBlocks, rowBlocks, blocks, chunks, chunkLen };
}

export interface FilterGradOptions {
  label?: string;
  /** Also compute the bias gradient db[f] = Σ over N·OH·OW of dy[…, f] (binding `db`), in the same passes. */
  bias?: boolean;
  /** Leave out the summing pass: the caller sums the partials (see FilterGradKernels.layout). No effect with one chunk. */
  skipSum?: boolean;
  /** 'tiled' (default): workgroup-memory GEMM tiles; 'direct': no workgroup memory or barriers (for CPU-emulated adapters). */
  style?: 'tiled' | 'direct';
  /**
   * Fold a preceding nearest-neighbour upsampling by this integer factor U (default 1): the geometry
   * stays in upsampled terms (H, W multiples of U), `x` is bound at low resolution [N, H/U, W/U, C].
   */
  upsample?: number;
}

export interface FilterGradKernels extends OpKernels {
  /**
   * Where the partial sums live when there is a summing pass (or it was skipped): buffer `partial`,
   * chunk c's value for weight w (w in 0..M·F−1, the dw index) at layout.kernelOffset + c·layout.chunkStride + w;
   * with bias, the bias gradient's partial for output channel f at layout.biasOffset + c·layout.chunkStride + f.
   * chunks = 1 and no `partial` when one pass writes dw (and db) directly.
   */
  layout: { chunks: number; chunkStride: number; kernelOffset: number; biasOffset: number | null };
}

/** The output bindings of the first pass: dw [and db] with one chunk, else partial. */
function filterOutBindings(single: boolean, bias: boolean): BindingSpec[] {
  if (!single) return [{ name: 'partial', access: 'read_write' }];
  return bias
    ? [
        { name: 'dw', access: 'read_write' },
        { name: 'db', access: 'read_write' },
      ]
    : [{ name: 'dw', access: 'read_write' }];
}

/**
 * A WGSL statement storing `v` for GEMM row `r` (weight row, or M for the bias) and channel `f`
 * (both u32 expressions, known to be < R and < F), chunk offset `ob` when partial.
 */
function filterStore(single: boolean, M: number, F: number, r: string, f: string, v: string, rowIsBias: boolean | null): string {
  if (!single) return `partial[ob + (${r}) * ${F}u + ${f}] = ${v};`;
  if (rowIsBias === true) return `db[${f}] = ${v};`;
  if (rowIsBias === false) return `dw[(${r}) * ${F}u + ${f}] = ${v};`;
  return `if (${r} < ${M}u) { dw[(${r}) * ${F}u + ${f}] = ${v}; } else { db[${f}] = ${v}; }`;
}

/**
 * dw[kh,kw,c,f] = Σ over n,oh,ow of x[n, oh·s − padTop + kh, ow·s − padLeft + kw, c] · dy[n,oh,ow,f]
 * (with `upsample` U, x is [N,H/U,W/U,C] and read as x_up[n,ih,iw,c] = x[n,⌊ih/U⌋,⌊iw/U⌋,c]):
 * a GEMM dw[M = KH·KW·C, F] = im2col(x)ᵀ · dy with inner length P = N·OH·OW, split over that length;
 * with `bias`, im2col gets an extra row M whose x is 1, so row M of the product is db[f] = Σ dy[…, f].
 *
 * 'tiled' pass 1 ('partial'): each workgroup takes a TM×TN tile of the R×F product and a chunk of
 * positions, stages TK positions of im2col(x) and dy at a time in workgroup memory, accumulates a micro
 * tile per thread (threads also split the positions when the tile is small, summed in workgroup memory
 * at the end). 'direct' pass 1: one invocation per block (FB ≤ 4 channels × RB weight rows, or FB bias
 * channels) and chunk of positions, reading x and dy straight from storage (no workgroup memory, no
 * barriers). Either writes its partial sums to scratch `partial` [chunks, R, F] (see `layout`); pass 2
 * ('sum') adds them into dw [and db]. When one chunk suffices, pass 1 writes dw [and db] directly and
 * there is no scratch; with `skipSum` there is no pass 2.
 * Bindings by name: pass 1 x, dy, then partial | dw [, db]; pass 2 partial, dw [, db].
 * A string second argument is the label (the older signature).
 */
export function conv2dBackpropFilterKernels(g: ConvGeometry, opts: FilterGradOptions | string = {}): FilterGradKernels {
  const o: FilterGradOptions = typeof opts === 'string' ? { label: opts } : opts;
  const label = o.label ?? 'conv2d.backpropFilter';
  const bias = o.bias ?? false;
  checkGeometry(g);
  const U = upsampleFactor(g, o.upsample);
  const pass1 = o.style === 'direct' ? directFilterPass(g, bias, U) : tiledFilterPass(g, bias, U);
  const { M, R, chunks } = pass1;
  const F = g.F;
  const RF = R * F;
  const layout = { chunks, chunkStride: RF, kernelOffset: 0, biasOffset: bias ? M * F : null };
  const single = chunks === 1;
  const kernels: KernelSource[] = [{ label: single ? label : `${label}.partial`, code: pass1.code, bindings: pass1.bindings, workgroups: pass1.workgroups }];
  if (single) return { kernels, scratch: {}, layout };
  const scratch = { partial: chunks * RF };
  if (o.skipSum) return { kernels, scratch, layout };
  const b2: BindingSpec[] = [{ name: 'partial', access: 'read' }, ...filterOutBindings(true, bias)];
  const pass2 = `${declareBindings(b2)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = ${flatIndex(WG)};
  if (i >= ${RF}u) { return; }
  var s = 0.0;
  for (var c = 0u; c < ${chunks}u; c++) { s += partial[c * ${RF}u + i]; }
  ${bias ? `if (i < ${M * F}u) { dw[i] = s; } else { db[i - ${M * F}u] = s; }` : 'dw[i] = s;'}
}
`;
  kernels.push({ label: `${label}.sum`, code: pass2, bindings: b2, workgroups: groups1d(RF, WG) });
  return { kernels, scratch, layout };
}

interface FilterPass1 {
  M: number;
  R: number;
  chunks: number;
  code: string;
  bindings: BindingSpec[];
  workgroups: [number, number, number];
}

function tiledFilterPass(g: ConvGeometry, bias: boolean, U: number): FilterPass1 {
  const p = filterGradPlan(g, bias);
  const { H, W, C, KW, F, stride: S, padTop, padLeft, OH, OW } = g;
  const { M, R, P, RM, RN, TGM, TGN, TGK, TM, TN, TK, tilesM, chunks, chunkLen } = p;
  const wgSize = TGM * TGN * TGK;
  const single = chunks === 1;
  const b1: BindingSpec[] = [{ name: 'x', access: 'read' }, { name: 'dy', access: 'read' }, ...filterOutBindings(single, bias)];
  const cells: Array<[number, number]> = [];
  for (let i = 0; i < RM; i++) for (let j = 0; j < RN; j++) cells.push([i, j]);
  const store = (i: number, j: number, v: string): string =>
    `{ let r = m0 + gm + ${i * TGM}u; let f = n0 + gn + ${j * TGN}u; if (r < ${R}u && f < ${F}u) { ${filterStore(single, M, F, 'r', 'f', v, bias ? null : false)} } }`;
  const finish =
    TGK === 1
      ? cells.map(([i, j]) => `  ${store(i, j, `acc${i}_${j}`)}`).join('\n')
      : cells
          .map(
            ([i, j]) => `  red[li] = acc${i}_${j};
  workgroupBarrier();
  if (gk == 0u) {
    var s = 0.0;
    for (var k = 0u; k < ${TGK}u; k++) { s += red[li + k * ${TGM * TGN}u]; }
    ${store(i, j, 's')}
  }
  workgroupBarrier();`,
          )
          .join('\n');
  const code = `${declareBindings(b1)}
var<workgroup> As: array<f32, ${TK * TM}>;
var<workgroup> Bs: array<f32, ${TK * TN}>;
${TGK > 1 ? `var<workgroup> red: array<f32, ${wgSize}>;` : ''}
@compute @workgroup_size(${wgSize})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let gn = li % ${TGN}u;
  let gm = (li / ${TGN}u) % ${TGM}u;
  let gk = li / ${TGM * TGN}u;
  let m0 = (wg.x % ${tilesM}u) * ${TM}u;
  let n0 = (wg.x / ${tilesM}u) * ${TN}u;
  let pStart = wg.y * ${chunkLen}u;
  let pEnd = min(pStart + ${chunkLen}u, ${P}u);
  let ob = ${single ? '0u' : `wg.y * ${R * F}u`};
${cells.map(([i, j]) => `  var acc${i}_${j} = 0.0;`).join('\n')}
  for (var k0 = pStart; k0 < pEnd; k0 += ${TK}u) {
    for (var e = li; e < ${TK * TM}u; e += ${wgSize}u) {
      let pos = k0 + e / ${TM}u;
      let r = m0 + e % ${TM}u;
      var v = 0.0;
      if (pos < pEnd && r < ${R}u) {${bias ? `
        if (r == ${M}u) { v = 1.0; } else {` : ' {'}
        let ow = pos % ${OW}u;
        let oh = (pos / ${OW}u) % ${OH}u;
        let n = pos / ${OW * OH}u;
        let c = r % ${C}u;
        let kw = (r / ${C}u) % ${KW}u;
        let kh = r / ${C * KW}u;
        let ih = i32(oh * ${S}u + kh) - ${padTop};
        let iw = i32(ow * ${S}u + kw) - ${padLeft};
        if (ih >= 0 && ih < ${H} && iw >= 0 && iw < ${W}) {
          v = x[${xPixelIndex(g, U, 'n', 'ih', 'iw')} + c];
        }
        }
      }
      As[e] = v;
    }
    for (var e = li; e < ${TK * TN}u; e += ${wgSize}u) {
      let pos = k0 + e / ${TN}u;
      let f = n0 + e % ${TN}u;
      var v = 0.0;
      if (pos < pEnd && f < ${F}u) { v = dy[pos * ${F}u + f]; }
      Bs[e] = v;
    }
    workgroupBarrier();
    for (var k = gk; k < ${TK}u; k += ${TGK}u) {
${Array.from({ length: RM }, (_, i) => `      let a${i} = As[k * ${TM}u + gm + ${i * TGM}u];`).join('\n')}
${Array.from({ length: RN }, (_, j) => `      let b${j} = Bs[k * ${TN}u + gn + ${j * TGN}u];`).join('\n')}
${cells.map(([i, j]) => `      acc${i}_${j} += a${i} * b${j};`).join('\n')}
    }
    workgroupBarrier();
  }
${finish}
}
`;
  return { M, R, chunks, code, bindings: b1, workgroups: [p.tilesM * p.tilesN, chunks, 1] };
}

function directFilterPass(g: ConvGeometry, bias: boolean, U: number): FilterPass1 {
  const p = filterGradDirectPlan(g, bias);
  const { H, W, C, KW, F, stride: S, padTop, padLeft, OH, OW } = g;
  const { M, R, P, FB, RB, shared, fBlocks, rowBlocks, blocks, chunks, chunkLen } = p;
  const single = chunks === 1;
  const b1: BindingSpec[] = [{ name: 'x', access: 'read' }, { name: 'dy', access: 'read' }, ...filterOutBindings(single, bias)];
  const total = blocks * chunks;
  const fl = Array.from({ length: FB }, (_, k) => k);
  const rl = Array.from({ length: RB }, (_, j) => j);
  const raggedF = F % FB !== 0;
  const raggedR = M % RB !== 0;
  const fGuard = (k: number, s: string): string => (raggedF && k > 0 ? `if (f0 + ${k}u < ${F}u) { ${s} }` : s);
  const loadDy = fl.map((k) => `    let d${k} = dy[d + ${raggedF && k > 0 ? `min(f0 + ${k}u, ${F - 1}u)` : `f0 + ${k}u`}];`).join('\n');
  const biasBlock = bias
    ? `  if (rb == ${rowBlocks}u) {
${fl.map((k) => `    var s${k} = 0.0;`).join('\n')}
    for (var pos = p0; pos < p1; pos++) {
      let d = pos * ${F}u;
${loadDy}
${fl.map((k) => `      s${k} += d${k};`).join('\n')}
    }
${fl.map((k) => `    ${fGuard(k, filterStore(single, M, F, `${M}u`, `f0 + ${k}u`, `s${k}`, true))}`).join('\n')}
    return;
  }`
    : '';
  const rowDecl = shared
    ? `  let c0 = rbase % ${C}u;
  let kh = i32(rbase / ${C * KW}u);
  let kw = i32((rbase / ${C}u) % ${KW}u);
${U === 1 ? `  let o0 = (kh * ${W} + kw) * ${C} + i32(c0);` : ''}`
    : rl
        .map(
          (j) => `  let r${j} = ${raggedR && j > 0 ? `min(rbase + ${j}u, ${M - 1}u)` : `rbase + ${j}u`};
  let kh${j} = i32(r${j} / ${C * KW}u);
  let kw${j} = i32((r${j} / ${C}u) % ${KW}u);
  ${U === 1 ? `let o${j} = (kh${j} * ${W} + kw${j}) * ${C} + i32(r${j} % ${C}u);` : `let c${j} = r${j} % ${C}u;`}`,
        )
        .join('\n');
  const mac = (j: number, a: string): string => fl.map((k) => `acc${j}_${k} += ${a} * d${k};`).join(' ');
  const inner = shared
    ? `      let ih = ih0 + kh;
      let iw = iw0 + kw;
      if (ih >= 0 && ih < ${H} && iw >= 0 && iw < ${W}) {
        let xi = ${U === 1 ? 'u32(xb + o0)' : `${xPixelIndex(g, U, 'n', 'ih', 'iw')} + c0`};
${rl.map((j) => `        let a${j} = x[xi + ${j}u];`).join('\n')}
${rl.map((j) => `        ${mac(j, `a${j}`)}`).join('\n')}
      }`
    : rl
        .map(
          (j) => `      { let ih = ih0 + kh${j}; let iw = iw0 + kw${j};
        let ok = ih >= 0 && ih < ${H} && iw >= 0 && iw < ${W};
        let a = select(0.0, x[select(0u, ${U === 1 ? `u32(xb + o${j})` : `${xPixelIndex(g, U, 'n', 'ih', 'iw')} + c${j}`}, ok)], ok); ${mac(j, 'a')} }`,
        )
        .join('\n');
  const stores = rl
    .map((j) =>
      fl
        .map((k) => {
          const s = fGuard(k, filterStore(single, M, F, `rbase + ${j}u`, `f0 + ${k}u`, `acc${j}_${k}`, false));
          return raggedR && j > 0 ? `  if (rbase + ${j}u < ${M}u) { ${s} }` : `  ${s}`;
        })
        .join('\n'),
    )
    .join('\n');
  const code = `${declareBindings(b1)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = ${flatIndex(WG)};
  if (t >= ${total}u) { return; }
  let blk = t % ${blocks}u;
  let chunk = t / ${blocks}u;
  let f0 = (blk % ${fBlocks}u) * ${FB}u;
  let rb = blk / ${fBlocks}u;
  let p0 = chunk * ${chunkLen}u;
  let p1 = min(p0 + ${chunkLen}u, ${P}u);
  let ob = ${single ? '0u' : `chunk * ${R * F}u`};
${biasBlock}
  let rbase = rb * ${RB}u;
${rowDecl}
${rl.map((j) => fl.map((k) => `  var acc${j}_${k} = 0.0;`).join(' ')).join('\n')}
  var ow = p0 % ${OW}u;
  var oh = (p0 / ${OW}u) % ${OH}u;
  var n = p0 / ${OW * OH}u;
  for (var pos = p0; pos < p1; pos++) {
    let d = pos * ${F}u;
${loadDy}
    let ih0 = i32(oh * ${S}u) - ${padTop};
    let iw0 = i32(ow * ${S}u) - ${padLeft};
${U === 1 ? `    let xb = i32(n * ${H * W * C}u) + (ih0 * ${W} + iw0) * ${C};\n` : ''}${inner}
    ow += 1u;
    if (ow == ${OW}u) { ow = 0u; oh += 1u; if (oh == ${OH}u) { oh = 0u; n += 1u; } }
  }
${stores}
}
`;
  return { M, R, chunks, code, bindings: b1, workgroups: groups1d(total, WG) };
}
