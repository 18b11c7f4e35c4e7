/**
 * Tiled matrix product with a fused epilogue (#19): C[M,N] = op(A)·op(B), then per element
 * v = acc (+ bias[n]) (→ act(v)) (· dact(aux[m·N + n])). The dense layers' three products:
 * forward Y = act(X·W + b); input gradient dX = (dZ·Wᵀ) ⊙ dact_prev(Yprev) (transB); weight gradient
 * dW = Xᵀ·dZ (transA).
 *
 * A workgroup of 16×16 invocations computes a (16·b)×(16·b) block of C, each invocation b×b outputs
 * (rows ty + 16i, columns tx + 16j, so workgroup-memory reads broadcast and the writes coalesce),
 * walking K in steps of 16 with A's and B's tiles staged in workgroup memory (zero-padded at the
 * edges). b is 4, 2 or 1: the largest that still gives enough workgroups to fill a GPU.
 */
import { actFn, dactFn, declareBindings, flatIndex, groups1d, type BindingSpec, type FusedActivation, type KernelSource } from './wgsl';

export interface MatmulOptions {
  M: number;
  N: number;
  K: number;
  /** A is stored [K, M] (else [M, K]). */
  transA: boolean;
  /** B is stored [N, K] (else [K, N]). */
  transB: boolean;
  /** Add bias[n] (binding `bias`, N floats). */
  bias?: boolean;
  /** Apply this activation after the bias. */
  act?: FusedActivation;
  /** leakyRelu's slope for `act`. */
  alpha?: number;
  /** Multiply by the derivative of this activation at the output stored in `aux` ([M, N]). */
  dact?: { act: FusedActivation; alpha?: number };
  label?: string;
  /** Outputs per invocation along each axis (4, 2 or 1); chosen from the size when left out. */
  block?: 1 | 2 | 4;
  /**
   * 'tiled' (default): tiles staged in workgroup memory, for GPUs. 'direct': no workgroup memory or
   * barriers, each invocation a 4×4 block of C straight from the operands — for CPU-emulated adapters
   * (SwiftShader), where a barrier is costly and memory is cached anyway (about 9× faster there on the
   * dense AE's products, measured).
   */
  style?: 'tiled' | 'direct';
}

const T = 16; // invocations per workgroup axis, and the K step
/** Pick the largest block that still gives at least this many workgroups. */
const MIN_GROUPS = 96;

function checkSize(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`matmul: ${name} must be a positive integer, got ${n}`);
}

function groupsFor(M: number, N: number, b: number): number {
  return Math.ceil(M / (T * b)) * Math.ceil(N / (T * b));
}

/** The block size matmulKernel picks for an [M, N] output. */
export function matmulBlock(M: number, N: number): 1 | 2 | 4 {
  if (groupsFor(M, N, 4) >= MIN_GROUPS) return 4;
  if (groupsFor(M, N, 2) >= MIN_GROUPS) return 2;
  return 1;
}

/**
 * The kernel for C = op(A)·op(B) with the epilogue of `o`. Bindings in order: `a` (read), `b` (read),
 * `bias` (read, if o.bias), `aux` (read, if o.dact), `c` (read_write: M·N floats, all written).
 * `c` must not alias any other binding.
 */
