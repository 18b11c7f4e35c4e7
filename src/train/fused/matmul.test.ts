import { describe, expect, it } from 'vitest';
import { matmulBlock, matmulKernel, type MatmulOptions } from './matmul';
import { actRef, dactRef, type FusedActivation } from './wgsl';
import { download, gpuAvailable, randomArray, runKernel, testDevice, upload } from './testDevice';

interface Case extends MatmulOptions {
  seed?: number;
}

/**
 * Runs the kernel on random inputs and checks it against float64 loops. Tolerance per element:
 * 1e-5 · (Σ_k |a·b| + |bias| + 1) · L, L the epilogue's Lipschitz bound (2 for act, times |dact| ≤ 2).
 */
async function check(device: GPUDevice, o: Case): Promise<void> {
  const { M, N, K, transA, transB } = o;
  const seed = o.seed ?? M * 1000 + N * 10 + K;
  const a = randomArray(M * K, seed);
  const b = randomArray(K * N, seed + 1);
  const bias = randomArray(N, seed + 2);
  const auxAct = o.dact?.act;
  // The aux values are outputs of the activation: keep them in its range, with exact zeros for relu.
  const aux = randomArray(M * N, seed + 3, auxAct === 'sigmoid' ? 0 : -1, 1).map((v, i) => (auxAct === 'relu' && i % 5 === 0 ? 0 : auxAct === 'relu' ? Math.abs(v) * (i % 2 ? 1 : -1) : v));
  const A = (m: number, k: number): number => (transA ? a[k * M + m] : a[m * K + k]);
  const B = (k: number, n: number): number => (transB ? b[n * K + k] : b[k * N + n]);
  const want = new Float64Array(M * N);
  const tol = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      let abs = 0;
      for (let k = 0; k < K; k++) {
        s += A(m, k) * B(k, n);
        abs += Math.abs(A(m, k) * B(k, n));
      }
      let v = s;
      if (o.bias) {
        v += bias[n];
        abs += Math.abs(bias[n]);
      }
      let lip = 1;
      if (o.act) {
        v = actRef(o.act, v, o.alpha);
        lip *= 2;
      }
      if (o.dact) {
        v *= dactRef(o.dact.act, aux[m * N + n], o.dact.alpha);
        lip *= 2;
      }
      want[m * N + n] = v;
      tol[m * N + n] = 1e-5 * (abs + 1) * lip;
    }
  }
  const kernel = matmulKernel(o);
  const buffers = [upload(device, a), upload(device, b)];
  if (o.bias) buffers.push(upload(device, bias));
  if (o.dact) buffers.push(upload(device, aux));
  const cb = upload(device, randomArray(M * N, 99, 1e6, 2e6)); // garbage: every element must be written
  buffers.push(cb);
  await runKernel(device, kernel, buffers);
  const got = await download(device, cb, M * N);
  buffers.forEach((x) => x.destroy());
  const name = `${kernel.label} M${M} N${N} K${K} block ${o.block ?? matmulBlock(M, N)} ${o.act ?? ''} ${o.dact?.act ?? ''}`;
  for (let i = 0; i < M * N; i++) {
    if (!(Math.abs(got[i] - want[i]) <= tol[i])) {
      expect.fail(`${name}: c[${i}] = ${got[i]}, want ${want[i]} (tolerance ${tol[i]})`);
    }
  }
}

