import { describe, expect, it } from 'vitest';
import { LAYER_KIND_LIST, defaultLayer, convOutLength, deconvOutLength } from './catalogue';
import { bottleneckSummary, inferShapes } from './inferShapes';
import { checkSettings } from './settings';
import { DEFAULT_SPEC, PRESETS } from './presets';
import type { LayerSpec } from './spec';

const IN = [28, 28, 1];
const conv = (filters: number, kernelSize = 3, strides = 1, padding: 'same' | 'valid' = 'same'): LayerSpec => ({
  kind: 'conv2d',
  filters,
  kernelSize,
  strides,
  padding,
  activation: 'relu',
});

describe('inferShapes', () => {
  it('computes every row of the default model and its 7×7×4 bottleneck', () => {
    const r = inferShapes(DEFAULT_SPEC, IN);
    expect(r.error).toBeNull();
    expect(r.bottleneck).toEqual([7, 7, 4]);
    expect(r.outputShape).toEqual(IN);
    expect(r.layers.map((l) => l.outputShape)).toEqual([
      [28, 28, 16], [28, 28, 16], [14, 14, 16], [14, 14, 4], [14, 14, 4], [7, 7, 4],
      [7, 7, 16], [7, 7, 16], [14, 14, 16], [14, 14, 16], [14, 14, 16], [28, 28, 16], [28, 28, 1],
    ]);
    expect(r.layers[0].params).toBe(3 * 3 * 1 * 16 + 16);
    expect(r.totalParams).toBe(160 + 580 + 592 + 2320 + 145);
    expect(bottleneckSummary(r)).toEqual({ shape: [7, 7, 4], values: 196, ratio: 0.25 });
  });

  it('every preset is a valid architecture', () => {
    for (const p of PRESETS) expect(inferShapes(p.spec, IN).error, p.id).toBeNull();
  });

  it.each([
    ['conv2d same stride 2', conv(8, 3, 2), [14, 14, 8], 3 * 3 * 1 * 8 + 8],
    ['conv2d valid k5', conv(8, 5, 1, 'valid'), [24, 24, 8], 5 * 5 * 8 + 8],
    ['conv2d valid k3 s2', conv(4, 3, 2, 'valid'), [13, 13, 4], 3 * 3 * 4 + 4],
    ['conv2dTranspose same s2', { kind: 'conv2dTranspose', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear' }, [56, 56, 3], 3 * 3 * 3 + 3],
    ['conv2dTranspose valid k3 s2', { kind: 'conv2dTranspose', filters: 2, kernelSize: 3, strides: 2, padding: 'valid', activation: 'linear' }, [57, 57, 2], 3 * 3 * 2 + 2],
    ['maxPool 2', { kind: 'maxPool2d', poolSize: 2, strides: 2 }, [14, 14, 1], 0],
    ['avgPool 3 s2', { kind: 'avgPool2d', poolSize: 3, strides: 2 }, [13, 13, 1], 0],
    ['upSampling 3', { kind: 'upSampling2d', size: 3 }, [84, 84, 1], 0],
    ['batchNorm', { kind: 'batchNorm' }, [28, 28, 1], 4],
    ['leakyRelu', { kind: 'activation', activation: 'leakyRelu', alpha: 0.1 }, [28, 28, 1], 0],
    ['flatten', { kind: 'flatten' }, [784], 0],
    ['reshape', { kind: 'reshape', targetShape: [14, 14, 4] }, [14, 14, 4], 0],
    ['dropout', { kind: 'dropout', rate: 0.5 }, [28, 28, 1], 0],
  ] as [string, LayerSpec, number[], number][])('%s', (_name, layer, shape, params) => {
    const r = inferShapes({ encoder: [layer], decoder: [] }, IN);
    expect(r.layers[0].error).toBeNull();
    expect(r.layers[0].outputShape).toEqual(shape);
    expect(r.layers[0].params).toBe(params);
  });

  it('dense on a flat input', () => {
    const r = inferShapes({ encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 32, activation: 'relu' }], decoder: [{ kind: 'dense', units: 784, activation: 'sigmoid' }, { kind: 'reshape', targetShape: [28, 28, 1] }] }, IN);
    expect(r.error).toBeNull();
    expect(r.bottleneck).toEqual([32]);
    expect(r.layers[1].params).toBe(784 * 32 + 32);
    expect(r.layers[2].params).toBe(32 * 784 + 784);
  });

  it('has a default for every layer kind that is valid on some input', () => {
    for (const kind of LAYER_KIND_LIST) {
      const layer = defaultLayer(kind);
      const input = kind === 'dense' ? [196] : kind === 'reshape' ? [14, 14, 1] : IN;
      const r = inferShapes({ encoder: [layer], decoder: [] }, input);
      expect(r.layers[0].error, kind).toBeNull();
    }
  });

  describe('errors name the layer and say what is wrong', () => {
    it('decoder output does not match the input', () => {
      const r = inferShapes({ encoder: [conv(4)], decoder: [conv(1, 5, 1, 'valid')] }, IN);
      expect(r.error).toBe('decoder output 24×24×1 does not match input 28×28×1');
      expect(r.layers[1].error).toBe('decoder output 24×24×1 does not match input 28×28×1');
    });
    it('kernel larger than the input', () => {
      const r = inferShapes({ encoder: [{ kind: 'maxPool2d', poolSize: 14, strides: 8 }, conv(4, 5, 1, 'valid')], decoder: [] }, IN);
      expect(r.layers[1].error).toBe('kernel 5 larger than 2×2 input');
      expect(r.error).toContain('encoder layer 2 (Conv2D): kernel 5 larger than 2×2 input');
    });
    it('reshape with the wrong number of values', () => {
      const r = inferShapes({ encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 128, activation: 'relu' }], decoder: [{ kind: 'reshape', targetShape: [7, 7, 4] }] }, IN);
      expect(r.layers[2].error).toBe('reshape 7×7×4 needs 196 values, got 128');
    });
    it('dense on an image and conv on a vector', () => {
      expect(inferShapes({ encoder: [{ kind: 'dense', units: 4, activation: 'relu' }], decoder: [] }, IN).layers[0].error).toMatch(/dense needs a flat input, got 28×28×1/);
      expect(inferShapes({ encoder: [{ kind: 'flatten' }, conv(2)], decoder: [] }, IN).layers[1].error).toMatch(/conv2d needs an H×W×C input, got 784/);
    });
    it('out-of-range settings', () => {
      const r = inferShapes({ encoder: [conv(10000)], decoder: [] }, IN);
      expect(r.layers[0].error).toBe('Filters must be between 1 and 512');
      expect(inferShapes({ encoder: [conv(Number.NaN)], decoder: [] }, IN).layers[0].error).toBe('Filters must be a number');
      expect(inferShapes({ encoder: [conv(2.5)], decoder: [] }, IN).layers[0].error).toBe('Filters must be a whole number');
      expect(inferShapes({ encoder: [{ kind: 'dropout', rate: 2 }], decoder: [] }, IN).layers[0].error).toMatch(/Rate must be between/);
    });
    it('layers after a broken one have no shape, and no crash', () => {
      const r = inferShapes({ encoder: [conv(4, 40, 1, 'valid'), conv(4)], decoder: [conv(1)] }, IN);
      expect(r.layers[1].inputShape).toBeNull();
      expect(r.layers[1].outputShape).toBeNull();
      expect(r.outputShape).toBeNull();
    });
    it('empty stacks', () => {
      expect(inferShapes({ encoder: [], decoder: [] }, IN).errors).toContain('the encoder is empty: add at least one layer');
    });
    it('a stride that empties the output', () => {
      const r = inferShapes({ encoder: [{ kind: 'maxPool2d', poolSize: 2, strides: 8 }, { kind: 'maxPool2d', poolSize: 5, strides: 8 }], decoder: [] }, IN);
      expect(r.layers[1].error).toBe('pool 5 larger than 4×4 input');
    });
  });

  it('axis length helpers match tfjs conventions', () => {
    expect(convOutLength(28, 3, 2, 'same')).toBe(14);
    expect(convOutLength(7, 2, 2, 'valid')).toBe(3);
    expect(deconvOutLength(7, 3, 2, 'same')).toBe(14);
    expect(deconvOutLength(7, 4, 2, 'valid')).toBe(16);
  });

  it('settings checks refuse absurd values at the field', () => {
    expect(checkSettings(DEFAULT_SPEC)).toEqual({});
    const bad = checkSettings({ ...DEFAULT_SPEC, batchSize: 0, learningRate: 1e9, epochs: 1.5 });
    expect(bad.batchSize).toBe('Batch size must be between 1 and 1024');
    expect(bad.learningRate).toBe('Learning rate must be between 0.000001 and 10');
    expect(bad.epochs).toBe('Epochs must be a whole number');
  });
});
