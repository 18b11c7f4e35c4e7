/** Fitting architectures to another image shape (#17): presets on 32×32 RGB, and what adaptToShape leaves alone. */
import { describe, expect, it } from 'vitest';
import { adaptToShape } from './adaptShape';
import { inferShapes } from './inferShapes';
import { DEFAULT_SPEC, PRESETS, presetFor } from './presets';
import type { ExperimentSpec, LayerSpec } from './spec';

const conv = (filters: number, activation: 'relu' | 'linear' | 'sigmoid' = 'linear'): LayerSpec => ({
  kind: 'conv2d',
  filters,
  kernelSize: 3,
  strides: 1,
  padding: 'same',
  activation,
});

/**
 * Presets that cannot work on 32×32×3 images, with why. Every preset halves height and width at most
 * twice (32 → 16 → 8) and doubles back, and every dense / reshape names the whole image, so none is
 * expected here: an entry must say why.
 */
const NOT_FOR_32: Record<string, string> = {};

describe('presetFor on shapes-rgb (32×32×3)', () => {
  it.each(PRESETS.filter((p) => !(p.id in NOT_FOR_32)).map((p) => [p.id, p] as const))('preset %s infers with no errors and gives back 32×32×3', (_id, p) => {
    const spec = presetFor(p, 'shapes-rgb');
    expect(spec.dataset).toBe('shapes-rgb');
    const report = inferShapes(spec, [32, 32, 3]);
    expect(report.errors).toEqual([]);
    expect(report.error).toBeNull();
    expect(report.outputShape).toEqual([32, 32, 3]);
    // The last layer's output is the image again.
    expect(report.layers[report.layers.length - 1].outputShape).toEqual([32, 32, 3]);
    // The same number of layers, of the same kinds: only sizes change.
    expect(spec.encoder.map((l) => l.kind)).toEqual(p.spec.encoder.map((l) => l.kind));
    expect(spec.decoder.map((l) => l.kind)).toEqual(p.spec.decoder.map((l) => l.kind));
  });

  it('the original preset is not mutated and still infers on 28×28×1', () => {
    for (const p of PRESETS) {
      presetFor(p, 'shapes-rgb');
      expect(p.spec.dataset).toBe('mnist');
      expect(inferShapes(p.spec, [28, 28, 1]).outputShape).toEqual([28, 28, 1]);
    }
  });

  it('a preset loaded onto its own data set is the preset itself', () => {
    for (const p of PRESETS) expect(presetFor(p, p.spec.dataset)).toBe(p.spec);
  });

  it('a 28×28×1 data set keeps the layers unchanged (only the data set changes)', () => {
    for (const p of PRESETS) {
      const spec = presetFor(p, 'fashion-mnist');
      expect(spec.dataset).toBe('fashion-mnist');
      expect(spec.encoder).toEqual(p.spec.encoder);
      expect(spec.decoder).toEqual(p.spec.decoder);
    }
  });

  it('the dense preset gets 32·32·3 = 3072 output units and a reshape to [32, 32, 3]', () => {
    const dense = PRESETS.find((p) => p.id === 'dense');
    expect(dense).toBeDefined();
    if (!dense) return;
    const spec = presetFor(dense, 'shapes-rgb');
    expect(spec.decoder[1]).toMatchObject({ kind: 'dense', units: 3072 });
    expect(spec.decoder[2]).toEqual({ kind: 'reshape', targetShape: [32, 32, 3] });
    // The hidden layers, sized on purpose, keep their sizes.
    expect(spec.encoder[1]).toMatchObject({ kind: 'dense', units: 256 });
    expect(spec.encoder[2]).toMatchObject({ kind: 'dense', units: 32 });
    expect(spec.decoder[0]).toMatchObject({ kind: 'dense', units: 256 });
  });
});

