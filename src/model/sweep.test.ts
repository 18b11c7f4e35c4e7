import { describe, expect, it } from 'vitest';
import { inferShapes } from './inferShapes';
import { DEFAULT_SPEC } from './presets';
import type { ExperimentSpec } from './spec';
import { MAX_SWEEP_SHAPES, makeBottleneckVariant, parseShapeList, parseSweep, poolFactors, shapeLabel } from './sweep';

const IN = [28, 28, 1];

describe('parseShapeList', () => {
  it('reads every separator and joiner', () => {
    expect(parseShapeList('7x7x4, 14×14×1; 2*2*49 1x1x196')).toEqual({
      ok: true,
      shapes: [[7, 7, 4], [14, 14, 1], [2, 2, 49], [1, 1, 196]],
    });
    expect(parseShapeList('  32\n196\t7 x 7 x 4 ;; 4X4X12,')).toEqual({
      ok: true,
      shapes: [[32], [196], [7, 7, 4], [4, 4, 12]],
    });
  });

  it('removes duplicates and keeps the order', () => {
    expect(parseShapeList('14x14x1, 7x7x4, 14×14×1, 32, 7*7*4, 32')).toEqual({
      ok: true,
      shapes: [[14, 14, 1], [7, 7, 4], [32]],
    });
  });

  it('names the bad item', () => {
    const r = parseShapeList('7x7x4, 7x7');
    expect(r).toEqual({ ok: false, error: "'7x7' is not H×W×C or N" });
    for (const [text, item] of [
      ['7x7x4x2', '7x7x4x2'],
      ['7x7xa', '7x7xa'],
      ['7.5', '7.5'],
      ['-3', '-3'],
      ['7xx7x4', '7xx7x4'],
    ]) {
      const bad = parseShapeList(text);
      expect(bad.ok, text).toBe(false);
      if (!bad.ok) expect(bad.error).toContain(`'${item}'`);
    }
    const zero = parseShapeList('7x0x4');
    expect(zero.ok).toBe(false);
    if (!zero.ok) expect(zero.error).toMatch(/'7x0x4'.*at least 1/);
  });

  it('rejects empty input and too many shapes', () => {
    expect(parseShapeList('  ,; ').ok).toBe(false);
    const many = Array.from({ length: MAX_SWEEP_SHAPES + 1 }, (_, i) => String(i + 1)).join(',');
    const r = parseShapeList(many);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(`At most ${MAX_SWEEP_SHAPES}`);
    const twelve = Array.from({ length: MAX_SWEEP_SHAPES }, (_, i) => String(i + 1)).join(' ');
    expect(parseShapeList(`${twelve} 1 2 3`).ok).toBe(true);
  });
});

describe('shapeLabel', () => {
  it('formats codes', () => {
    expect(shapeLabel([7, 7, 4])).toBe('7×7×4');
    expect(shapeLabel([32])).toBe('32');
  });
});

describe('poolFactors', () => {
  it('uses max-pools for twos and one learned strided conv for the odd rest', () => {
    expect(poolFactors(28, 28)).toEqual([]);
    expect(poolFactors(28, 14)).toEqual([2]);
    expect(poolFactors(28, 7)).toEqual([2, 2]);
    expect(poolFactors(28, 4)).toEqual([7]);
    expect(poolFactors(28, 2)).toEqual([2, 7]);
    expect(poolFactors(28, 1)).toEqual([2, 2, 7]);
    expect(poolFactors(28, 5)).toBeNull();
    expect(poolFactors(28, 3)).toBeNull();
    expect(poolFactors(28, 56)).toBeNull();
    expect(poolFactors(27, 1)).toEqual([3, 3, 3]);
    expect(poolFactors(22, 1)).toBeNull();
  });
});

