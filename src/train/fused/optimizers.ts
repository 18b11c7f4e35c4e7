/**
 * The optimizers' updates of a flat parameter buffer, one dispatch each (#19), reproducing tfjs 4.22's
 * (tfjs-core/dist/optimizers/{adam,momentum,rmsprop}_optimizer.js), operation for operation in float32:
 * - adam: m' = m·β1 + g·(1 − β1); v' = v·β2 + g²·(1 − β2);
 *   p' = (m'/(1 − β1^t)) / (sqrt(v'/(1 − β2^t)) + ε) · (−lr) + p, with tfjs' accumulated β^t
 *   (float32 products, starting at β) and ε = 1e-7 (tfjs' float32 backend epsilon) by default.
 * - momentum (no Nesterov): a' = momentum·a + g; p' = (−lr)·a' + p.
 * - rmsprop (not centered): ms' = ms·decay + g²·(1 − decay); mom' = mom·momentum + g·lr/sqrt(ms' + ε); p' = p − mom'.
 *   tfjs' defaults: decay 0.9, momentum 0, ε = 1e-7.
 * The state buffers (m, v, accum, ms, mom) start at zero. The per-step values (lr; adam's bias
 * corrections) are read from `hyper`, a small storage buffer the runtime rewrites before each step
 * with the arrays adamHyper / momentumHyper / rmspropHyper return (4 floats, 16 bytes).
 * Given gather segments, the same dispatch first sums split reductions' partials into the gradients
 * (bindings: grad becomes read_write, `partial` is appended).
 */
import { declareBindings, f32, flatIndex, groups1d, type BindingSpec, type KernelSource } from './wgsl';

/** tfjs' float32 backend epsilon, the optimizers' default ε. */
const TFJS_EPSILON = 1e-7;
const WG = 256;

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1) throw new Error(`optimizer: count must be a positive integer, got ${count}`);
}

/**
 * A stretch of the flat gradient buffer whose values are still split-reduction partials (#19): the
 * gradient of parameter start + j is Σ_{c < chunks} partial[base + c·stride + j], j < count. The
 * optimizer's dispatch sums them itself (and writes the sum into `grad`, for read-back), so the
 * reductions' summing passes cost no dispatch of their own.
 */
export interface GatherSegment {
  start: number;
  count: number;
  base: number;
  stride: number;
  chunks: number;
}

/** WGSL that sets `g`: the gathered sum where a segment covers i (written back to grad), else grad[i]. */
function gatherCode(segments: readonly GatherSegment[]): string {
  if (segments.length === 0) return 'let g = grad[i];';
  const sorted = [...segments].sort((a, b) => a.start - b.start);
  const branches = sorted.map(
    (sg) => `if (i >= ${sg.start}u && i < ${sg.start + sg.count}u) {
    let j = ${sg.base}u + (i - ${sg.start}u);
    for (var c = 0u; c < ${sg.chunks}u; c++) { acc += partial[j + c * ${sg.stride}u]; }
    grad[i] = acc;
  }`,
  );
  return `var acc = 0.0;
  ${branches.join(' else ')} else { acc = grad[i]; }
  let g = acc;`;
}

function checkSegments(count: number, segments: readonly GatherSegment[]): void {
  for (const sg of segments) {
    if (sg.start < 0 || sg.start + sg.count > count || sg.chunks < 1 || sg.count < 1) throw new Error(`optimizer: bad gather segment ${JSON.stringify(sg)}`);
  }
}

/** A kernel of one invocation per parameter (i < count) running `body`. */
function perParameter(label: string, count: number, bindings: BindingSpec[], body: string): KernelSource {
  const code = `${declareBindings(bindings)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = ${flatIndex(WG)};
  if (i >= ${count}u) { return; }
  ${body}
}`;
  return { label, code, bindings, workgroups: groups1d(count, WG) };
}

function updateKernel(label: string, count: number, bindings: BindingSpec[], body: string, segments: readonly GatherSegment[] = []): KernelSource {
  checkCount(count);
  checkSegments(count, segments);
  const all = segments.length > 0 ? bindings.map((b) => (b.name === 'grad' ? { name: 'grad', access: 'read_write' as const } : b)).concat({ name: 'partial', access: 'read' }) : bindings;
  return perParameter(segments.length > 0 ? `${label} (gathering ${segments.length} split sums)` : label, count, all, `${gatherCode(segments)}
  ${body}`);
}

/**
 * Only the gathering of `segments` into `grad` (bindings: `grad` read_write, `partial` read): the
 * gradients without an update, for the gradient check.
 */
export function gatherKernel(count: number, segments: readonly GatherSegment[]): KernelSource {
  checkCount(count);
  checkSegments(count, segments);
  const bindings: BindingSpec[] = [
    { name: 'grad', access: 'read_write' },
    { name: 'partial', access: 'read' },
  ];
  return perParameter(`gather ${segments.length} split sums`, count, bindings, gatherCode(segments));
}

