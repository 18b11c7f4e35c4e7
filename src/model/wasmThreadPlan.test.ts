import { describe, expect, it } from 'vitest';
import { findPreset } from './presets';
import type { ExperimentSpec, LayerSpec } from './spec';
import { THREADS_FROM_MACS, simdCoversConv, wasmThreadPlan, xnnpackConvMacs } from './wasmThreadPlan';

const MNIST = [28, 28, 1];
const preset = (id: string): ExperimentSpec => {
  const p = findPreset(id);
  if (!p) throw new Error(id);
  return p.spec;
};
const conv = (filters: number, strides = 1): LayerSpec => ({ kind: 'conv2d', filters, kernelSize: 3, strides, padding: 'same', activation: 'relu' });

describe('wasmThreadPlan (#19: XNNPACK threads only where its convolutions carry the step)', () => {
  it('counts the multiply-adds of the convolutions our SIMD kernels leave to XNNPACK (hand-computed)', () => {
    // The wiki model: 1→64 at 28×28 (one input channel: ours), 64→64 at 14×14, at 7×7 and again at 14×14
    // (XNNPACK), 64→1 at 28×28 (ours): (196 + 49 + 196) positions × 9 taps × 64 × 64.
    expect(xnnpackConvMacs(preset('wiki-5-layer'), MNIST)).toBe(441 * 9 * 64 * 64);
    expect(xnnpackConvMacs(preset('dense'), MNIST)).toBe(0);
    // 10×10×3 → conv 16 (3 input channels: ours) → conv 32 stride 2 (16→32 at 5×5: 25·9·16·32) →
    // transposed conv 32 stride 2 (32→32 from 5×5 input positions: 25·9·32·32).
    const spec = {
      encoder: [conv(16), conv(32, 2)],
      decoder: [{ kind: 'conv2dTranspose', filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' } as LayerSpec],
    };
    expect(xnnpackConvMacs(spec, [10, 10, 3])).toBe(25 * 9 * 16 * 32 + 25 * 9 * 32 * 32);
  });

  it('follows the SIMD filter-gradient rule: few channels on either side, or a small product', () => {
    expect(simdCoversConv(1, 64)).toBe(true);
    expect(simdCoversConv(64, 4)).toBe(true);
    expect(simdCoversConv(16, 16)).toBe(true); // 256
    expect(simdCoversConv(16, 17)).toBe(false);
    expect(simdCoversConv(64, 64)).toBe(false);
  });

  it('gives the 64-kernel model a thread pool, and the small conv and dense models one thread', () => {
    expect(wasmThreadPlan(preset('wiki-5-layer'), MNIST, 2, true).threads).toBe(2);
    expect(xnnpackConvMacs(preset('default'), MNIST)).toBeLessThan(THREADS_FROM_MACS);
    expect(wasmThreadPlan(preset('default'), MNIST, 2, true)).toMatchObject({ threads: 1, reason: expect.stringMatching(/small/) });
    expect(wasmThreadPlan(preset('dense'), MNIST, 16, true).threads).toBe(1);
  });

  it('sizes the pool as half the logical cores, between 2 and 8', () => {
    const wiki = preset('wiki-5-layer');
    expect([2, 4, 6, 16, 64].map((cores) => wasmThreadPlan(wiki, MNIST, cores, true).threads)).toEqual([2, 2, 3, 8, 8]);
    expect(wasmThreadPlan(wiki, MNIST, 1, true).threads).toBe(1);
  });

  it('stays on one thread where the page is not cross-origin isolated, and says why', () => {
    expect(wasmThreadPlan(preset('wiki-5-layer'), MNIST, 16, false)).toMatchObject({ threads: 1, reason: expect.stringMatching(/cross-origin isolated/) });
  });
});
