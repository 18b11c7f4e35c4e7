/**
 * Our WASM SIMD kernels (assembly/kernels.ts, built into simdWasm.ts) instantiated on tfjs-wasm's own
 * memory: they read and write tensors where the wasm backend keeps them (a tensor's memoryOffset), with
 * no copies and no allocation of their own. One instance per backend memory, made on first use.
 *
 * Null where they cannot run: a backend that is not tfjs-wasm, or an engine without WebAssembly SIMD
 * (tfjs-wasm then runs its non-SIMD build, and the module fails to compile); callers fall back to the
 * XNNPACK-based paths.
 */
import { SIMD_WASM_BASE64, SIMD_WASM_SHARED_BASE64 } from './simdWasm';

type Ptr = number;

/** The exports of assembly/kernels.ts (pointers are byte offsets into the wasm heap). */
export interface SimdKernels {
  convForwardCo1(
    x: Ptr, w: Ptr, bias: Ptr, out: Ptr,
    N: number, H: number, W: number, Ci: number, Ho: number, Wo: number,
    KH: number, KW: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  convInputGradCi1(
    dy: Ptr, w: Ptr, dx: Ptr,
    N: number, H: number, W: number, Ho: number, Wo: number, Co: number,
    KH: number, KW: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  convInputGradCo1(
    dy: Ptr, w: Ptr, dx: Ptr,
    N: number, H: number, W: number, Ci: number, Ho: number, Wo: number,
    KH: number, KW: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  convFilterGrad(
    x: Ptr, dy: Ptr, dw: Ptr, scratch: Ptr,
    N: number, H: number, W: number, Ci: number, Ho: number, Wo: number, Co: number,
    KH: number, KW: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  maxPoolGradDisjoint(
    x: Ptr, dy: Ptr, dx: Ptr,
    N: number, H: number, W: number, C: number, Ho: number, Wo: number,
    KH: number, KW: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  adamStep(
    value: Ptr, g: Ptr, m: Ptr, v: Ptr, outValue: Ptr, outM: Ptr, outV: Ptr, n: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, c1: number, c2: number, negLr: number, eps: number,
  ): void;
  gemmNN(a: Ptr, b: Ptr, c: Ptr, M: number, K: number, N: number, ars: number, acs: number): void;
  gemmNT(a: Ptr, b: Ptr, c: Ptr, M: number, K: number, N: number): void;
  upsampleNearest(x: Ptr, out: Ptr, N: number, H: number, W: number, C: number, fy: number, fx: number): void;
  bceSum(t: Ptr, o: Ptr, n: number, eps: number): number;
  bceGrad(t: Ptr, o: Ptr, dOut: Ptr, dTarget: Ptr, n: number, eps: number, scale: number): void;
}

const EXPORTS: readonly (keyof SimdKernels)[] = [
  'convForwardCo1',
  'convInputGradCi1',
  'convInputGradCo1',
  'convFilterGrad',
  'maxPoolGradDisjoint',
  'adamStep',
  'gemmNN',
  'gemmNT',
  'upsampleNearest',
  'bceSum',
  'bceGrad',
];

/** The compiled module per memory kind: plain (one-thread tfjs-wasm) or shared (its threaded build). */
const compiled = new Map<boolean, WebAssembly.Module | null>();
/** Why the module did not compile (no WebAssembly SIMD; or, on an old Chrome's main thread, its size). */
let compileError: string | null = null;
const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

function compileOnce(shared: boolean): WebAssembly.Module | null {
  const known = compiled.get(shared);
  if (known !== undefined) return known;
  let mod: WebAssembly.Module | null = null;
  try {
    const bin = atob(shared ? SIMD_WASM_SHARED_BASE64 : SIMD_WASM_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    // ~11 KB, compiled synchronously: fine in workers (where training runs) and Node, and on a page's
    // main thread up to 8 MB in today's Chrome (4 KB before ~2023: there it throws, and we fall back).
    mod = new WebAssembly.Module(bytes);
  } catch (e) {
    compileError = e instanceof Error ? e.message : String(e);
  }
  compiled.set(shared, mod);
  return mod;
}

/** Why our SIMD kernels cannot run here, or null if they can (or were not tried yet). */
export function simdCompileError(): string | null {
  return compileError;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/**
 * tfjs-wasm's WebAssembly.Memory: the emscripten module's exported memory (`backend.wasm.asm.memory`), or
 * in the threaded build, where the module imports a shared memory made in JavaScript, `wasm.wasmMemory`.
 */
export function wasmBackendMemory(backend: unknown): WebAssembly.Memory | null {
  if (!isRecord(backend) || !isRecord(backend.wasm)) return null;
  const mod = backend.wasm;
  const asm = mod.asm;
  const mem = (isRecord(asm) ? asm.memory : undefined) ?? mod.wasmMemory;
  return mem instanceof WebAssembly.Memory ? mem : null;
}

/** The kernels bound to this wasm backend's memory, or null where they cannot run. */
export function simdKernelsFor(backend: unknown): SimdKernels | null {
  const memory = wasmBackendMemory(backend);
  if (memory == null) return null;
  const known = instances.get(memory);
  if (known != null) return known;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const mod = compileOnce(shared);
  if (mod == null) return null;
  const instance = new WebAssembly.Instance(mod, { env: { memory } });
  const ex = instance.exports;
  const kernels = {} as Record<keyof SimdKernels, unknown>;
  for (const name of EXPORTS) {
    const f = ex[name];
    if (typeof f !== 'function') throw new Error(`SIMD module lacks ${name}`);
    kernels[name] = f;
  }
  const out = kernels as SimdKernels;
  instances.set(memory, out);
  return out;
}

/** Byte offset of a wasm tensor in the heap (the backend's record of it), or null if unknown. */
export function heapOffset(backend: unknown, dataId: object): number | null {
  if (!isRecord(backend) || !isRecord(backend.dataIdMap)) return null;
  const map = backend.dataIdMap;
  if (typeof map.get !== 'function') return null;
  const rec: unknown = (map.get as (k: object) => unknown).call(map, dataId);
  return isRecord(rec) && typeof rec.memoryOffset === 'number' ? rec.memoryOffset : null;
}

/** A wasm tensor's byte offset in the heap, for our kernels; throws for a tensor the backend does not hold. */
export function heapPtr(backend: unknown, t: { dataId: object }): number {
  const p = heapOffset(backend, t.dataId);
  if (p == null) throw new Error('wasm tensor without a heap offset');
  return p;
}