/**
 * Adam over `count` parameters. Bindings in order: `param`, `grad` (read), `m`, `v`, `hyper` (read:
 * adamHyper(lr, step, β1, β2), with the same β1, β2 as here).
 */
export function adamKernel(count: number, o: { beta1?: number; beta2?: number; epsilon?: number } = {}, segments: readonly GatherSegment[] = []): KernelSource {
  const beta1 = o.beta1 ?? 0.9;
  const beta2 = o.beta2 ?? 0.999;
  const eps = o.epsilon ?? TFJS_EPSILON;
  const bindings: BindingSpec[] = [
    { name: 'param', access: 'read_write' },
    { name: 'grad', access: 'read' },
    { name: 'm', access: 'read_write' },
    { name: 'v', access: 'read_write' },
    { name: 'hyper', access: 'read' },
  ];
  return updateKernel(
    'adam',
    count,
    bindings,
    `let m1 = m[i] * ${f32(beta1)} + g * ${f32(1 - beta1)};
  let v1 = v[i] * ${f32(beta2)} + (g * g) * ${f32(1 - beta2)};
  m[i] = m1;
  v[i] = v1;
  let mHat = m1 / hyper[1];
  let vHat = v1 / hyper[2];
  param[i] = (mHat / (sqrt(vHat) + ${f32(eps)})) * (-hyper[0]) + param[i];`,
    segments,
  );
}

/**
 * Momentum (no Nesterov) over `count` parameters. Bindings in order: `param`, `grad` (read), `accum`,
 * `hyper` (read: momentumHyper(lr)).
 */
export function momentumKernel(count: number, momentum = 0.9, segments: readonly GatherSegment[] = []): KernelSource {
  const bindings: BindingSpec[] = [
    { name: 'param', access: 'read_write' },
    { name: 'grad', access: 'read' },
    { name: 'accum', access: 'read_write' },
    { name: 'hyper', access: 'read' },
  ];
  return updateKernel(
    'momentum',
    count,
    bindings,
    `let a1 = ${f32(momentum)} * accum[i] + g;
  accum[i] = a1;
  param[i] = (-hyper[0]) * a1 + param[i];`,
    segments,
  );
}

/**
 * RMSprop (not centered) over `count` parameters. Bindings in order: `param`, `grad` (read), `ms`,
 * `mom`, `hyper` (read: rmspropHyper(lr)).
 */
export function rmspropKernel(count: number, o: { decay?: number; momentum?: number; epsilon?: number } = {}, segments: readonly GatherSegment[] = []): KernelSource {
  const decay = o.decay ?? 0.9;
  const momentum = o.momentum ?? 0;
  const eps = o.epsilon ?? TFJS_EPSILON;
  const bindings: BindingSpec[] = [
    { name: 'param', access: 'read_write' },
    { name: 'grad', access: 'read' },
    { name: 'ms', access: 'read_write' },
    { name: 'mom', access: 'read_write' },
    { name: 'hyper', access: 'read' },
  ];
  return updateKernel(
    'rmsprop',
    count,
    bindings,
    `let ms1 = ms[i] * ${f32(decay)} + (g * g) * ${f32(1 - decay)};
  let mom1 = mom[i] * ${f32(momentum)} + (g * hyper[0]) / sqrt(ms1 + ${f32(eps)});
  ms[i] = ms1;
  mom[i] = mom1;
  param[i] = param[i] - mom1;`,
    segments,
  );
}

/**
 * Adam's `hyper` before step `step` (1-based): [lr, 1 − β1^step, 1 − β2^step, 0], the powers
 * accumulated in float32 as tfjs does (accBeta starts at β and is multiplied by β after each step).
 */
export function adamHyper(lr: number, step: number, beta1 = 0.9, beta2 = 0.999): Float32Array {
  if (!Number.isInteger(step) || step < 1) throw new Error(`adamHyper: step must be a positive integer, got ${step}`);
  const b1 = Math.fround(beta1);
  const b2 = Math.fround(beta2);
  // Continue from the last call's powers when it was an earlier step of the same betas (a run's steps: O(1) each).
  let c = powCache;
  if (!c || c.b1 !== b1 || c.b2 !== b2 || c.step > step) c = { b1, b2, step: 1, acc1: b1, acc2: b2 };
  let { acc1, acc2 } = c;
  for (let s = c.step; s < step; s++) {
    acc1 = Math.fround(acc1 * b1);
    acc2 = Math.fround(acc2 * b2);
  }
  powCache = { b1, b2, step, acc1, acc2 };
  return Float32Array.from([lr, Math.fround(1 - acc1), Math.fround(1 - acc2), 0]);
}

let powCache: { b1: number; b2: number; step: number; acc1: number; acc2: number } | null = null;

/** Momentum's `hyper`: [lr, 0, 0, 0]. */
export function momentumHyper(lr: number): Float32Array {
  return Float32Array.from([lr, 0, 0, 0]);
}

/** RMSprop's `hyper`: [lr, 0, 0, 0]. */
export function rmspropHyper(lr: number): Float32Array {
  return Float32Array.from([lr, 0, 0, 0]);
}
