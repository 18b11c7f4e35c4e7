/**
 * Element-wise kernels of the fused WebGPU training path (#19): a stand-alone activation and its
 * gradient, and inverted dropout with a mask recomputed from (seed, index) in the backward pass (no
 * mask buffer). Also the optional `dact` epilogue the backward kernels of pool.ts, upsample.ts and
 * batchNorm.ts share: dx ⊙ dact(aux), the derivative of the PREVIOUS layer's activation taken at its
 * output (wgsl.ts' dactFn), so that activation needs no backward kernel of its own.
 *
 * Pure TypeScript (WGSL as text): no tfjs, no DOM.
 */
import { actFn, dactFn, declareBindings, f32, flatIndex, groups1d, type BindingSpec, type FusedActivation, type KernelSource } from './wgsl';

/** The previous layer's activation, whose derivative a backward kernel multiplies into dx. */
export interface DactOption {
  act: FusedActivation;
  alpha?: number;
}

/** Threads per workgroup of the element-wise kernels here and in pool.ts / upsample.ts. */
export const ELEMENTWISE_GROUP = 64;

/** The `main` signature of a 1-D kernel dispatched with groups1d (flatIndex's builtins). */
export const MAIN_1D = `@compute @workgroup_size(${ELEMENTWISE_GROUP}) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32)`;

/**
 * The pieces of the optional dact epilogue: the `aux` binding (read) when `dact` is given, the WGSL
 * function `dact_aux`, and `apply(value, index)`, the WGSL expression of value ⊙ dact(aux[index]).
 */
export function dactEpilogue(dact: DactOption | undefined): { bindings: BindingSpec[]; fn: string; apply: (value: string, index: string) => string } {
  if (!dact) return { bindings: [], fn: '', apply: (value) => value };
  return {
    bindings: [{ name: 'aux', access: 'read' }],
    fn: dactFn('dact_aux', dact.act, dact.alpha),
    apply: (value, index) => `(${value}) * dact_aux(aux[${index}])`,
  };
}

/** One thread per element: y = act(x). Bindings: x (read), y (read_write), both [count]. */
export function activationForwardKernel(count: number, act: FusedActivation, alpha?: number, label = `activation.${act}.forward`): KernelSource {
  const bindings: BindingSpec[] = [
    { name: 'x', access: 'read' },
    { name: 'y', access: 'read_write' },
  ];
  return {
    label,
    bindings,
    workgroups: groups1d(count, ELEMENTWISE_GROUP),
    code: `${declareBindings(bindings)}
${actFn('act', act, alpha)}
${MAIN_1D} {
  let i = ${flatIndex(ELEMENTWISE_GROUP)};
  if (i >= ${count}u) { return; }
  y[i] = act(x[i]);
}`,
  };
}

/**
 * dx = dy · act'(y), from the activation's OUTPUT y, ⊙ dact(aux) when `o.dact` is given.
 * Bindings: dy (read), y (read; bound even for 'linear', whose derivative ignores it), [aux (read)],
 * dx (read_write), all [count].
 */
export function activationBackwardKernel(
  count: number,
  act: FusedActivation,
  o: { alpha?: number; dact?: DactOption; label?: string } = {},
): KernelSource {
  const epi = dactEpilogue(o.dact);
  const bindings: BindingSpec[] = [
    { name: 'dy', access: 'read' },
    { name: 'y', access: 'read' },
    ...epi.bindings,
    { name: 'dx', access: 'read_write' },
  ];
  return {
    label: o.label ?? `activation.${act}.backward`,
    bindings,
    workgroups: groups1d(count, ELEMENTWISE_GROUP),
    code: `${declareBindings(bindings)}
${dactFn('dact', act, o.alpha)}
${epi.fn}
${MAIN_1D} {
  let i = ${flatIndex(ELEMENTWISE_GROUP)};
  if (i >= ${count}u) { return; }
  let yv = y[i];
  dx[i] = ${epi.apply('dy[i] * dact(yv)', 'i')};
}`,
  };
}

