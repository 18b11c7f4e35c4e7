/**
 * Training-mode batch normalization for the fused WebGPU training path (#19): the app's
 * TrainingBatchNorm (src/train/worker/batchNorm.ts) as a sequence of kernels, with an optional fused
 * activation after it. Statistics over all axes but the channel: R = N·H·W rows of C channels
 * (dense layers: R = N), biased batch variance, ε = 1e-3, moving statistics updated as
 * m ← m − (m − batch)·(1 − momentum), momentum 0.99.
 *
 * The per-channel statistics are split reductions: a "partial" kernel gives each of P workgroups a
 * chunk of rows (its 256 threads as L lanes × CB channels, each lane striding over the chunk's rows,
 * then a tree over the lanes in workgroup memory), and a "combine" kernel (one workgroup per channel)
 * merges the P partials and finishes the channel's statistics. When one chunk covers the rows (P = 1)
 * the partial kernel finishes them itself.
 *
 * The forward statistics are one pass over x: each lane keeps (count, mean, M2) by Welford's update
 * (M2 = Σ(x − mean)² of its rows), and lanes, then chunks, are merged by Chan et al.'s formula
 * (n = na + nb, δ = mb − ma, mean = ma + δ·nb/n, M2 = M2a + M2b + δ²·na·nb/n). This never forms
 * E[x²] − mean², so it stays accurate for data with a large mean. A chunk's count is known from the
 * split, so the partials are (mean, M2) only.
 *
 * Forward (3 kernels, 2 when P = 1): (count, mean, M2) per chunk → mean, invStd and the moving
 * statistics; y = act(γ·x̂ + β).
 * Backward (3 kernels, 2 when P ≤ 8): Σg and Σg·x̂ (g = dy ⊙ act'(y)) → dβ, dγ and per-channel
 * coefficients; dx = γ·invStd·(g − x̂·dγ/R − dβ/R) [⊙ dact(x)]. For few chunks the dx kernel sums the
 * P partials of its channel itself (the same sums in the same order in every invocation, so every
 * element sees the same coefficients), and its row-0 invocations write dβ and dγ; for many chunks
 * that would cost 2P reads per element, so a combine kernel runs between.
 *
 * Two styles: 'tiled' (the default; workgroup memory and barriers, as above) and 'direct' (no
 * workgroup memory: one invocation per chunk and channel walks the chunk's rows in order, and one
 * invocation per channel merges its P partials), for CPU-emulated adapters (SwiftShader), where
 * barriers are costly.
 *
 * Pure TypeScript (WGSL as text): no tfjs, no DOM.
 */
import { type DactOption } from './elementwise';
import type { OpKernels } from './reduce';
import { actFn, dactFn, declareBindings, f32, flatIndex, groups1d, type BindingSpec, type FusedActivation, type KernelSource } from './wgsl';

const PARTIAL_GROUP = 256;
/** Threads per workgroup of a tiled combine kernel, at most. */
const COMBINE_GROUP = 64;
/** At most this many row chunks (partials per channel). */
const MAX_CHUNKS = 256;
/** Rows each lane should sum at least, before more chunks are made. */
const ROWS_PER_LANE = 16;
/** Backward: with at most this many chunks, the dx kernel sums the partials itself (no combine kernel). */
const INLINE_COMBINE_CHUNKS = 8;
const ELEMENT_GROUP = 64;

/** 'tiled': workgroup memory and barriers; 'direct': none (for CPU-emulated adapters). */
export type BatchNormStyle = 'tiled' | 'direct';

/** How the partial kernels split R rows × C channels. */
export interface BatchNormSplit {
  /** Channels per workgroup (min(C, 256)), and lanes per channel (⌊256 / CB⌋). */
  CB: number;
  L: number;
  /** Channel blocks (⌈C / CB⌉): the partial kernels' workgroups in y. */
  blocks: number;
  /** Rows per chunk, and chunks (P ≤ 256): the partial kernels' workgroups in x. */
  rowsPerChunk: number;
  P: number;
}

