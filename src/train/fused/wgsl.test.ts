import { describe, expect, it } from 'vitest';
import { actFn, actRef, dactFn, declareBindings, f32, groups1d, flatIndex, type FusedActivation, type KernelSource } from './wgsl';
import { download, gpuAvailable, runKernel, testDevice, upload } from './testDevice';

const ACTS: FusedActivation[] = ['linear', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'elu', 'selu', 'softplus'];

describe('wgsl helpers', () => {
  it('writes float literals WGSL accepts', () => {
    expect(f32(1)).toBe('1.0');
    expect(f32(0.25)).toBe('0.25');
    expect(f32(1e-7)).toBe('1e-7');
    expect(() => f32(NaN)).toThrow();
  });

  it('splits large 1-D dispatches over y', () => {
    expect(groups1d(100, 64)).toEqual([2, 1, 1]);
    const [x, y] = groups1d(64 * 70000, 64);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y).toBeGreaterThanOrEqual(70000);
  });

  it('activations and their derivatives on the GPU match closed forms and finite differences', async ({ skip }) => {
    if (!(await gpuAvailable())) skip();
    const device = (await testDevice()) as GPUDevice;
    const zs = Float32Array.from([-3, -1.5, -0.4, -0.01, 0.01, 0.3, 1.2, 2.5, 4]);
    const n = zs.length;
    for (const act of ACTS) {
      const bindings = [
        { name: 'z', access: 'read' as const },
        { name: 'y', access: 'read_write' as const },
        { name: 'd', access: 'read_write' as const },
      ];
      const kernel: KernelSource = {
        label: `act.${act}`,
        bindings,
        workgroups: groups1d(n, 64),
        code: `${declareBindings(bindings)}
${actFn('act', act, 0.1)}
${dactFn('dact', act, 0.1)}
@compute @workgroup_size(64) fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = ${flatIndex(64)};
  if (i >= ${n}u) { return; }
  let out = act(z[i]);
  y[i] = out;
  d[i] = dact(out);
}`,
      };
      const zb = upload(device, zs);
      const yb = upload(device, n);
      const db = upload(device, n);
      await runKernel(device, kernel, [zb, yb, db]);
      const y = await download(device, yb, n);
      const d = await download(device, db, n);
      for (let i = 0; i < n; i++) {
        const z = zs[i];
        expect(y[i], `${act}(${z})`).toBeCloseTo(actRef(act, z, 0.1), 5);
        const h = 1e-3;
        const fd = (actRef(act, z + h, 0.1) - actRef(act, z - h, 0.1)) / (2 * h);
        expect(d[i], `${act}'(${z})`).toBeCloseTo(fd, 3);
      }
      [zb, yb, db].forEach((b) => b.destroy());
    }
  });
});
