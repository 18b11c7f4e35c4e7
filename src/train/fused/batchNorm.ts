/**
 * Training-mode batch normalization for the fused WebGPU training path (#19): the app's
 * TrainingBatchNorm (src/train/worker/batchNorm.ts) as a sequence of kernels, with an optional fused
 * activation after it. Statistics over all axes but the channel: R = N·H·W rows of C channels
 * (dense layers: R = N), biased batch variance, ε = 1e-3, moving statistics updated as
 * m ← m − (m − batch)·(1 − momentum), momentum 0.99.
 *
 * The per-channel sums are split reductions: a "partial" kernel gives each of P workgroups a chunk of
 * rows (its 256 threads as L lanes × CB channels, each lane striding over the chunk's rows, then a tree
 * over the lanes in workgroup memory), and a "combine" kernel (one 64-thread workgroup per channel)
 * sums the P partials and finishes the channel's statistics. The variance takes two passes (mean, then
 * Σ(x − mean)²), which stays accurate where E[x²] − mean² would cancel.
 *
 * Forward (5 kernels): Σx → mean; Σ(x − mean)² → invStd and the moving statistics; y = act(γ·x̂ + β).
 * Backward (3 kernels): Σg and Σg·x̂ (g = dy ⊙ act'(y)) → dβ, dγ and per-channel coefficients;
 * dx = γ·invStd·(g − x̂·dγ/R − dβ/R) [⊙ dact(x)].
 *
 * Pure TypeScript (WGSL as text): no tfjs, no DOM.
 */
import { type DactOption } from './elementwise';
import type { OpKernels } from './reduce';
import { actFn, dactFn, declareBindings, f32, flatIndex, groups1d, type BindingSpec, type FusedActivation, type KernelSource } from './wgsl';

const PARTIAL_GROUP = 256;
const COMBINE_GROUP = 64;
/** At most this many row chunks (partials per channel). */
const MAX_CHUNKS = 256;
/** Rows each lane should sum at least, before more chunks are made. */
const ROWS_PER_LANE = 16;

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
 * A partial kernel: workgroup (p, block) sums `terms` (WGSL expressions of the element index `k` and
 * channel `c`, after `prelude` and the per-row `perRow` statements) over chunk p's rows, for channels
 * block·CB + [0, CB), into bnPartial[t·P·C + p·C + c] for term t.
 */
function partialKernel(
  label: string,
  R: number,
  C: number,
  bindings: BindingSpec[],
  fns: string,
  prelude: string,
  perRow: string,
  terms: string[],
): KernelSource {
  const { CB, L, blocks, rowsPerChunk, P } = batchNormSplit(R, C);
  const shared = terms.map((_, t) => `var<workgroup> sh${t}: array<f32, ${PARTIAL_GROUP}>;`).join('\n');
  const tree = treeStrides(L)
    .map(
      (s) => `  workgroupBarrier();
  if (lane < ${s}u && lane + ${s}u < ${L}u) {
${terms.map((_, t) => `    sh${t}[li] += sh${t}[li + ${s * CB}u];`).join('\n')}
  }`,
    )
    .join('\n');
  return {
    label,
    bindings,
    workgroups: [P, blocks, 1],
    code: `${declareBindings(bindings)}
${shared}
${fns}
@compute @workgroup_size(${PARTIAL_GROUP}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let p = wg.x;
  let cl = li % ${CB}u;
  let lane = li / ${CB}u;
  let c = wg.y * ${CB}u + cl;
${terms.map((_, t) => `  var acc${t} = 0.0;`).join('\n')}
  if (lane < ${L}u && c < ${C}u) {
    ${prelude}
    let r1 = min(p * ${rowsPerChunk}u + ${rowsPerChunk}u, ${R}u);
    for (var r = p * ${rowsPerChunk}u + lane; r < r1; r += ${L}u) {
      let k = r * ${C}u + c;
      ${perRow}
${terms.map((e, t) => `      acc${t} += ${e};`).join('\n')}
    }
  }
${terms.map((_, t) => `  sh${t}[li] = acc${t};`).join('\n')}
${tree}
  if (lane == 0u && c < ${C}u) {
${terms.map((_, t) => `    bnPartial[${t * P * C}u + p * ${C}u + c] = sh${t}[li];`).join('\n')}
  }
}`,
  };
}