export function batchNormSplit(R: number, C: number): BatchNormSplit {
  for (const [k, v] of Object.entries({ R, C })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`batchNorm: ${k} must be a positive integer, got ${v}`);
  }
  if (C > 65535) throw new Error(`batchNorm: at most 65535 channels, got ${C}`);
  const CB = Math.min(C, PARTIAL_GROUP);
  const L = Math.floor(PARTIAL_GROUP / CB);
  const blocks = Math.ceil(C / CB);
  const wantChunks = Math.min(MAX_CHUNKS, Math.max(1, Math.ceil(R / (L * ROWS_PER_LANE))));
  const rowsPerChunk = Math.ceil(R / wantChunks);
  return { CB, L, blocks, rowsPerChunk, P: Math.ceil(R / rowsPerChunk) };
}

/** Tree strides over L lanes: ⌈L⌉₂/2, …, 1 (none for L = 1). */
function treeStrides(L: number): number[] {
  const out: number[] = [];
  let s = 1;
  while (s < L) s *= 2;
  for (s /= 2; s >= 1; s /= 2) out.push(s);
  return out;
}

/**
 * A reduction over rows with an accumulator of WGSL type `type` (starting at `zero`), updated per row
 * by `update` (statements using the element index `k`, the channel `c` and `acc`, after `prelude`),
 * partial accumulators joined by the WGSL function `merge(a, b)` (declared in `fns`).
 */
interface Reduction {
  type: string;
  zero: string;
  fns: string;
  prelude: string;
  update: string;
}

/**
 * A partial kernel: chunk p's rows of channel c reduced into `acc`, then `epilogue` (statements using
 * p, c and acc) runs once per (p, c). Tiled: workgroup (p, block), L lanes per channel striding the
 * chunk, a tree of merges over the lanes. Direct: one invocation per (p, c), the rows in order.
 */
function partialKernel(label: string, R: number, C: number, style: BatchNormStyle, bindings: BindingSpec[], red: Reduction, epilogue: string): KernelSource {
  const { CB, L, blocks, rowsPerChunk, P } = batchNormSplit(R, C);
  if (style === 'direct') {
    return {
      label,
      bindings,
      workgroups: groups1d(P * C, ELEMENT_GROUP),
      code: `${declareBindings(bindings)}
${red.fns}
@compute @workgroup_size(${ELEMENT_GROUP}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = ${flatIndex(ELEMENT_GROUP)};
  if (t >= ${P * C}u) { return; }
  let p = t / ${C}u;
  let c = t % ${C}u;
  var acc = ${red.zero};
  ${red.prelude}
  let r1 = min(p * ${rowsPerChunk}u + ${rowsPerChunk}u, ${R}u);
  for (var r = p * ${rowsPerChunk}u; r < r1; r++) {
    let k = r * ${C}u + c;
    ${red.update}
  }
  ${epilogue}
}`,
    };
  }
  const tree = treeStrides(L)
    .map(
      (s) => `  workgroupBarrier();
  if (lane < ${s}u && lane + ${s}u < ${L}u) { sh[li] = merge(sh[li], sh[li + ${s * CB}u]); }`,
    )
    .join('\n');
  return {
    label,
    bindings,
    workgroups: [P, blocks, 1],
    code: `${declareBindings(bindings)}
var<workgroup> sh: array<${red.type}, ${PARTIAL_GROUP}>;
${red.fns}
@compute @workgroup_size(${PARTIAL_GROUP}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let p = wg.x;
  let cl = li % ${CB}u;
  let lane = li / ${CB}u;
  let c = wg.y * ${CB}u + cl;
  var acc = ${red.zero};
  if (lane < ${L}u && c < ${C}u) {
    ${red.prelude}
    let r1 = min(p * ${rowsPerChunk}u + ${rowsPerChunk}u, ${R}u);
    for (var r = p * ${rowsPerChunk}u + lane; r < r1; r += ${L}u) {
      let k = r * ${C}u + c;
      ${red.update}
    }
  }
  sh[li] = acc;
${tree}
  if (lane == 0u && c < ${C}u) {
    acc = sh[li];
    ${epilogue}
  }
}`,
  };
}