describe('adaptToShape', () => {
  const base: ExperimentSpec = { ...DEFAULT_SPEC, encoder: [...DEFAULT_SPEC.encoder], decoder: [...DEFAULT_SPEC.decoder] };

  it('returns the same object when from equals to', () => {
    expect(adaptToShape(base, [28, 28, 1], [28, 28, 1])).toBe(base);
    expect(adaptToShape(base, [32, 32, 3], [32, 32, 3])).toBe(base);
  });

  it('returns the same object when nothing names the old shape', () => {
    const spec: ExperimentSpec = {
      ...base,
      encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 100, activation: 'relu' }],
      decoder: [{ kind: 'dense', units: 196, activation: 'relu' }, { kind: 'reshape', targetShape: [7, 7, 4] }, conv(8, 'sigmoid')],
    };
    expect(adaptToShape(spec, [28, 28, 1], [32, 32, 3])).toBe(spec);
  });

  it('leaves a dense of 100 units and a reshape to [7, 7, 4] alone, changes the 784-unit dense and the image reshape', () => {
    const spec: ExperimentSpec = {
      ...base,
      encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 100, activation: 'relu' }, { kind: 'dense', units: 196, activation: 'relu' }],
      decoder: [
        { kind: 'reshape', targetShape: [7, 7, 4] },
        { kind: 'flatten' },
        { kind: 'dense', units: 784, activation: 'sigmoid' },
        { kind: 'reshape', targetShape: [28, 28, 1] },
      ],
    };
    const out = adaptToShape(spec, [28, 28, 1], [32, 32, 3]);
    expect(out).not.toBe(spec);
    expect(out.encoder).toEqual(spec.encoder);
    expect(out.decoder[0]).toEqual({ kind: 'reshape', targetShape: [7, 7, 4] });
    expect(out.decoder[1]).toEqual({ kind: 'flatten' });
    expect(out.decoder[2]).toEqual({ kind: 'dense', units: 3072, activation: 'sigmoid' });
    expect(out.decoder[3]).toEqual({ kind: 'reshape', targetShape: [32, 32, 3] });
    // The input is not mutated.
    expect(spec.decoder[2]).toEqual({ kind: 'dense', units: 784, activation: 'sigmoid' });
    expect(spec.decoder[3]).toEqual({ kind: 'reshape', targetShape: [28, 28, 1] });
    expect(inferShapes(out, [32, 32, 3]).errors).toEqual([]);
  });

  it('changes only the decoder’s last conv filters (1 → 3), not an earlier decoder conv or an encoder conv with 1 filter', () => {
    const spec: ExperimentSpec = {
      ...base,
      encoder: [conv(1), { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 }],
      decoder: [conv(1), { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 }, conv(16, 'relu'), conv(1, 'sigmoid')],
    };
    const out = adaptToShape(spec, [28, 28, 1], [32, 32, 3]);
    expect(out.encoder).toEqual(spec.encoder);
    expect(out.decoder[0]).toEqual(conv(1));
    expect(out.decoder[1]).toEqual(spec.decoder[1]);
    expect(out.decoder[2]).toEqual(conv(16, 'relu'));
    expect(out.decoder[3]).toEqual(conv(3, 'sigmoid'));
    expect(spec.decoder[3]).toEqual(conv(1, 'sigmoid'));
    expect(inferShapes(out, [32, 32, 3]).outputShape).toEqual([32, 32, 3]);
  });

  it('finds the last conv behind shape-keeping layers (upsampling, activation)', () => {
    const spec: ExperimentSpec = {
      ...base,
      encoder: [conv(4), { kind: 'maxPool2d', poolSize: 2, strides: 2 }],
      decoder: [conv(1, 'linear'), { kind: 'upSampling2d', size: 2 }, { kind: 'activation', activation: 'sigmoid', alpha: 0.2 }],
    };
    const out = adaptToShape(spec, [28, 28, 1], [32, 32, 3]);
    expect(out.decoder[0]).toEqual(conv(3, 'linear'));
    expect(inferShapes(out, [32, 32, 3]).outputShape).toEqual([32, 32, 3]);
  });

  it('28×28×1 → 32×32×3 → 28×28×1 gives back the original spec, for every preset and a hand-written one', () => {
    const specs: ExperimentSpec[] = [
      ...PRESETS.map((p) => p.spec),
      {
        ...base,
        encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 100, activation: 'relu' }],
        decoder: [{ kind: 'dense', units: 196, activation: 'relu' }, { kind: 'reshape', targetShape: [7, 7, 4] }, { kind: 'upSampling2d', size: 4 }, conv(1, 'sigmoid')],
      },
    ];
    for (const spec of specs) {
      const there = adaptToShape(spec, [28, 28, 1], [32, 32, 3]);
      const back = adaptToShape(there, [32, 32, 3], [28, 28, 1]);
      expect(back).toEqual(spec);
    }
  });

  it('keeps the channels when only height and width change (28×28×1 → 16×16×1)', () => {
    const dense = PRESETS.find((p) => p.id === 'linear');
    expect(dense).toBeDefined();
    if (!dense) return;
    const out = adaptToShape(dense.spec, [28, 28, 1], [16, 16, 1]);
    expect(out.decoder[0]).toMatchObject({ kind: 'dense', units: 256 });
    expect(out.decoder[1]).toEqual({ kind: 'reshape', targetShape: [16, 16, 1] });
    expect(inferShapes(out, [16, 16, 1]).errors).toEqual([]);
  });
});