export function matmulKernel(o: MatmulOptions): KernelSource {
  const { M, N, K, transA, transB } = o;
  checkSize('M', M);
  checkSize('N', N);
  checkSize('K', K);
  if (o.style === 'direct') return directMatmul(o);
  const b = o.block ?? matmulBlock(M, N);
  const BM = T * b;
  const BN = T * b;
  // Row strides of the staged tiles, padded by one to spread the strided stores over memory banks.
  const SA = BM + 1;
  const SB = BN + 1;
  const workgroups: [number, number, number] = [Math.ceil(N / BN), Math.ceil(M / BM), 1];
  if (workgroups[0] > 65535 || workgroups[1] > 65535) throw new Error(`matmul: ${M}×${N} needs too many workgroups`);

  const bindings = matmulBindings(o);

  const lines: string[] = [];
  // Stage A's tile: As[kk * SA + mm] = op(A)[m0 + mm, k0 + kk], BM·16 values, b per invocation.
  for (let r = 0; r < b; r++) {
    const split = transA ? `let mm = e % ${BM}u; let kk = e / ${BM}u;` : `let kk = e % ${T}u; let mm = e / ${T}u;`;
    const index = transA ? `k * M + m` : `m * K + k`;
    lines.push(`    {
      let e = li + ${T * T * r}u;
      ${split}
      let m = m0 + mm;
      let k = k0 + kk;
      var v = 0.0;
      if (m < M && k < K) { v = a[${index}]; }
      As[kk * ${SA}u + mm] = v;
    }`);
  }
  // Stage B's tile: Bs[kk * SB + nn] = op(B)[k0 + kk, n0 + nn].
  for (let r = 0; r < b; r++) {
    const split = transB ? `let kk = e % ${T}u; let nn = e / ${T}u;` : `let nn = e % ${BN}u; let kk = e / ${BN}u;`;
    const index = transB ? `n * K + k` : `k * N + n`;
    lines.push(`    {
      let e = li + ${T * T * r}u;
      ${split}
      let n = n0 + nn;
      let k = k0 + kk;
      var v = 0.0;
      if (n < N && k < K) { v = b[${index}]; }
      Bs[kk * ${SB}u + nn] = v;
    }`);
  }
  const accDecl: string[] = [];
  const inner: string[] = [];
  const epilogue: string[] = [];
  for (let i = 0; i < b; i++) inner.push(`      let a${i} = As[kk * ${SA}u + ty + ${T * i}u];`);
  for (let j = 0; j < b; j++) inner.push(`      let b${j} = Bs[kk * ${SB}u + tx + ${T * j}u];`);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      accDecl.push(`  var acc${i}${j} = 0.0;`);
      inner.push(`      acc${i}${j} = fma(a${i}, b${j}, acc${i}${j});`);
      const steps = [`var v = acc${i}${j};`];
      if (o.bias) steps.push('v += bias[n];');
      if (o.act) steps.push('v = act(v);');
      if (o.dact) steps.push('v *= dact(aux[m * N + n]);');
      epilogue.push(`  {
    let m = m0 + ty + ${T * i}u;
    let n = n0 + tx + ${T * j}u;
    if (m < M && n < N) { ${steps.join(' ')} c[m * N + n] = v; }
  }`);
    }
  }

  const code = `${declareBindings(bindings)}
${o.act ? actFn('act', o.act, o.alpha) : ''}
${o.dact ? dactFn('dact', o.dact.act, o.dact.alpha) : ''}
const M = ${M}u;
const N = ${N}u;
const K = ${K}u;
var<workgroup> As: array<f32, ${SA * T}>;
var<workgroup> Bs: array<f32, ${SB * T}>;
@compute @workgroup_size(${T}, ${T}, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let m0 = wg.y * ${BM}u;
  let n0 = wg.x * ${BN}u;
  let tx = lid.x;
  let ty = lid.y;
${accDecl.join('\n')}
  for (var k0 = 0u; k0 < K; k0 += ${T}u) {
${lines.join('\n')}
    workgroupBarrier();
    let kEnd = ${K % T === 0 ? `${T}u` : `min(${T}u, K - k0)`};
    for (var kk = 0u; kk < kEnd; kk++) {
${inner.join('\n')}
    }
    workgroupBarrier();
  }
${epilogue.join('\n')}
}`;
  return { label: o.label ?? `matmul${transA ? '.tA' : ''}${transB ? '.tB' : ''}`, code, bindings, workgroups };
}

/** Bindings of a product with the options' epilogue, in the documented order. */
function matmulBindings(o: MatmulOptions): BindingSpec[] {
  const bindings: BindingSpec[] = [
    { name: 'a', access: 'read' },
    { name: 'b', access: 'read' },
  ];
  if (o.bias) bindings.push({ name: 'bias', access: 'read' });
  if (o.dact) bindings.push({ name: 'aux', access: 'read' });
  bindings.push({ name: 'c', access: 'read_write' });
  return bindings;
}

const DR = 4; // rows of C per invocation (direct style)
const DC = 4; // columns of C per invocation (direct style)

/** The 'direct' style: one invocation per 4×4 block of C, operands read from storage (clamped at the edges). */
function directMatmul(o: MatmulOptions): KernelSource {
  const { M, N, K, transA, transB } = o;
  const bindings = matmulBindings(o);
  const aAt = (m: string): string => (transA ? `a[k * M + ${m}]` : `a[${m} * K + k]`);
  const bAt = (n: string): string => (transB ? `b[${n} * K + k]` : `b[k * N + ${n}]`);
  const gx = Math.ceil(N / DC);
  const blocks = gx * Math.ceil(M / DR);
  const decl: string[] = [];
  const inner: string[] = [];
  const store: string[] = [];
  for (let i = 0; i < DR; i++) inner.push(`    let a${i} = ${aAt(`min(m0 + ${i}u, M - 1u)`)};`);
  for (let j = 0; j < DC; j++) inner.push(`    let b${j} = ${bAt(`min(n0 + ${j}u, N - 1u)`)};`);
  for (let i = 0; i < DR; i++) {
    for (let j = 0; j < DC; j++) {
      decl.push(`  var acc${i}${j} = 0.0;`);
      inner.push(`    acc${i}${j} = fma(a${i}, b${j}, acc${i}${j});`);
      const steps = [`var v = acc${i}${j};`];
      if (o.bias) steps.push('v += bias[n];');
      if (o.act) steps.push('v = act(v);');
      if (o.dact) steps.push('v *= dact(aux[m * N + n]);');
      store.push(`  { let m = m0 + ${i}u; let n = n0 + ${j}u; if (m < M && n < N) { ${steps.join(' ')} c[m * N + n] = v; } }`);
    }
  }
  const code = `${declareBindings(bindings)}
${o.act ? actFn('act', o.act, o.alpha) : ''}
${o.dact ? dactFn('dact', o.dact.act, o.dact.alpha) : ''}
const M = ${M}u;
const N = ${N}u;
const K = ${K}u;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let t = ${flatIndex(64)};
  if (t >= ${blocks}u) { return; }
  let n0 = (t % ${gx}u) * ${DC}u;
  let m0 = (t / ${gx}u) * ${DR}u;
${decl.join('\n')}
  for (var k = 0u; k < K; k++) {
${inner.join('\n')}
  }
${store.join('\n')}
}`;
  return { label: o.label ?? `matmul.direct${transA ? '.tA' : ''}${transB ? '.tB' : ''}`, code, bindings, workgroups: groups1d(blocks, 64) };
}
