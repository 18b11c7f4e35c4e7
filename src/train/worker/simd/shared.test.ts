import { describe, expect, it } from 'vitest';
import { simdKernelsFor } from './simd';

/** tfjs-wasm's threaded build makes its memory so (emscripten: 4 GiB maximum, shared). */
const sharedMemory = (): WebAssembly.Memory => new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });

function gemmOn(memory: WebAssembly.Memory, a: Float32Array, b: Float32Array, M: number, K: number, N: number): Float32Array {
  // A fake backend: simd.ts reads only the emscripten module's memory (the threaded build's `wasmMemory`).
  const kernels = simdKernelsFor({ wasm: { wasmMemory: memory } });
  if (!kernels) throw new Error('the SIMD module did not instantiate');
  const heap = new Float32Array(memory.buffer);
  const pa = 1024;
  const pb = pa + a.length * 4;
  const pc = pb + b.length * 4;
  heap.set(a, pa / 4);
  heap.set(b, pb / 4);
  kernels.gemmNN(pa, pb, pc, M, K, N, K, 1);
  return heap.slice(pc / 4, pc / 4 + M * N);
}

describe('the SIMD module on a shared memory (tfjs-wasm threaded build, #19)', () => {
  it('links to a shared memory (the shared variant) and to a plain one, and both compute a·b as a naive loop does', () => {
    const M = 5;
    const K = 19;
    const N = 13; // remainders of the 8- and 4-wide blocks
    let s = 7;
    const rnd = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    const a = Float32Array.from({ length: M * K }, rnd);
    const b = Float32Array.from({ length: K * N }, rnd);
    const want = new Float64Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) want[i * N + j] += a[i * K + k] * b[k * N + j];
    const shared = sharedMemory();
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    const onShared = gemmOn(shared, a, b, M, K, N);
    const onPlain = gemmOn(new WebAssembly.Memory({ initial: 32 }), a, b, M, K, N);
    want.forEach((w, i) => {
      expect(onShared[i]).toBeCloseTo(w, 4);
      expect(onPlain[i]).toBeCloseTo(w, 4);
    });
  });
});
