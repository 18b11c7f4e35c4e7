/**
 * What runs is what the UI shows: tfjs' own output shapes and parameter counts for every layer kind
 * must equal our shape inference.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAYER_KIND_LIST, defaultLayer } from '../../model/catalogue';
import { inferShapes } from '../../model/inferShapes';
import { PRESETS } from '../../model/presets';
import type { LayerSpec } from '../../model/spec';
import { buildModel } from './buildModel';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function check(encoder: LayerSpec[], decoder: LayerSpec[], input: number[]): void {
  const report = inferShapes({ encoder, decoder }, input);
  const built = buildModel({ encoder, decoder, seed: 3 }, input);
  try {
    expect(built.layerShapes).toEqual(report.layers.map((l) => l.outputShape));
    expect(built.model.countParams()).toBe(report.totalParams);
    expect(built.encoder.outputs[0].shape.slice(1)).toEqual(report.bottleneck);
  } finally {
    built.model.dispose();
  }
}

describe('buildModel agrees with inferShapes', () => {
  it.each(PRESETS.map((p) => [p.id, p.spec] as const))('preset %s', (_id, spec) => {
    check(spec.encoder, spec.decoder, [28, 28, 1]);
  });

  it.each(LAYER_KIND_LIST)('default %s layer', (kind) => {
    const layer = defaultLayer(kind);
    const input = kind === 'dense' ? [196] : kind === 'reshape' ? [14, 14, 1] : [28, 28, 1];
    check([layer], [], input);
  });

  const variants: [string, LayerSpec][] = [];
  for (const padding of ['same', 'valid'] as const)
    for (const strides of [1, 2, 3])
      for (const kernelSize of [1, 2, 3, 5]) {
        variants.push([`conv2d k${kernelSize} s${strides} ${padding}`, { kind: 'conv2d', filters: 3, kernelSize, strides, padding, activation: 'relu' }]);
        variants.push([`conv2dTranspose k${kernelSize} s${strides} ${padding}`, { kind: 'conv2dTranspose', filters: 2, kernelSize, strides, padding, activation: 'linear' }]);
      }
  for (const poolSize of [2, 3]) for (const strides of [1, 2, 3]) {
    variants.push([`maxPool p${poolSize} s${strides}`, { kind: 'maxPool2d', poolSize, strides }]);
    variants.push([`avgPool p${poolSize} s${strides}`, { kind: 'avgPool2d', poolSize, strides }]);
  }
  variants.push(['upSampling 3', { kind: 'upSampling2d', size: 3 }]);
  it.each(variants)('%s on 13×11×2', (_name, layer) => {
    check([layer], [], [13, 11, 2]);
  });

  it('same spec and seed give the same weights', () => {
    const spec = PRESETS[0].spec;
    const a = buildModel(spec, [28, 28, 1]);
    const b = buildModel(spec, [28, 28, 1]);
    const wa = a.model.getWeights().map((w) => Array.from(w.dataSync()));
    const wb = b.model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(wa).toEqual(wb);
    a.model.dispose();
    b.model.dispose();
  });
});
