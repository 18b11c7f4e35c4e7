/**
 * The live-views helper renders from a copy of the weights into a model of its own: its views must be
 * the training model's own, for every preset (batch norm's moving statistics included).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetShape } from '../../data/catalogue';
import { mulberry32 } from '../../data/split';
import { PRESETS } from '../../model/presets';
import { buildModel } from './buildModel';
import { renderViews } from './viewsRender';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('renderViews from copied weights', () => {
  it.each(PRESETS.map((p) => [p.id, p.spec] as const))('preset %s matches the training model', (_id, spec) => {
    const shape = datasetShape(spec.dataset);
    const trained = buildModel({ ...spec, seed: 1 }, shape);
    const helper = buildModel({ ...spec, seed: 2 }, shape);
    const rand = mulberry32(7);
    // Weights unlike any initialisation, moving variances positive.
    const weights = trained.model.weights.map((w) => {
      const values = Float32Array.from({ length: w.shape.reduce<number>((a, b) => a * (b ?? 1), 1) }, () => rand() * 0.2 - 0.05);
      return w.name.includes('moving_variance') ? values.map((v) => 0.5 + Math.abs(v)) : values;
    });
    trained.model.setWeights(weights.map((v, i) => tf.tensor(v, trained.model.weights[i].shape as number[])));
    const display = tf.tensor4d(Float32Array.from({ length: 4 * shape[0] * shape[1] * shape[2] }, () => rand()), [4, shape[0], shape[1], shape[2]]);
    const before = tf.memory().numTensors;
    const got = renderViews(helper, display, trained.model.weights.map((w) => w.read().dataSync() as Float32Array));
    expect(tf.memory().numTensors).toBe(before); // nothing left behind but the new weights' values
    const [recon, code] = trained.views.predict(display) as tf.Tensor[];
    const want = tf.clipByValue(recon, 0, 1).dataSync();
    expect(got.codeShape).toEqual(code.shape.slice(1));
    expect(got.pixels.length).toBe(want.length);
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.pixels[i] - want[i]));
    const codes = code.dataSync();
    for (let i = 0; i < codes.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got.codes[i] - codes[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    expect(() => renderViews(helper, display, [])).toThrow(/weight arrays/);
    tf.dispose([recon, code, display]);
    trained.model.dispose();
    helper.model.dispose();
  });
});