/**
 * A combine kernel: the P partials of channel c (`load`, a WGSL expression of p and c) merged into
 * `acc` (`merge` from `fns`), then `epilogue` (statements using c and acc). Tiled: one workgroup per
 * channel, its threads striding over p, then a tree. Direct: one invocation per channel, p in order.
 */
function combineKernel(label: string, R: number, C: number, style: BatchNormStyle, bindings: BindingSpec[], type: string, fns: string, load: string, epilogue: string): KernelSource {
  const { P } = batchNormSplit(R, C);
  if (style === 'direct') {
    return {
      label,
      bindings,
      workgroups: groups1d(C, ELEMENT_GROUP),
      code: `${declareBindings(bindings)}
${fns}
@compute @workgroup_size(${ELEMENT_GROUP}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = ${flatIndex(ELEMENT_GROUP)};
  if (c >= ${C}u) { return; }
  var acc = ${load.replaceAll('$p', '0u')};
  for (var p = 1u; p < ${P}u; p++) { acc = merge(acc, ${load.replaceAll('$p', 'p')}); }
  ${epilogue}
}`,
    };
  }
  let G = 1;
  while (G * 2 <= Math.min(P, COMBINE_GROUP)) G *= 2;
  const tree = treeStrides(G)
    .map(
      (s) => `  workgroupBarrier();
  if (li < ${s}u) { sh[li] = merge(sh[li], sh[li + ${s}u]); }`,
    )
    .join('\n');
  // Thread li starts from partial li (every thread has one: G ≤ P) and merges li + G, li + 2G, ….
  return {
    label,
    bindings,
    workgroups: [C, 1, 1],
    code: `${declareBindings(bindings)}
var<workgroup> sh: array<${type}, ${G}>;
${fns}
@compute @workgroup_size(${G}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.x;
  var acc = ${load.replaceAll('$p', 'li')};
  for (var p = li + ${G}u; p < ${P}u; p += ${G}u) { acc = merge(acc, ${load.replaceAll('$p', 'p')}); }
  sh[li] = acc;
${tree}
  if (li == 0u) {
    acc = sh[0];
    ${epilogue}
  }
}`,
  };
}

/** Chan et al.'s merge of two (count, mean, M2) triples; an empty side (count 0) leaves the other as it is. */
const CHAN_MERGE = `fn merge(a: vec3f, b: vec3f) -> vec3f {
  if (b.x == 0.0) { return a; }
  let n = a.x + b.x;
  let d = b.y - a.y;
  let f = b.x / n;
  return vec3f(n, a.y + d * f, a.z + b.z + d * d * a.x * f);
}`;

/**
 * The forward pass: `${label}.stats` (per-chunk count, mean and M2), `.combine` (Chan's merge of the
 * chunks → mean, invStd, moving statistics), `.normalize`; when one chunk covers the rows (P = 1),
 * `.stats` finishes the statistics itself and there is no `.combine` (2 kernels).
 * Bindings by name: x (read, [R, C]), gamma, beta (read, [C]), movingMean, movingVar (read_write, [C],
 * updated in place), y (read_write, [R, C]: act(γ·(x − mean)·invStd + β)), mean, invStd (read_write,
 * [C]: the batch mean and 1/√(var + ε), for the backward pass).
 * Per kernel: stats [x, bnPartial] (P = 1: [x, mean, invStd, movingMean, movingVar]);
 * combine [bnPartial, mean, invStd, movingMean, movingVar]; normalize [x, mean, invStd, gamma, beta, y].
 * Scratch (P > 1 only): bnPartial (2·P·C floats: the chunks' means, then their M2s; P = batchNormSplit(R, C).P ≤ 256).
 */
