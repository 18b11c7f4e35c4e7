import { describe, expect, it } from 'vitest';
import { LAYER_KIND_LIST, defaultLayer } from './catalogue';
import { inferShapes } from './inferShapes';
import { layerHelp } from './layerHelp';
import { PRESETS } from './presets';
import { PADDINGS, type LayerSpec, type Shape } from './spec';

const conv = (kernelSize: number, strides: number, padding: 'same' | 'valid', filters = 16): LayerSpec => ({ kind: 'conv2d', filters, kernelSize, strides, padding, activation: 'relu' });
const deconv = (kernelSize: number, strides: number, padding: 'same' | 'valid', filters = 16): LayerSpec => ({ kind: 'conv2dTranspose', filters, kernelSize, strides, padding, activation: 'relu' });

describe('layer help', () => {
  it('every layer of every preset: the help’s shape and parameter numbers are the editor’s', () => {
    let layers = 0;
    for (const p of PRESETS) {
      const report = inferShapes(p.spec, [28, 28, 1]);
      for (const info of report.layers) {
        const h = layerHelp(info.layer, info.inputShape);
        const label = `${p.id} ${info.stack} ${info.index + 1} ${info.layer.kind}`;
        expect(h.outputShape, label).toEqual(info.outputShape);
        // The editor's parameter column shows info.params.
        expect(h.params, label).toBe(info.params);
        expect(h.paramWorked, label).toMatch(new RegExp(`(^|= )${info.params.toLocaleString('en-US')}$`));
        expect(h.what.length, label).toBeGreaterThan(20);
        expect(h.shapeWorked.length, label).toBeGreaterThan(0);
        layers++;
      }
    }
    expect(layers).toBeGreaterThan(50);
  });

  it('conv and transposed conv on a table of inputs agree with shape inference', () => {
    for (let k = 1; k <= 5; k++) {
      for (let s = 1; s <= 3; s++) {
        for (const pad of PADDINGS) {
          for (const size of [4, 7, 9, 14, 28]) {
            for (const layer of [conv(k, s, pad), deconv(k, s, pad)]) {
              const input: Shape = [size, size, 3];
              const info = inferShapes({ encoder: [layer], decoder: [] }, input).layers[0];
              const h = layerHelp(layer, input);
              expect(h.outputShape, `${layer.kind} k${k} s${s} ${pad} ${size}`).toEqual(info.error ? null : info.outputShape);
              if (!info.error) expect(h.params).toBe(info.params);
            }
          }
        }
      }
    }
  });

  it('writes this layer’s own numbers into the rules (hand-computed)', () => {
    const same = layerHelp(conv(3, 2, 'same'), [28, 28, 1]);
    expect(same.shapeRule).toContain('ceil(in / stride)');
    expect(same.shapeWorked).toEqual(['height: ceil(28 / 2) = 14', 'width: ceil(28 / 2) = 14', 'channels: 16 filters = 16']);
    expect(same.paramWorked).toBe('3 × 3 × 1 × 16 + 16 = 160');
    const valid = layerHelp(conv(3, 2, 'valid', 8), [28, 28, 4]);
    expect(valid.shapeWorked[0]).toBe('height: floor((28 − 3) / 2) + 1 = 13');
    expect(valid.outputShape).toEqual([13, 13, 8]);
    expect(valid.paramWorked).toBe('3 × 3 × 4 × 8 + 8 = 296');
    const up = layerHelp(deconv(3, 2, 'same'), [7, 7, 4]);
    expect(up.shapeRule).toContain('in × stride');
    expect(up.shapeWorked[0]).toBe('height: 7 × 2 = 14');
    expect(up.paramWorked).toBe('3 × 3 × 4 × 16 + 16 = 592');
    const upValid = layerHelp(deconv(3, 2, 'valid'), [7, 7, 4]);
    expect(upValid.shapeRule).toContain('(in − 1) × stride + kernel');
    expect(upValid.shapeWorked[0]).toBe('height: (7 − 1) × 2 + 3 = 15');
    const dense = layerHelp({ kind: 'dense', units: 256, activation: 'relu' }, [784]);
    expect(dense.paramWorked).toBe('784 × 256 + 256 = 200,960');
    const pool = layerHelp({ kind: 'maxPool2d', poolSize: 2, strides: 2 }, [7, 7, 16]);
    expect(pool.shapeWorked[0]).toBe('height: floor((7 − 2) / 2) + 1 = 3');
    const bn = layerHelp({ kind: 'batchNorm' }, [14, 14, 64]);
    expect(bn.paramWorked).toBe('4 × 64 = 256');
    expect(layerHelp({ kind: 'flatten' }, [28, 28, 1]).shapeWorked).toEqual(['out = 28 × 28 × 1 = 784']);
  });

  it('has a text for every layer kind, and rules without numbers when the input is unknown', () => {
    for (const kind of LAYER_KIND_LIST) {
      const h = layerHelp(defaultLayer(kind), null);
      expect(h.what.length, kind).toBeGreaterThan(20);
      expect(h.shapeRule.length, kind).toBeGreaterThan(5);
      expect(h.paramRule.length, kind).toBeGreaterThan(5);
      expect(h.shapeWorked, kind).toEqual([]);
      expect(h.params, kind).toBeNull();
    }
  });

  it('a kernel wider than a valid-padded input gives no shape, as the editor says', () => {
    const input: Shape = [4, 4, 1];
    const layer = conv(5, 1, 'valid');
    expect(inferShapes({ encoder: [layer], decoder: [] }, input).layers[0].error).not.toBeNull();
    expect(layerHelp(layer, input).outputShape).toBeNull();
  });
});