/**
 * A combine kernel: one workgroup per channel c sums bnPartial[t·P·C + p·C + c] over p into `sum${t}`
 * for each of `T` terms, then thread 0 runs `finish` (WGSL statements using c and sum0..).
 */
function combineKernel(label: string, R: number, C: number, T: number, bindings: BindingSpec[], finish: string): KernelSource {
  const { P } = batchNormSplit(R, C);
  const range = Array.from({ length: T }, (_, t) => t);
  const tree = treeStrides(COMBINE_GROUP)
    .map(
      (s) => `  workgroupBarrier();
  if (li < ${s}u) {
${range.map((t) => `    sh${t}[li] += sh${t}[li + ${s}u];`).join('\n')}
  }`,
    )
    .join('\n');
  return {
    label,
    bindings,
    workgroups: [C, 1, 1],
    code: `${declareBindings(bindings)}
${range.map((t) => `var<workgroup> sh${t}: array<f32, ${COMBINE_GROUP}>;`).join('\n')}
@compute @workgroup_size(${COMBINE_GROUP}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.x;
${range.map((t) => `  var acc${t} = 0.0;`).join('\n')}
  for (var p = li; p < ${P}u; p += ${COMBINE_GROUP}u) {
${range.map((t) => `    acc${t} += bnPartial[${t * P * C}u + p * ${C}u + c];`).join('\n')}
  }
${range.map((t) => `  sh${t}[li] = acc${t};`).join('\n')}
${tree}
  if (li == 0u) {
${range.map((t) => `    let sum${t} = sh${t}[0];`).join('\n')}
    ${finish}
  }
}`,
  };
}

const ELEMENT_GROUP = 64;

/**
 * The forward pass, 5 kernels: `${label}.sum`, `.mean`, `.sqdev`, `.var`, `.normalize`.
 * Bindings by name: x (read, [R, C]), gamma, beta (read, [C]), movingMean, movingVar (read_write, [C],
 * updated in place), y (read_write, [R, C]: act(γ·(x − mean)·invStd + β)), mean, invStd (read_write,
 * [C]: the batch mean and 1/√(var + ε), for the backward pass).
 * Scratch: bnPartial (P·C floats, P = batchNormSplit(R, C).P ≤ 256).
 */
export function batchNormForwardKernels(
  R: number,
  C: number,
  o: { act?: FusedActivation; alpha?: number; epsilon?: number; momentum?: number; label?: string } = {},
): OpKernels {
  const label = o.label ?? 'batchNorm.forward';
  const eps = o.epsilon ?? 1e-3;
  const decay = 1 - (o.momentum ?? 0.99);
  const act = o.act ?? 'linear';
  const { P } = batchNormSplit(R, C);
  const r = (name: string): BindingSpec => ({ name, access: 'read' });
  const w = (name: string): BindingSpec => ({ name, access: 'read_write' });

  const sum = partialKernel(`${label}.sum`, R, C, [r('x'), w('bnPartial')], '', '', '', ['x[k]']);
  const mean = combineKernel(`${label}.mean`, R, C, 1, [r('bnPartial'), w('mean')], `mean[c] = sum0 * ${f32(1 / R)};`);
  const sqdev = partialKernel(`${label}.sqdev`, R, C, [r('x'), r('mean'), w('bnPartial')], '', 'let m = mean[c];', 'let d = x[k] - m;', ['d * d']);
  const variance = combineKernel(
    `${label}.var`,
    R,
    C,
    1,
    [r('bnPartial'), r('mean'), w('invStd'), w('movingMean'), w('movingVar')],
    `let v = sum0 * ${f32(1 / R)};
    invStd[c] = 1.0 / sqrt(v + ${f32(eps)});
    let mm = movingMean[c];
    movingMean[c] = mm - (mm - mean[c]) * ${f32(decay)};
    let mv = movingVar[c];
    movingVar[c] = mv - (mv - v) * ${f32(decay)};`,
  );
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
  return { kernels: [sum, mean, sqdev, variance, normalize], scratch: { bnPartial: P * C } };
}