export function batchNormForwardKernels(
  R: number,
  C: number,
  o: { act?: FusedActivation; alpha?: number; epsilon?: number; momentum?: number; label?: string; style?: BatchNormStyle } = {},
): OpKernels {
  const label = o.label ?? 'batchNorm.forward';
  const eps = o.epsilon ?? 1e-3;
  const decay = 1 - (o.momentum ?? 0.99);
  const act = o.act ?? 'linear';
  const style = o.style ?? 'tiled';
  const { P, rowsPerChunk } = batchNormSplit(R, C);
  const r = (name: string): BindingSpec => ({ name, access: 'read' });
  const w = (name: string): BindingSpec => ({ name, access: 'read_write' });

  // Welford's update of (count, mean, M2) by one value.
  const welford: Reduction = {
    type: 'vec3f',
    zero: 'vec3f(0.0)',
    fns: CHAN_MERGE,
    prelude: '',
    update: `let v = x[k];
      acc.x += 1.0;
      let d = v - acc.y;
      acc.y += d / acc.x;
      acc.z += d * (v - acc.y);`,
  };
  const finishBindings = [w('mean'), w('invStd'), w('movingMean'), w('movingVar')];
  const finish = `let v = acc.z * ${f32(1 / R)};
    mean[c] = acc.y;
    invStd[c] = 1.0 / sqrt(v + ${f32(eps)});
    let mm = movingMean[c];
    movingMean[c] = mm - (mm - acc.y) * ${f32(decay)};
    let mv = movingVar[c];
    movingVar[c] = mv - (mv - v) * ${f32(decay)};`;
  const statKernels: KernelSource[] =
    P === 1
      ? [partialKernel(`${label}.stats`, R, C, style, [r('x'), ...finishBindings], welford, finish)]
      : [
          partialKernel(`${label}.stats`, R, C, style, [r('x'), w('bnPartial')], welford, `bnPartial[p * ${C}u + c] = acc.y;
    bnPartial[${P * C}u + p * ${C}u + c] = acc.z;`),
          combineKernel(
            `${label}.combine`,
            R,
            C,
            style,
            [r('bnPartial'), ...finishBindings],
            'vec3f',
            CHAN_MERGE,
            // The chunk's count from the split: rowsPerChunk, the last one the rest.
            `vec3f(f32(min(${rowsPerChunk}u, ${R}u - $p * ${rowsPerChunk}u)), bnPartial[$p * ${C}u + c], bnPartial[${P * C}u + $p * ${C}u + c])`,
            finish,
          ),
        ];
  const normBindings = [r('x'), r('mean'), r('invStd'), r('gamma'), r('beta'), w('y')];
  const total = R * C;
  const normalize: KernelSource = {
    label: `${label}.normalize`,
    bindings: normBindings,
    workgroups: groups1d(total, ELEMENT_GROUP),
    code: `${declareBindings(normBindings)}
${actFn('act', act, o.alpha)}
@compute @workgroup_size(${ELEMENT_GROUP}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = ${flatIndex(ELEMENT_GROUP)};
  if (i >= ${total}u) { return; }
  let c = i % ${C}u;
  y[i] = act(gamma[c] * ((x[i] - mean[c]) * invStd[c]) + beta[c]);
}`,
  };
  return { kernels: [...statKernels, normalize], scratch: P === 1 ? {} : { bnPartial: 2 * P * C } };
}