describe('makeBottleneckVariant', () => {
  const base: ExperimentSpec = { ...DEFAULT_SPEC, dataset: 'fashion-mnist', loss: 'mse', optimizer: 'rmsprop', learningRate: 0.0005, batchSize: 64, epochs: 7, seed: 42, trainSize: 2000, backend: 'wasm' };

  it.each([[[7, 7, 4]], [[14, 14, 1]], [[2, 2, 49]], [[1, 1, 196]], [[28, 28, 1]], [[4, 4, 12]], [[32]], [[196]], [[1]], [[28, 28, 512]]])(
    'builds a valid model with a %j code',
    (code) => {
      const r = makeBottleneckVariant(base, code);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const report = inferShapes(r.spec, IN);
      expect(report.error).toBeNull();
      expect(report.bottleneck).toEqual(code);
      expect(report.outputShape).toEqual(IN);
      expect(r.note.length).toBeGreaterThan(10);
      expect(r.note).not.toContain('\n');
      const { encoder: _e, decoder: _d, ...settings } = r.spec;
      const { encoder: _be, decoder: _bd, ...baseSettings } = base;
      expect(settings).toEqual(baseSettings);
    },
  );

  it('follows the template for 1×1×196 and 2×2×49', () => {
    const one = makeBottleneckVariant(base, [1, 1, 196]);
    if (!one.ok) throw new Error(one.error);
    expect(one.spec.encoder.map((l) => l.kind)).toEqual(['conv2d', 'activation', 'maxPool2d', 'maxPool2d', 'conv2d', 'activation', 'conv2d', 'activation']);
    // The odd factor 7 is a learned 7×7 stride-7 conv, mirrored by a 7×7 stride-7 transposed conv.
    expect(one.spec.encoder[4]).toEqual({ kind: 'conv2d', filters: 16, kernelSize: 7, strides: 7, padding: 'valid', activation: 'linear' });
    expect(one.spec.decoder[2]).toEqual({ kind: 'conv2dTranspose', filters: 16, kernelSize: 7, strides: 7, padding: 'valid', activation: 'linear' });
    const ups = one.spec.decoder.flatMap((l) => (l.kind === 'upSampling2d' ? [l.size] : []));
    expect(ups).toEqual([2, 2]);
    expect(one.spec.decoder.at(-1)).toEqual({ kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' });
    const two = makeBottleneckVariant(base, [2, 2, 49]);
    if (!two.ok) throw new Error(two.error);
    expect(two.spec.decoder.flatMap((l) => (l.kind === 'upSampling2d' ? [l.size] : []))).toEqual([2]);
    // Every upsampling is followed by conv(16) → leakyReLU.
    two.spec.decoder.forEach((l, i) => {
      if (l.kind === 'upSampling2d') {
        expect(two.spec.decoder[i + 1]).toMatchObject({ kind: 'conv2d', filters: 16 });
        expect(two.spec.decoder[i + 2]).toEqual({ kind: 'activation', activation: 'leakyRelu', alpha: 0.2 });
      }
    });
  });

  it('builds the flat template', () => {
    const r = makeBottleneckVariant(base, [32]);
    if (!r.ok) throw new Error(r.error);
    expect(r.spec.encoder.map((l) => l.kind)).toEqual(['conv2d', 'activation', 'maxPool2d', 'conv2d', 'activation', 'maxPool2d', 'flatten', 'dense']);
    expect(r.spec.encoder.at(-1)).toEqual({ kind: 'dense', units: 32, activation: 'linear' });
    expect(r.spec.decoder.slice(0, 2)).toEqual([
      { kind: 'dense', units: 392, activation: 'relu' },
      { kind: 'reshape', targetShape: [7, 7, 8] },
    ]);
  });

  it('does not share layer objects between variants', () => {
    const a = makeBottleneckVariant(base, [7, 7, 4]);
    const b = makeBottleneckVariant(base, [7, 7, 4]);
    if (!a.ok || !b.ok) throw new Error('failed');
    expect(a.spec).toEqual(b.spec);
    expect(a.spec.encoder[0]).not.toBe(b.spec.encoder[0]);
  });

  it('explains unreachable shapes', () => {
    const cases: [number[], RegExp][] = [
      [[5, 5, 4], /^bottleneck height 5 cannot be reached from 28 with pooling: use a divisor of 28 \(1, 2, 4, 7, 14, 28\)$/],
      [[3, 3, 4], /height 3 cannot be reached/],
      [[7, 5, 4], /width 5 cannot be reached/],
      [[56, 56, 1], /height 56 is larger than the input height 28/],
      [[7, 14, 2], /different factors/],
      [[7, 7, 513], /channels must be between 1 and 512/],
      [[7, 7, 0], /not H×W×C or N/],
      [[7, 7], /not H×W×C or N/],
      [[2.5, 2.5, 4], /not H×W×C or N/],
      [[0], /not H×W×C or N/],
      [[8193], /between 1 and 8192/],
    ];
    for (const [code, re] of cases) {
      const r = makeBottleneckVariant(base, code);
      expect(r.ok, code.join('x')).toBe(false);
      if (!r.ok) expect(r.error).toMatch(re);
    }
  });

  it('takes the input shape as a parameter', () => {
    const r = makeBottleneckVariant(base, [4, 4, 3], [32, 32, 3]);
    if (!r.ok) throw new Error(r.error);
    const report = inferShapes(r.spec, [32, 32, 3]);
    expect(report.error).toBeNull();
    expect(report.bottleneck).toEqual([4, 4, 3]);
    expect(makeBottleneckVariant(base, [16], [30, 30, 1]).ok).toBe(false);
    expect(makeBottleneckVariant(base, [7, 7, 4], [28, 28]).ok).toBe(false);
  });
});

describe('sweeps over the autoencoder family (#16)', () => {
  const base = DEFAULT_SPEC;
  it('variants by id or label, duplicates dropped, unknown ones refused', () => {
    const r = parseSweep('variant', 'plain, VAE Rank-ordered denoising vae');
    if (!r.ok) throw new Error(r.error);
    expect(r.items.map((i) => i.label)).toEqual(['Plain', 'Variational (VAE)', 'Rank-ordered', 'Denoising']);
    const made = r.items.map((i) => i.make(base));
    expect(made.map((m) => (m.ok ? m.spec.variant : null))).toEqual(['plain', 'vae', 'rankOrdered', 'denoising']);
    // Everything else is the base experiment's.
    for (const m of made) if (m.ok) expect({ ...m.spec, variant: base.variant }).toEqual(base);
    expect(parseSweep('variant', 'plain, contractive')).toEqual({ ok: false, error: "'contractive' is not a variant (plain, denoising, sparse, vae, rankOrdered)" });
  });

  it('a numeric setting: values checked against the settings table; its variant switched on', () => {
    const r = parseSweep('beta', '0.5 1 4');
    if (!r.ok) throw new Error(r.error);
    const specs = r.items.map((i) => i.make(base)).map((m) => (m.ok ? m.spec : null));
    expect(specs.map((s) => s?.beta)).toEqual([0.5, 1, 4]);
    expect(specs.every((s) => s?.variant === 'vae')).toBe(true);
    // Noise on a denoising base keeps it; on another base it becomes denoising.
    const n = parseSweep('noise', '0.2');
    if (!n.ok) throw new Error(n.error);
    const kept = n.items[0].make({ ...base, variant: 'denoising', corruption: 'mask' });
    expect(kept.ok && kept.spec).toMatchObject({ variant: 'denoising', corruption: 'mask', noise: 0.2 });
    expect(parseSweep('noise', '0.2, 2')).toEqual({ ok: false, error: "'2': Noise must be between 0 and 1" });
    expect(parseSweep('sparsity', 'abc')).toEqual({ ok: false, error: "'abc': Sparsity must be a number" });
    expect(parseSweep('beta', '')).toEqual({ ok: false, error: 'Enter at least one value' });
  });

  it('shapes still go through the bottleneck template', () => {
    const r = parseSweep('shape', '7x7x4, 32');
    if (!r.ok) throw new Error(r.error);
    expect(r.items.map((i) => i.label)).toEqual(['7×7×4', '32']);
  });
});