describe('matmul kernel', () => {
  it('declares its bindings in order and picks blocks by size', () => {
    const k = matmulKernel({ M: 4, N: 4, K: 4, transA: false, transB: true, bias: true, dact: { act: 'relu' } });
    expect(k.bindings).toEqual([
      { name: 'a', access: 'read' },
      { name: 'b', access: 'read' },
      { name: 'bias', access: 'read' },
      { name: 'aux', access: 'read' },
      { name: 'c', access: 'read_write' },
    ]);
    expect(matmulKernel({ M: 4, N: 4, K: 4, transA: false, transB: false, dact: { act: 'relu' } }).bindings.map((b) => b.name)).toEqual(['a', 'b', 'aux', 'c']);
    expect(matmulBlock(8, 32)).toBe(1);
    expect(matmulBlock(784, 256)).toBe(2);
    expect(matmulBlock(1024, 1024)).toBe(4);
    expect(matmulKernel({ M: 100, N: 33, K: 5, transA: false, transB: false, block: 2 }).workgroups).toEqual([2, 4, 1]);
  });

  it('matches float64 loops for edge sizes and every transpose combination', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    const sizes: Array<[number, number, number]> = [
      [1, 1, 1],
      [1, 7, 3],
      [5, 1, 17],
      [17, 33, 19],
      [16, 16, 16],
      [3, 2, 40],
    ];
    for (const [M, N, K] of sizes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) await check(device, { M, N, K, transA, transB });
      }
    }
  });

  it('matches with every block size (4×4, 2×2, 1×1 outputs per invocation) at edge sizes', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    // Each case stages A and B in one of the four layouts; SwiftShader compiles the 4×4 kernels slowly, so fewer of those.
    const cases: Array<[1 | 2 | 4, number, number, number, boolean, boolean]> = [
      [1, 67, 45, 21, false, false],
      [1, 67, 45, 21, true, false],
      [1, 67, 45, 21, false, true],
      [1, 67, 45, 21, true, true],
      [1, 1, 70, 9, false, false],
      [2, 67, 45, 21, false, false],
      [2, 67, 45, 21, true, false],
      [2, 67, 45, 21, false, true],
      [2, 67, 45, 21, true, true],
      [2, 64, 64, 32, true, true],
      [4, 67, 45, 21, false, false],
      [4, 1, 70, 9, true, true],
      [4, 64, 64, 32, true, false],
      [4, 70, 3, 17, false, true],
    ];
    for (const [block, M, N, K, transA, transB] of cases) await check(device, { M, N, K, transA, transB, block });
  });

  it('fuses bias, activation and activation derivative', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    const acts: FusedActivation[] = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'elu', 'selu', 'softplus'];
    for (const act of acts) {
      // Forward: Y = act(X·W + b) (M = batch, K = in, N = out).
      await check(device, { M: 9, N: 13, K: 22, transA: false, transB: false, bias: true, act, alpha: 0.1 });
      // Input gradient: dX = (dZ·Wᵀ) ⊙ dact(Yprev).
      await check(device, { M: 9, N: 22, K: 13, transA: false, transB: true, dact: { act, alpha: 0.3 } });
    }
    await check(device, { M: 20, N: 18, K: 7, transA: false, transB: false, bias: true, act: 'tanh', dact: { act: 'relu' }, block: 2 });
    await check(device, { M: 20, N: 18, K: 7, transA: true, transB: true, bias: true, block: 4 });
  });

  it("the 'direct' style (no workgroup memory) matches too: edge sizes, transposes, epilogues", async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    for (const [M, N, K] of [
      [1, 1, 1],
      [5, 7, 3],
      [17, 33, 19],
      [32, 64, 40],
    ] as Array<[number, number, number]>) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) await check(device, { M, N, K, transA, transB, style: 'direct' });
      }
    }
    await check(device, { M: 9, N: 13, K: 22, transA: false, transB: false, bias: true, act: 'leakyRelu', alpha: 0.1, style: 'direct' });
    await check(device, { M: 9, N: 22, K: 13, transA: false, transB: true, dact: { act: 'sigmoid' }, style: 'direct' });
    await check(device, { M: 30, N: 12, K: 37, transA: true, transB: false, bias: true, act: 'tanh', dact: { act: 'relu' }, style: 'direct' });
  });

  it('computes dense-layer weight gradients (Xᵀ·dZ) for batches 8..256', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    for (const batch of [8, 37, 256]) await check(device, { M: 30, N: 12, K: batch, transA: true, transB: false });
    await check(device, { M: 150, N: 70, K: 20, transA: true, transB: false }); // auto block (2)
  });
});