/**
 * The backward pass: `${label}.sums`, [`.combine`,] `.dx` — the combine kernel only for more than 8
 * chunks (batchNormSplit(R, C).P); with fewer the dx kernel sums the partials itself.
 * With g = dy ⊙ act'(y) and x̂ = (x − mean)·invStd: dβ = Σ g, dγ = Σ g·x̂,
 * dx = γ·invStd·(g − x̂·dγ/R − dβ/R), then ⊙ dact(x) when `o.dact` is given (the previous layer's
 * activation, whose output is x).
 * Bindings by name: dy (read, [R, C]), y (read, [R, C]; bound only when `o.act` is not 'linear'),
 * x (read, [R, C]), mean, invStd (read, [C]: the forward's), gamma (read, [C]), dx (read_write, [R, C]),
 * dgamma, dbeta (read_write, [C]; written, not accumulated).
 * Per kernel, P > 8: sums [dy, (y), x, mean, invStd, bnPartial]; combine [bnPartial, gamma, invStd, dbeta,
 * dgamma, bnCoef]; dx [dy, (y), x, mean, bnCoef, dx]. Scratch: bnPartial (2·P·C floats), bnCoef (3·C).
 * P ≤ 8: sums [dy, (y), x, mean, invStd, gamma, bnPartial] (also copies mean, invStd/R and γ·invStd
 * after the partials); dx [dy, (y), x, bnPartial, dx, dgamma, dbeta]. Scratch: bnPartial ((2·P + 3)·C).
 */
export function batchNormBackwardKernels(
  R: number,
  C: number,
  o: { act?: FusedActivation; alpha?: number; dact?: DactOption; epsilon?: number; label?: string; style?: BatchNormStyle } = {},
): OpKernels {
  const label = o.label ?? 'batchNorm.backward';
  const act = o.act ?? 'linear';
  const style = o.style ?? 'tiled';
  const useY = act !== 'linear';
  const { P } = batchNormSplit(R, C);
  const inline = P <= INLINE_COMBINE_CHUNKS;
  const r = (name: string): BindingSpec => ({ name, access: 'read' });
  const w = (name: string): BindingSpec => ({ name, access: 'read_write' });
  const yBinding = useY ? [r('y')] : [];
  const dactAct = useY ? dactFn('dact', act, o.alpha) : '';
  const sumMerge = 'fn merge(a: vec2f, b: vec2f) -> vec2f { return a + b; }';
  const PC = P * C;

  const partials = `bnPartial[p * ${C}u + c] = acc.x;
    bnPartial[${PC}u + p * ${C}u + c] = acc.y;`;
  // Inline: chunk 0 also leaves the channel's mean, invStd/R and γ·invStd after the partials, for the dx kernel.
  const copies = `if (p == 0u) {
      let s = invStd[c];
      bnPartial[${2 * PC}u + c] = mean[c];
      bnPartial[${2 * PC + C}u + c] = s * ${f32(1 / R)};
      bnPartial[${2 * PC + 2 * C}u + c] = gamma[c] * s;
    }`;
  const sums = partialKernel(
    `${label}.sums`,
    R,
    C,
    style,
    [r('dy'), ...yBinding, r('x'), r('mean'), r('invStd'), ...(inline ? [r('gamma')] : []), w('bnPartial')],
    {
      type: 'vec2f',
      zero: 'vec2f(0.0)',
      fns: `${dactAct}\n${sumMerge}`,
      prelude: 'let m = mean[c];\n    let s = invStd[c];',
      update: `let g = ${useY ? 'dy[k] * dact(y[k])' : 'dy[k]'};
      acc += vec2f(g, g * ((x[k] - m) * s));`,
    },
    inline ? `${partials}\n    ${copies}` : partials,
  );

  const total = R * C;
  const prev = o.dact ? dactFn('dact_prev', o.dact.act, o.dact.alpha) : '';
  const g = useY ? 'dy[i] * dact(y[i])' : 'dy[i]';
  const finishDx = (expr: string): string => (o.dact ? `(${expr}) * dact_prev(xv)` : expr);
  const dxKernel = (bindings: BindingSpec[], body: string): KernelSource => ({
    label: `${label}.dx`,
    bindings,
    workgroups: groups1d(total, ELEMENT_GROUP),
    code: `${declareBindings(bindings)}
${dactAct}
${prev}
@compute @workgroup_size(${ELEMENT_GROUP}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = ${flatIndex(ELEMENT_GROUP)};
  if (i >= ${total}u) { return; }
  let c = i % ${C}u;
  let xv = x[i];
  ${body}
}`,
  });

  if (inline) {
    // Σg and Σg·x̂ over the P partials, in the same order in every invocation (P ≤ 8: unrolled).
    const adds = Array.from({ length: P }, (_, p) => `bnPartial[${p * C}u + c]`).join(' + ');
    const adds1 = Array.from({ length: P }, (_, p) => `bnPartial[${PC + p * C}u + c]`).join(' + ');
    const dx = dxKernel(
      [r('dy'), ...yBinding, r('x'), r('bnPartial'), w('dx'), w('dgamma'), w('dbeta')],
      `let sum0 = ${adds};
  let sum1 = ${adds1};
  if (i < ${C}u) {
    dbeta[c] = sum0;
    dgamma[c] = sum1;
  }
  let e = bnPartial[${2 * PC + C}u + c] * sum1;
  dx[i] = ${finishDx(`bnPartial[${2 * PC + 2 * C}u + c] * (${g} - (xv - bnPartial[${2 * PC}u + c]) * e - sum0 * ${f32(1 / R)})`)};`,
    );
    return { kernels: [sums, dx], scratch: { bnPartial: 2 * PC + 3 * C } };
  }

  // Per channel: dx = A·(g − (x − mean)·E − F), A = γ·invStd, E = invStd·dγ/R, F = dβ/R.
  const combine = combineKernel(
    `${label}.combine`,
    R,
    C,
    style,
    [r('bnPartial'), r('gamma'), r('invStd'), w('dbeta'), w('dgamma'), w('bnCoef')],
    'vec2f',
    sumMerge,
    `vec2f(bnPartial[$p * ${C}u + c], bnPartial[${PC}u + $p * ${C}u + c])`,
    `dbeta[c] = acc.x;
    dgamma[c] = acc.y;
    let s = invStd[c];
    bnCoef[c] = gamma[c] * s;
    bnCoef[${C}u + c] = s * acc.y * ${f32(1 / R)};
    bnCoef[${2 * C}u + c] = acc.x * ${f32(1 / R)};`,
  );
  const dx = dxKernel(
    [r('dy'), ...yBinding, r('x'), r('mean'), r('bnCoef'), w('dx')],
    `dx[i] = ${finishDx(`bnCoef[c] * (${g} - (xv - mean[c]) * bnCoef[${C}u + c] - bnCoef[${2 * C}u + c])`)};`,
  );
  return { kernels: [sums, combine, dx], scratch: { bnPartial: 2 * PC, bnCoef: 3 * C } };
}