// ---- dropout ----

/**
 * PCG's output permutation (O'Neill; the "pcg_hash" of Jarzynski & Olano, "Hash Functions for GPU
 * Rendering", 2020) on a u32, in WGSL.
 */
const PCG_WGSL = `fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn dropout_hash(seed: u32, index: u32) -> u32 { return pcg(pcg(index) ^ pcg(seed)); }`;

/** The same permutation in TypeScript (u32 arithmetic through Math.imul and >>> 0). */
function pcgRef(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/**
 * The keep threshold on the hash's top 24 bits: an element is kept when (hash >> 8) ≥ this, i.e. when
 * the uniform u = (hash >> 8) / 2^24 in [0, 1) is ≥ rate. Integer, so WGSL and TypeScript agree exactly.
 */
function keepThreshold(rate: number): number {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1): ${rate}`);
  return Math.ceil(rate * 16777216);
}

/** Whether dropout keeps element `index` under `seed` (u32s) at this rate: the kernels' mask, in TypeScript. */
export function dropoutMaskRef(seed: number, index: number, rate: number): boolean {
  const h = pcgRef(pcgRef(index >>> 0) ^ pcgRef(seed >>> 0)) >>> 0;
  return h >>> 8 >= keepThreshold(rate);
}

/**
 * Inverted dropout (as tfjs' dropout): y = x · keep / (1 − rate), keep = dropoutMaskRef(seed[0], i, rate).
 * Bindings: x (read, [count]), seed (read, array<u32>, [1]: the step's seed, written by the runtime),
 * y (read_write, [count]). Rate 0 keeps everything (a copy).
 */
export function dropoutForwardKernel(count: number, rate: number, label = 'dropout.forward'): KernelSource {
  const bindings: BindingSpec[] = [
    { name: 'x', access: 'read' },
    { name: 'seed', access: 'read' },
    { name: 'y', access: 'read_write' },
  ];
  const threshold = keepThreshold(rate);
  return {
    label,
    bindings,
    workgroups: groups1d(count, ELEMENTWISE_GROUP),
    code: `${declareBindings(bindings, { seed: 'u32' })}
${PCG_WGSL}
${MAIN_1D} {
  let i = ${flatIndex(ELEMENTWISE_GROUP)};
  if (i >= ${count}u) { return; }
  let keep = (dropout_hash(seed[0], i) >> 8u) >= ${threshold}u;
  y[i] = select(0.0, x[i] * ${f32(1 / (1 - rate))}, keep);
}`,
  };
}

/**
 * dropout's gradient: dx = dy · keep / (1 − rate) with the forward's mask recomputed from (seed, index),
 * ⊙ dact(aux) when `o.dact` is given. Bindings: dy (read), seed (read, u32, [1]), [aux (read)], dx (read_write).
 */
export function dropoutBackwardKernel(count: number, rate: number, o: { dact?: DactOption; label?: string } = {}): KernelSource {
  const epi = dactEpilogue(o.dact);
  const bindings: BindingSpec[] = [
    { name: 'dy', access: 'read' },
    { name: 'seed', access: 'read' },
    ...epi.bindings,
    { name: 'dx', access: 'read_write' },
  ];
  const threshold = keepThreshold(rate);
  return {
    label: o.label ?? 'dropout.backward',
    bindings,
    workgroups: groups1d(count, ELEMENTWISE_GROUP),
    code: `${declareBindings(bindings, { seed: 'u32' })}
${PCG_WGSL}
${epi.fn}
${MAIN_1D} {
  let i = ${flatIndex(ELEMENTWISE_GROUP)};
  if (i >= ${count}u) { return; }
  let keep = (dropout_hash(seed[0], i) >> 8u) >= ${threshold}u;
  dx[i] = ${epi.apply(`select(0.0, dy[i] * ${f32(1 / (1 - rate))}, keep)`, 'i')};
}`,
  };
}
