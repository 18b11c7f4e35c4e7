import { describe, expect, it } from 'vitest';
import { decodeExperiment, encodeExperiment, readHash, hashFor } from '../share/codec';
import { checkExperiment } from './checkExperiment';
import { inferShapes } from './inferShapes';
import { DEFAULT_SPEC, PRESETS, findPreset, presetOfSpec, sameValue } from './presets';
import { shapeSize, type ExperimentSpec, type LayerSpec } from './spec';
import { isValidSpec, normalizeSpec } from './validate';

const MNIST: number[] = [28, 28, 1];
const byId = (id: string): ExperimentSpec => {
  const p = findPreset(id);
  if (!p) throw new Error(`no preset ${id}`);
  return p.spec;
};
const kinds = (layers: LayerSpec[]): string[] => layers.map((l) => l.kind);

describe('presets', () => {
  it('have unique ids, a label, a description and a "what to look for" of two or three sentences', () => {
    expect(new Set(PRESETS.map((p) => p.id)).size).toBe(PRESETS.length);
    for (const p of PRESETS) {
      expect(p.label.length, p.id).toBeGreaterThan(3);
      expect(p.description.length, p.id).toBeGreaterThan(10);
      const sentences = p.lookFor.split(/(?<=[.!?])\s+(?=[A-Z0-9])/).filter((x) => x.trim().length > 0);
      expect(sentences.length, `${p.id}: ${p.lookFor}`).toBeGreaterThanOrEqual(2);
      expect(sentences.length, `${p.id}: ${p.lookFor}`).toBeLessThanOrEqual(3);
    }
  });

  it('are valid specs that train: shapes end at the 28×28×1 input, no setting error', () => {
    for (const p of PRESETS) {
      expect(isValidSpec(p.spec), p.id).toBe(true);
      const n = normalizeSpec(structuredClone(p.spec));
      expect(n.ok && n.warnings, p.id).toEqual([]);
      const report = inferShapes(p.spec, MNIST);
      expect(report.errors, p.id).toEqual([]);
      expect(report.outputShape, p.id).toEqual(MNIST);
      const check = checkExperiment(p.spec);
      expect(check.reasons, p.id).toEqual([]);
      expect(check.canTrain, p.id).toBe(true);
    }
  });

  it('round-trip through a share link to the same spec (and through the address-bar hash)', () => {
    for (const p of PRESETS) {
      const r = decodeExperiment(encodeExperiment(p.spec));
      expect(r.ok, p.id).toBe(true);
      if (r.ok) {
        expect(r.spec, p.id).toEqual(p.spec);
        expect(r.warnings, p.id).toEqual([]);
      }
      const h = readHash(hashFor(p.spec));
      expect(h?.ok && h.spec, p.id).toEqual(p.spec);
    }
  });

  it('include the documents’ architectures, as the issue lists them', () => {
    // The wiki: five 3×3 convolutions, the first four with 64 kernels, batch norm, leakyReLU, pooling/upsampling.
    const wiki = byId('wiki-5-layer');
    const wikiConvs = [...wiki.encoder, ...wiki.decoder].filter((l) => l.kind === 'conv2d');
    expect(wikiConvs.map((l) => l.kind === 'conv2d' && [l.filters, l.kernelSize, l.padding])).toEqual([
      [64, 3, 'same'],
      [64, 3, 'same'],
      [64, 3, 'same'],
      [64, 3, 'same'],
      [1, 3, 'same'],
    ]);
    for (const k of ['batchNorm', 'maxPool2d', 'upSampling2d']) expect(kinds([...wiki.encoder, ...wiki.decoder])).toContain(k);
    expect([...wiki.encoder, ...wiki.decoder].some((l) => l.kind === 'activation' && l.activation === 'leakyRelu')).toBe(true);
    // The tutorial: stride-2 convolutions down, stride-2 transposed convolutions up.
    const t = byId('transpose');
    expect(t.encoder.filter((l) => l.kind === 'conv2d' && l.strides === 2)).toHaveLength(2);
    expect(t.decoder.filter((l) => l.kind === 'conv2dTranspose' && l.strides === 2)).toHaveLength(2);
    // The linear AE: dense layers, every activation linear, MSE.
    const lin = byId('linear');
    expect(findPreset('linear')?.label).toBe('Linear autoencoder (= PCA)');
    expect(lin.loss).toBe('mse');
    const linLayers = [...lin.encoder, ...lin.decoder];
    expect(linLayers.some((l) => l.kind === 'dense')).toBe(true);
    for (const l of linLayers) {
      expect(l.kind === 'dense' || l.kind === 'flatten' || l.kind === 'reshape', l.kind).toBe(true);
      if (l.kind === 'dense') expect(l.activation).toBe('linear');
    }
    expect(inferShapes(lin, MNIST).bottleneck).toEqual([32]);
    // The dense AE and the tiny one are still there.
    expect(inferShapes(byId('dense'), MNIST).bottleneck).toEqual([32]);
    expect(inferShapes(byId('tiny'), MNIST).totalParams).toBeLessThan(200);
  });

  it('the bottleneck study’s shapes: equal code size (784 = 28·28 values), different H×W and channels', () => {
    const shapes = {
      'bottleneck-28x28x1': [28, 28, 1],
      'bottleneck-14x14x4': [14, 14, 4],
      'bottleneck-7x7x16': [7, 7, 16],
    };
    for (const [id, shape] of Object.entries(shapes)) {
      const b = inferShapes(byId(id), MNIST).bottleneck;
      expect(b, id).toEqual(shape);
      expect(shapeSize(b ?? []), id).toBe(28 * 28);
    }
  });

  it('presetOfSpec names an unchanged preset and nothing once a value differs', () => {
    expect(presetOfSpec(structuredClone(byId('tiny')))?.id).toBe('tiny');
    expect(presetOfSpec(DEFAULT_SPEC)?.id).toBe('default');
    expect(presetOfSpec({ ...byId('tiny'), epochs: 2 })).toBeUndefined();
    const edited = structuredClone(byId('transpose'));
    const first = edited.decoder[0];
    if (first.kind !== 'conv2dTranspose') throw new Error('decoder 1 is a transposed conv');
    first.kernelSize = 4;
    expect(presetOfSpec(edited)).toBeUndefined();
    expect(sameValue([1, 2], [1, 2])).toBe(true);
    expect(sameValue([1, 2], [2, 1])).toBe(false);
    expect(sameValue({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameValue({ a: [1] }, { a: { 0: 1 } })).toBe(false);
  });
});