/**
 * Inference-mode batch normalization (evaluation, #19): y = act(γ·(x − movingMean)/√(movingVar + ε) + β),
 * one thread per element, as tf.batchNorm computes a Keras batch norm layer's output when not training.
 * Bindings: x (read, [R, C]), movingMean, movingVar, gamma, beta (read, [C]), y (read_write, [R, C]).
 */
export function batchNormInferenceKernel(R: number, C: number, o: { act?: FusedActivation; alpha?: number; epsilon?: number; label?: string } = {}): KernelSource {
  const r = (name: string): BindingSpec => ({ name, access: 'read' });
  const bindings = [r('x'), r('movingMean'), r('movingVar'), r('gamma'), r('beta'), { name: 'y', access: 'read_write' } as BindingSpec];
  const total = R * C;
  return {
    label: o.label ?? 'batchNorm.inference',
    bindings,
    workgroups: groups1d(total, ELEMENT_GROUP),
    code: `${declareBindings(bindings)}
${actFn('act', o.act ?? 'linear', o.alpha)}
@compute @workgroup_size(${ELEMENT_GROUP}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = ${flatIndex(ELEMENT_GROUP)};
  if (i >= ${total}u) { return; }
  let c = i % ${C}u;
  y[i] = act((x[i] - movingMean[c]) * inverseSqrt(movingVar[c] + ${f32(o.epsilon ?? 1e-3)}) * gamma[c] + beta[c]);
}`,
  };
}
