/**
 * Column sums by a split reduction (#19): the bias gradients (out[c] = Σ_r x[r·cols + c]), and the
 * machinery the loss kernels share (loss.ts). Pure TypeScript: WGSL as text.
 *
 * Pass 1: each workgroup (256 invocations) sums a chunk of rows for a block of up to 64 columns
 * (invocation `li` takes column lane li % CB and row lane li / CB, walks its chunk's rows with stride
 * RL = 256 / CB, then the row lanes are folded in workgroup memory), writing one partial sum per chunk
 * and column into the scratch buffer `partial` ([chunks, cols]). Pass 2 sums the partials of each
 * column the same way (one chunk). A sum small enough for one workgroup per column block is one pass.
 */
import { declareBindings, f32, type BindingSpec, type KernelSource } from './wgsl';

/** A multi-kernel op: its kernels (dispatched in order), and the scratch buffers they share by name (name → floats). */
export interface OpKernels {
  kernels: KernelSource[];
  scratch: Record<string, number>;
}

const WG = 256;
/** At most this many chunks (so pass 2 sums at most 256 partials per column). */
const MAX_CHUNKS = 256;
/** Each invocation of pass 1 walks at least this many rows of its chunk (fewer, bigger chunks for small sums). */
const MIN_ITERS = 4;
/** Columns per workgroup at most. */
const MAX_CB = 64;

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function checkSize(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${n}`);
}

/** How a [rows, cols] column sum is split: columns per workgroup, row lanes, rows per chunk, chunks. */
export function sumPlan(rows: number, cols: number): { cb: number; rl: number; chunk: number; chunks: number } {
  checkSize('rows', rows);
  checkSize('cols', cols);
  const cb = Math.min(nextPow2(cols), MAX_CB);
  const rl = WG / cb;
  const iters = Math.max(MIN_ITERS, Math.ceil(rows / (rl * MAX_CHUNKS)));
  const chunk = rl * iters;
  return { cb, rl, chunk, chunks: Math.ceil(rows / chunk) };
}

export interface SumPassOptions {
  label: string;
  rows: number;
  cols: number;
  /** Rows per workgroup (chunk g is rows [g·chunk, (g+1)·chunk)); `rows` for a single chunk. */
  chunk: number;
  /** The bindings before the output (what `element` reads and writes). */
  inputs: BindingSpec[];
  /** The output binding's name: written at [chunk · cols + col] (one chunk: [col]). */
  out: string;
  /** WGSL statements defining `v: f32`, the value of element (r, col) with flat index `i = r * cols + col`; may write side outputs at `i`. */
  element: string;
  /** WGSL module-scope declarations the element needs (helper functions). */
  prelude?: string;
  /** The sums are divided by this before they are written. */
  divisor?: number;
}

/** One pass of the split column sum (see the file's doc). */
export function sumPass(o: SumPassOptions): KernelSource {
  const { rows, cols, chunk } = o;
  const cb = Math.min(nextPow2(cols), MAX_CB);
  const rl = WG / cb;
  const chunks = Math.ceil(rows / chunk);
  const colBlocks = Math.ceil(cols / cb);
  if (chunks > 65535 || colBlocks > 65535) throw new Error(`${o.label}: too many workgroups (${chunks} × ${colBlocks})`);
  const bindings: BindingSpec[] = [...o.inputs, { name: o.out, access: 'read_write' }];
  const finish = o.divisor === undefined || o.divisor === 1 ? 'sh[li]' : `sh[li] / ${f32(o.divisor)}`;
  const code = `${declareBindings(bindings)}
${o.prelude ?? ''}
const ROWS = ${rows}u;
const COLS = ${cols}u;
const CB = ${cb}u;
const RL = ${rl}u;
const CHUNK = ${chunk}u;
var<workgroup> sh: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let lane = li % CB;
  let rowLane = li / CB;
  let col = wg.y * CB + lane;
  let r0 = wg.x * CHUNK;
  let r1 = min(r0 + CHUNK, ROWS);
  var s = 0.0;
  if (col < COLS) {
    for (var r = r0 + rowLane; r < r1; r += RL) {
      let i = r * COLS + col;
      ${o.element}
      s += v;
    }
  }
  sh[li] = s;
  workgroupBarrier();
  for (var stride = RL / 2u; stride > 0u; stride = stride / 2u) {
    if (rowLane < stride) { sh[li] += sh[li + stride * CB]; }
    workgroupBarrier();
  }
  if (rowLane == 0u && col < COLS) { ${o.out}[wg.x * COLS + col] = ${finish}; }
}`;
  return { label: o.label, code, bindings, workgroups: [chunks, colBlocks, 1] };
}

/**
 * A split column sum whose first pass computes its elements with `element` (see SumPassOptions):
 * one kernel when one chunk covers the rows, else pass 1 into scratch `partial` ([chunks, cols]) and
 * pass 2 from it into `out`.
 */
export function splitSum(o: Omit<SumPassOptions, 'chunk'>): OpKernels {
  const plan = sumPlan(o.rows, o.cols);
  if (plan.chunks === 1) return { kernels: [sumPass({ ...o, chunk: o.rows })], scratch: {} };
  const pass1 = sumPass({ ...o, label: `${o.label}.partial`, chunk: plan.chunk, out: 'partial', divisor: undefined });
  const pass2 = sumPass({
    label: `${o.label}.total`,
    rows: plan.chunks,
    cols: o.cols,
    chunk: plan.chunks,
    inputs: [{ name: 'partial', access: 'read' }],
    out: o.out,
    element: 'let v = partial[i];',
    divisor: o.divisor,
  });
  return { kernels: [pass1, pass2], scratch: { partial: plan.chunks * o.cols } };
}

/**
 * out[c] = Σ_r x[r·cols + c] (x is [rows, cols], row-major). Bindings by name: `x` (read), `out`
 * (read_write; cols floats), and, when the rows need two passes, the scratch `partial`
 * (scratch.partial floats): kernel 1 binds [x, partial], kernel 2 [partial, out]; one pass binds [x, out].
 */
export function colSumKernels(rows: number, cols: number, label = 'colSum'): OpKernels {
  return splitSum({ label, rows, cols, inputs: [{ name: 'x', access: 'read' }], out: 'out', element: 'let v = x[i];' });
}

/**
 * The column sum's first pass alone when it needs two (the caller sums the partials: column c's
 * chunk k at partial[k·cols + c], k < chunks), or the one pass writing `out` when one suffices (chunks 1).
 */
export function colSumPartials(rows: number, cols: number, label = 'colSum'): OpKernels & { chunks: number } {
  const whole = colSumKernels(rows, cols, label);
  if (whole.kernels.length === 1) return { ...whole, chunks: 1 };
  return { kernels: [whole.kernels[0]], scratch: whole.scratch, chunks: sumPlan(rows, cols).chunks };
}
