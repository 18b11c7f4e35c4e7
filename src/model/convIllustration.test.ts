import { describe, expect, it } from 'vitest';
import { illustrate, outputCoverage, settingsFromLayer, type Illustration, type IllustrationSettings } from './convIllustration';
import { inferShapes } from './inferShapes';
import { PADDINGS, type LayerSpec } from './spec';

function ok(s: IllustrationSettings): Illustration {
  const r = illustrate(s);
  if (!r.ok) throw new Error(r.error);
  return r.illustration;
}

/** The shape inference of one layer on an n×n×1 input (the editor's numbers). */
function inferred(layer: LayerSpec, n: number): number[] | null {
  const info = inferShapes({ encoder: [layer], decoder: [] }, [n, n, 1]).layers[0];
  return info.error ? null : info.outputShape;
}

const rowStarts = (ill: Illustration): number[] => ill.axis.starts;

describe('convolution illustration: output size equals shape inference', () => {
  it('for every kernel 1-5, stride 1-3, padding, input 4-9, conv and transposed conv', () => {
    let compared = 0;
    for (const mode of ['conv', 'transposed'] as const) {
      for (let kernel = 1; kernel <= 5; kernel++) {
        for (let stride = 1; stride <= 3; stride++) {
          for (const padding of PADDINGS) {
            for (let size = 4; size <= 9; size++) {
              const layer: LayerSpec = { kind: mode === 'conv' ? 'conv2d' : 'conv2dTranspose', filters: 3, kernelSize: kernel, strides: stride, padding, activation: 'linear' };
              const shape = inferred(layer, size);
              const r = illustrate({ mode, size, kernel, stride, padding });
              const label = `${mode} k${kernel} s${stride} ${padding} in ${size}`;
              if (shape === null) {
                expect(r.ok, label).toBe(false);
                continue;
              }
              expect(r.ok, label).toBe(true);
              if (!r.ok) continue;
              const ill = r.illustration;
              expect([ill.outSize, ill.outSize, 3], label).toEqual(shape);
              // The frames fill exactly the output grid: conv computes each output cell once.
              const steps = mode === 'conv' ? ill.outSize ** 2 : size ** 2;
              expect(ill.frames.length, label).toBe(steps);
              expect(ill.formula.endsWith(`= ${ill.outSize}`) || ill.formula.includes(`= ${ill.outSize} `), label).toBe(true);
              compared++;
            }
          }
        }
      }
    }
    // 2 modes × 5 × 3 × 2 × 6 = 360 cases, minus the valid convolutions whose kernel is wider than the input (5 on 4).
    expect(compared).toBe(360 - 3);
  });
});

