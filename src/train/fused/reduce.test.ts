import { describe, expect, it } from 'vitest';
import { colSumKernels, sumPlan, type OpKernels } from './reduce';
import { download, gpuAvailable, randomArray, runKernel, testDevice, upload } from './testDevice';

/** Runs an op's kernels in order, binding each kernel's bindings by name from `buffers`. */
async function runOp(device: GPUDevice, op: OpKernels, buffers: Record<string, GPUBuffer>): Promise<void> {
  for (const kernel of op.kernels) {
    await runKernel(
      device,
      kernel,
      kernel.bindings.map((b) => {
        const buffer = buffers[b.name];
        if (!buffer) throw new Error(`${kernel.label}: no buffer '${b.name}'`);
        return buffer;
      }),
    );
  }
}

describe('column sums', () => {
  it('splits big sums into two passes and small ones into one', () => {
    expect(colSumKernels(8, 256).kernels).toHaveLength(1);
    const big = colSumKernels(256 * 28 * 28, 1);
    expect(big.kernels.map((k) => k.bindings.map((b) => `${b.name}:${b.access}`))).toEqual([
      ['x:read', 'partial:read_write'],
      ['partial:read', 'out:read_write'],
    ]);
    expect(big.scratch.partial).toBe(sumPlan(256 * 28 * 28, 1).chunks);
    expect(big.kernels[0].workgroups[0]).toBeGreaterThan(100); // parallel even with one column
    expect(big.scratch.partial).toBeLessThanOrEqual(256);
    expect(colSumKernels(256 * 28 * 28, 64).scratch.partial).toBeLessThanOrEqual(256 * 64);
  });

  it('matches float64 sums (relative 1e-5 of Σ|x|) for edge shapes', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    const shapes: Array<[number, number]> = [
      [1, 1],
      [1, 5],
      [7, 1],
      [33, 3],
      [100, 64],
      [257, 65],
      [3000, 1],
      [2053, 7],
      [4 * 14 * 14, 16],
      [40000, 2],
      [256 * 28 * 28, 1],
      [9, 130],
    ];
    for (const [rows, cols] of shapes) {
      const x = randomArray(rows * cols, rows + cols, -1, 3);
      const op = colSumKernels(rows, cols);
      const buffers: Record<string, GPUBuffer> = { x: upload(device, x), out: upload(device, randomArray(cols, 5, 1e6, 2e6)) };
      for (const [name, size] of Object.entries(op.scratch)) buffers[name] = upload(device, size);
      await runOp(device, op, buffers);
      const got = await download(device, buffers.out, cols);
      Object.values(buffers).forEach((b) => b.destroy());
      for (let c = 0; c < cols; c++) {
        let want = 0;
        let abs = 0;
        for (let r = 0; r < rows; r++) {
          want += x[r * cols + c];
          abs += Math.abs(x[r * cols + c]);
        }
        if (!(Math.abs(got[c] - want) <= 1e-5 * abs + 1e-6)) expect.fail(`[${rows}, ${cols}] out[${c}] = ${got[c]}, want ${want}`);
      }
    }
  });
});
