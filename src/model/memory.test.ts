import { describe, expect, it } from 'vitest';
import { inferShapes } from './inferShapes';
import { estimateMemory, formatBytes, MiB } from './memory';
import { DEFAULT_SPEC } from './presets';
import type { LayerSpec } from './spec';

describe('memory estimate', () => {
  it('the default model is small and fine', () => {
    const e = estimateMemory(inferShapes(DEFAULT_SPEC, [28, 28, 1]), 32, 'adam');
    expect(e.level).toBe('ok');
    expect(e.totalBytes).toBeLessThan(50 * MiB);
    expect(e.paramBytes).toBe(3797 * 4 * 4);
  });
  it('refuses a layer whose output cannot fit, and warns on a large model', () => {
    const huge: LayerSpec = { kind: 'conv2d', filters: 512, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' };
    const r = inferShapes({ encoder: [huge], decoder: [{ kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' }] }, [28, 28, 1]);
    const refuse = estimateMemory(r, 1024, 'adam');
    expect(refuse.level).toBe('refuse');
    expect(refuse.message).toMatch(/one layer's output needs 1\.5 GiB at batch size 1024/);
    expect(estimateMemory(r, 256, 'adam').level).toBe('warn');
    expect(estimateMemory(r, 16, 'adam').level).toBe('ok');
  });
  it('formats bytes', () => {
    expect(formatBytes(512)).toBe('1 KiB');
    expect(formatBytes(3 * MiB)).toBe('3.0 MiB');
    expect(formatBytes(2048 * MiB)).toBe('2.0 GiB');
  });
});