describe('convolution illustration: where the kernel goes', () => {
  it('same padding pads the smaller half before, as TensorFlow does (hand-computed)', () => {
    // 5 cells, kernel 3, stride 2: out = ceil(5/2) = 3; padding (3−1)·2 + 3 − 5 = 2 → 1 before, 1 after.
    const a = ok({ mode: 'conv', size: 5, kernel: 3, stride: 2, padding: 'same' });
    expect([a.outSize, a.axis.before, a.axis.after]).toEqual([3, 1, 1]);
    expect(rowStarts(a)).toEqual([-1, 1, 3]);
    // Kernel 4, stride 1: padding 3 → 1 before, 2 after.
    const b = ok({ mode: 'conv', size: 5, kernel: 4, stride: 1, padding: 'same' });
    expect([b.outSize, b.axis.before, b.axis.after]).toEqual([5, 1, 2]);
    expect(rowStarts(b)).toEqual([-1, 0, 1, 2, 3]);
    // Valid: no padding, 7 cells, kernel 3, stride 2 → floor(4/2) + 1 = 3 windows at 0, 2, 4.
    const c = ok({ mode: 'conv', size: 7, kernel: 3, stride: 2, padding: 'valid' });
    expect([c.outSize, c.axis.before, c.axis.after]).toEqual([3, 0, 0]);
    expect(rowStarts(c)).toEqual([0, 2, 4]);
    // The first frame of (a) covers the padded corner: rows/cols −1..1.
    expect(a.frames[0].window).toHaveLength(9);
    expect(a.frames[0].window[0]).toEqual({ row: -1, col: -1 });
    expect(a.frames[0].window[8]).toEqual({ row: 1, col: 1 });
  });

  it('transposed conv stamps the kernel stride apart and same crops the scatter (hand-computed)', () => {
    // 3 cells, kernel 3, stride 2: scatter 0..6 (7 cells); valid keeps 7, same keeps 6 (crops 1 at the end).
    const v = ok({ mode: 'transposed', size: 3, kernel: 3, stride: 2, padding: 'valid' });
    expect([v.outSize, v.axis.before, v.axis.after]).toEqual([7, 0, 0]);
    expect(rowStarts(v)).toEqual([0, 2, 4]);
    const s = ok({ mode: 'transposed', size: 3, kernel: 3, stride: 2, padding: 'same' });
    expect([s.outSize, s.axis.before, s.axis.after]).toEqual([6, 0, 1]);
    // Kernel 4, stride 2: scatter of 8, same keeps 6: one cropped each side.
    const e = ok({ mode: 'transposed', size: 3, kernel: 4, stride: 2, padding: 'same' });
    expect([e.outSize, e.axis.before, e.axis.after]).toEqual([6, 1, 1]);
    expect(rowStarts(e)).toEqual([-1, 1, 3]);
    // Kernel 1, stride 3 (kernel < stride): stamps at 0, 3, 6 with gaps; the output is still 3 × 3 = 9 long.
    const g = ok({ mode: 'transposed', size: 3, kernel: 1, stride: 3, padding: 'valid' });
    expect([g.outSize, g.axis.after]).toEqual([9, 0]);
    expect(rowStarts(g)).toEqual([0, 3, 6]);
  });

  it('overlapping stamps add up: kernel 3, stride 2 on 3 cells gives 1 1 2 1 2 1 1 per axis', () => {
    const v = ok({ mode: 'transposed', size: 3, kernel: 3, stride: 2, padding: 'valid' });
    const perAxis = [1, 1, 2, 1, 2, 1, 1];
    const expected = perAxis.flatMap((r) => perAxis.map((c) => r * c));
    expect(outputCoverage(v, v.frames.length)).toEqual(expected);
    // After the first stamp only the top-left 3×3 is covered.
    const first = outputCoverage(v, 1);
    expect(first.reduce((a, b) => a + b, 0)).toBe(9);
    expect(first[0] + first[2 * 7 + 2]).toBe(2);
    expect(first[3]).toBe(0);
  });

  it('is the transpose of the convolution: the same windows, read the other way', () => {
    // A transposed conv on n cells undoes the shapes of the conv with the same kernel, stride and padding on
    // its output: that conv maps outSize cells to n, with its window for output i starting where the
    // transposed conv stamps input i. (For valid, when kernel ≥ stride.)
    for (let kernel = 1; kernel <= 5; kernel++) {
      for (let stride = 1; stride <= 3; stride++) {
        for (const padding of PADDINGS) {
          if (padding === 'valid' && kernel < stride) continue;
          for (let n = 3; n <= 8; n++) {
            const t = ok({ mode: 'transposed', size: n, kernel, stride, padding });
            if (t.outSize > 16) continue; // beyond what the illustration draws
            const r = illustrate({ mode: 'conv', size: t.outSize, kernel, stride, padding });
            const label = `k${kernel} s${stride} ${padding} n${n}`;
            expect(r.ok, label).toBe(true);
            if (!r.ok) continue;
            expect(r.illustration.outSize, label).toBe(n);
            expect(r.illustration.axis.starts, label).toEqual(t.axis.starts);
          }
        }
      }
    }
  });

  it('conv frames fill every output cell exactly once, in reading order', () => {
    const a = ok({ mode: 'conv', size: 6, kernel: 3, stride: 2, padding: 'same' });
    expect(outputCoverage(a, 0).every((v) => v === 0)).toBe(true);
    expect(outputCoverage(a, a.frames.length)).toEqual(new Array<number>(9).fill(1));
    expect(a.frames.map((f) => f.active.row * 3 + f.active.col)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('refuses what it cannot draw', () => {
    expect(illustrate({ mode: 'conv', size: 4, kernel: 5, stride: 1, padding: 'valid' }).ok).toBe(false);
    expect(illustrate({ mode: 'conv', size: 40, kernel: 3, stride: 1, padding: 'same' }).ok).toBe(false);
    expect(illustrate({ mode: 'conv', size: 5, kernel: 3, stride: 0, padding: 'same' }).ok).toBe(false);
    expect(illustrate({ mode: 'conv', size: 5.5, kernel: 3, stride: 1, padding: 'same' }).ok).toBe(false);
  });

  it('takes its fields from a layer: exact when the layer’s input fits, else a 7-cell grid', () => {
    const l = { kind: 'conv2dTranspose', kernelSize: 3, strides: 2, padding: 'same' } as const;
    expect(settingsFromLayer(l, 7)).toEqual({ settings: { mode: 'transposed', size: 7, kernel: 3, stride: 2, padding: 'same' }, exact: true });
    expect(settingsFromLayer({ ...l, kind: 'conv2d' }, 28)).toEqual({ settings: { mode: 'conv', size: 7, kernel: 3, stride: 2, padding: 'same' }, exact: false });
    expect(settingsFromLayer({ ...l, kernelSize: 9 }, 7).exact).toBe(false);
  });
});