/**
 * The backward pass, 3 kernels: `${label}.sums`, `.combine`, `.dx`.
 * With g = dy ⊙ act'(y) and x̂ = (x − mean)·invStd: dβ = Σ g, dγ = Σ g·x̂,
 * dx = γ·invStd·(g − x̂·dγ/R − dβ/R), then ⊙ dact(x) when `o.dact` is given (the previous layer's
 * activation, whose output is x).
 * Bindings by name: dy (read, [R, C]), y (read, [R, C]; bound only when `o.act` is not 'linear'),
 * x (read, [R, C]), mean, invStd (read, [C]: the forward's), gamma (read, [C]), dx (read_write, [R, C]),
 * dgamma, dbeta (read_write, [C]; written, not accumulated).
 * Scratch: bnPartial (2·P·C floats), bnCoef (3·C floats).
 */
export function batchNormBackwardKernels(
  R: number,
  C: number,
  o: { act?: FusedActivation; alpha?: number; dact?: DactOption; epsilon?: number; label?: string } = {},
): OpKernels {
  const label = o.label ?? 'batchNorm.backward';
  const act = o.act ?? 'linear';
  const useY = act !== 'linear';
  const { P } = batchNormSplit(R, C);
  const r = (name: string): BindingSpec => ({ name, access: 'read' });
  const w = (name: string): BindingSpec => ({ name, access: 'read_write' });
  const yBinding = useY ? [r('y')] : [];
  const gExpr = useY ? 'dy[k] * dact(y[k])' : 'dy[k]';
  const dactAct = useY ? dactFn('dact', act, o.alpha) : '';

  const sums = partialKernel(
    `${label}.sums`,
    R,
    C,
    [r('dy'), ...yBinding, r('x'), r('mean'), r('invStd'), w('bnPartial')],
    dactAct,
    'let m = mean[c];\n    let s = invStd[c];',
    `let g = ${gExpr};`,
    ['g', 'g * ((x[k] - m) * s)'],
  );
  // Per channel: dx = A·(g − (x − mean)·E − F), A = γ·invStd, E = invStd·dγ/R, F = dβ/R.
  const combine = combineKernel(
    `${label}.combine`,
    R,
    C,
    2,
    [r('bnPartial'), r('gamma'), r('invStd'), w('dbeta'), w('dgamma'), w('bnCoef')],
    `dbeta[c] = sum0;
    dgamma[c] = sum1;
    let s = invStd[c];
    bnCoef[c] = gamma[c] * s;
    bnCoef[${C}u + c] = s * sum1 * ${f32(1 / R)};
    bnCoef[${2 * C}u + c] = sum0 * ${f32(1 / R)};`,
  );
  const dxBindings = [r('dy'), ...yBinding, r('x'), r('mean'), r('bnCoef'), w('dx')];
  const total = R * C;
  const prev = o.dact ? dactFn('dact_prev', o.dact.act, o.dact.alpha) : '';
  const g = useY ? 'dy[i] * dact(y[i])' : 'dy[i]';
  const dxExpr = `bnCoef[c] * (${g} - (xv - mean[c]) * bnCoef[${C}u + c] - bnCoef[${2 * C}u + c])`;
  const dx: KernelSource = {
    label: `${label}.dx`,
    bindings: dxBindings,
    workgroups: groups1d(total, ELEMENT_GROUP),
    code: `${declareBindings(dxBindings)}
${dactAct}
${prev}
@compute @workgroup_size(${ELEMENT_GROUP}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = ${flatIndex(ELEMENT_GROUP)};
  if (i >= ${total}u) { return; }
  let c = i % ${C}u;
  let xv = x[i];
  dx[i] = ${o.dact ? `(${dxExpr}) * dact_prev(xv)` : dxExpr};
}`,
  };
  return { kernels: [sums, combine, dx], scratch: { bnPartial: 2 * P * C, bnCoef: 3 * C } };
}
