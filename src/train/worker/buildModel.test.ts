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
import { buildModel, firstConvWeightGradientsOnly } from './buildModel';
import { trainStep } from './training';

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

describe('the first conv layer computes no gradient for the data', () => {
  // The reference is the same model as tfjs-layers calls it (firstConvWeightGradientsOnly off).
  const s = PRESETS.find((p) => p.id === 'default');
  if (!s) throw new Error('no default preset');
  const spec = { ...s.spec, optimizer: 'sgd' as const, learningRate: 0.1 };
  const x = (): tf.Tensor4D => tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;

  /** One SGD step; the kernels it ran (names) and the weights after it. */
  async function step(on: boolean): Promise<{ kernels: string[]; out: Float32Array; weights: Float32Array[] }> {
    firstConvWeightGradientsOnly.on = on;
    try {
      const built = buildModel(spec, [28, 28, 1]);
      const input = x();
      const out = tf.tidy(() => built.model.predict(input) as tf.Tensor).dataSync() as Float32Array;
      const opt = tf.train.sgd(spec.learningRate);
      const before = tf.memory().numTensors;
      const profile = await tf.profile(() => {
        trainStep(opt, spec, built.model, input).dispose();
      });
      expect(tf.memory().numTensors).toBe(before);
      const weights = built.model.getWeights().map((w) => Float32Array.from(w.dataSync()));
      input.dispose();
      opt.dispose();
      built.model.dispose();
      return { kernels: profile.kernels.map((k) => k.name), out: Float32Array.from(out), weights };
    } finally {
      firstConvWeightGradientsOnly.on = true;
    }
  }

  it('same output and same weights after a step, one input gradient fewer (cpu)', async () => {
    const plain = await step(false);
    const ours = await step(true);
    const count = (ks: string[], name: string): number => ks.filter((k) => k === name).length;
    const convs = spec.encoder.concat(spec.decoder).filter((l) => l.kind === 'conv2d').length;
    expect(count(plain.kernels, 'Conv2DBackpropInput')).toBe(convs);
    expect(count(ours.kernels, 'Conv2DBackpropInput')).toBe(convs - 1);
    expect(count(ours.kernels, 'Conv2DBackpropFilter')).toBe(convs);
    let diff = 0;
    for (let i = 0; i < ours.out.length; i++) diff = Math.max(diff, Math.abs(ours.out[i] - plain.out[i]));
    expect(diff).toBeLessThan(1e-6);
    expect(ours.weights.length).toBe(plain.weights.length);
    ours.weights.forEach((w, i) => {
      let d = 0;
      for (let j = 0; j < w.length; j++) d = Math.max(d, Math.abs(w[j] - plain.weights[i][j]));
      expect(d, `weight ${i}`).toBeLessThan(1e-6);
    });
  });
});
