/**
 * "Look inside" (featureMaps.ts) on the cpu backend: the maps of one multi-output forward pass equal
 * (a) a 3×3 convolution and a 1×1 sigmoid convolution worked out by hand with weights set by the test,
 * and (b) the layers applied one by one to concrete tensors (batch norm and dropout in inference mode);
 * their shapes equal src/model/inferShapes.ts; the tensor count stays flat over repeated refreshes; the
 * service refreshes only while asked, at most once per FEATURE_MAPS_MIN_MS unless forced.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../data/split';
import { inferShapes } from '../../model/inferShapes';
import { PRESETS, VARIANT_DEFAULTS } from '../../model/presets';
import type { ExperimentSpec, LayerSpec } from '../../model/spec';
import type { FromWorker } from '../protocol';
import { buildModel } from './buildModel';
import { FEATURE_MAPS_MIN_MS, FeatureMapsService, buildFeatureMapModel, computeFeatureMaps, mapLayers } from './featureMaps';
import { trainFrom, type LoopDeps, type RunState } from './loop';
import { ModelSlot } from './modelSlot';
import { batchTensor, trainStep } from './training';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

function randomImage(h: number, w: number, c: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: h * w * c }, () => rand());
}

/** The values of each layer, cut out of the one array by the layers' shapes. */
function split(values: Float32Array, shapes: number[][]): Float32Array[] {
  const out: Float32Array[] = [];
  let at = 0;
  for (const s of shapes) {
    const n = s.reduce((a, b) => a * b, 1);
    out.push(values.subarray(at, at + n));
    at += n;
  }
  expect(at).toBe(values.length);
  return out;
}

describe('feature maps', () => {
  it('equal a 3×3 convolution and a 1×1 sigmoid convolution computed by hand', async () => {
    const H = 5;
    const W = 4;
    const encoder: LayerSpec[] = [{ kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' }];
    const decoder: LayerSpec[] = [{ kind: 'conv2d', filters: 1, kernelSize: 1, strides: 1, padding: 'same', activation: 'sigmoid' }];
    const built = buildModel({ encoder, decoder, seed: 1 }, [H, W, 1]);
    // Kernel weights k[dy][dx] = (dy + 1) + 10·(dx + 1) (distinct, so a flipped or transposed kernel shows), bias 0.5;
    // the 1×1 conv: weight -0.3, bias 0.2.
    const k = [0, 1, 2].map((dy) => [0, 1, 2].map((dx) => dy + 1 + 10 * (dx + 1)));
    const weights = [tf.tensor4d(k.flat(), [3, 3, 1, 1]), tf.tensor1d([0.5]), tf.tensor4d([-0.3], [1, 1, 1, 1]), tf.tensor1d([0.2])];
    built.model.setWeights(weights);
    weights.forEach((t) => t.dispose());
    const img = randomImage(H, W, 1, 3);
    const px = (y: number, x: number): number => (y >= 0 && y < H && x >= 0 && x < W ? img[y * W + x] : 0);
    const conv: number[] = [];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let s = 0.5;
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) s += k[dy + 1][dx + 1] * px(y + dy, x + dx);
        conv.push(s);
      }
    }
    const out = conv.map((v) => sigmoid(-0.3 * v + 0.2));

    const fm = buildFeatureMapModel(built.model);
    expect(fm.layers).toEqual([
      { stack: 'encoder', index: 0, kind: 'conv2d', shape: [H, W, 1] },
      { stack: 'decoder', index: 0, kind: 'conv2d', shape: [H, W, 1] },
    ]);
    const x = tf.tensor4d(img, [1, H, W, 1]);
    const values = await computeFeatureMaps(fm, x);
    x.dispose();
    const [a, b] = split(values, fm.layers.map((l) => l.shape));
    a.forEach((v, i) => expect(v).toBeCloseTo(conv[i], 4));
    b.forEach((v, i) => expect(v).toBeCloseTo(out[i], 5));
    built.model.dispose();
  });

  it('equal the layers applied one by one, with the shapes of inferShapes, on every preset and a model with batch norm and dropout', async () => {
    const extra = {
      encoder: [
        { kind: 'conv2d', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' },
        { kind: 'batchNorm' },
        { kind: 'dropout', rate: 0.5 },
        { kind: 'flatten' },
        { kind: 'dense', units: 5, activation: 'tanh' },
      ],
      decoder: [
        { kind: 'dense', units: 4 * 4 * 2, activation: 'relu' },
        { kind: 'reshape', targetShape: [4, 4, 2] },
        { kind: 'conv2dTranspose', filters: 1, kernelSize: 3, strides: 2, padding: 'same', activation: 'sigmoid' },
      ],
    } satisfies { encoder: LayerSpec[]; decoder: LayerSpec[] };
    const cases: [string, { encoder: LayerSpec[]; decoder: LayerSpec[] }, number[]][] = [
      ['bn+dropout', extra, [8, 8, 1]],
      ...PRESETS.map((p): [string, { encoder: LayerSpec[]; decoder: LayerSpec[] }, number[]] => [p.id, p.spec, [28, 28, 1]]),
    ];
    for (const [name, spec, shape] of cases) {
      const built = buildModel({ ...spec, seed: 9 }, shape);
      // Non-trivial batch-norm statistics, so inference mode (moving averages) differs from training mode.
      const rand = mulberry32(21);
      for (const w of built.model.weights) {
        if (!/moving_mean|moving_variance|gamma|beta/.test(w.name)) continue;
        const old = w.read();
        const v = tf.tensor(Float32Array.from({ length: old.size }, () => 0.5 + rand()), old.shape);
        w.write(v);
        v.dispose();
      }
      const fm = buildFeatureMapModel(built.model);
      const report = inferShapes(spec, shape);
      expect(fm.layers.map((l) => l.shape), name).toEqual(report.layers.map((l) => l.outputShape));
      expect(fm.layers.map((l) => `${l.stack}${l.index}:${l.kind}`), name).toEqual(report.layers.map((l) => `${l.stack}${l.index}:${l.layer.kind}`));
      const x = tf.tensor4d(randomImage(shape[0], shape[1], shape[2], 5), [1, ...shape] as [number, number, number, number]);
      const values = await computeFeatureMaps(fm, x);
      const parts = split(values, fm.layers.map((l) => l.shape));
      // Independently: each layer applied to the previous layer's concrete output (eager, inference mode).
      let current: tf.Tensor = x.clone();
      const layers = mapLayers(built.model);
      expect(layers.length).toBe(spec.encoder.length + spec.decoder.length);
      for (let i = 0; i < layers.length; i++) {
        // A rank-ordered code is clipped to [0, 1] (TReLU) before the decoder: by hand here.
        const clipFirst = i === spec.encoder.length && 'variant' in spec && spec.variant === 'rankOrdered';
        const input = clipFirst ? tf.clipByValue(current, 0, 1) : current;
        const next = layers[i].layer.apply(input) as tf.Tensor;
        if (input !== current) input.dispose();
        current.dispose();
        current = next;
        const expected = current.dataSync();
        expect(parts[i].length, `${name} layer ${i}`).toBe(expected.length);
        let maxErr = 0;
        for (let j = 0; j < expected.length; j++) maxErr = Math.max(maxErr, Math.abs(parts[i][j] - expected[j]));
        expect(maxErr, `${name} layer ${i}`).toBeLessThan(1e-4);
      }
      current.dispose();
      x.dispose();
      built.model.dispose();
    }
  });

  it('leaves the tensor count flat over repeated refreshes, and refreshes only while asked, throttled', async () => {
    const spec = PRESETS.find((p) => p.id === 'tiny')?.spec;
    if (!spec) throw new Error('no tiny preset');
    const built = buildModel(spec, [28, 28, 1]);
    const images = randomImage(28, 28, 1 * 16, 8);
    const posted: FromWorker[] = [];
    let clock = 0;
    const service = new FeatureMapsService((msg) => posted.push(msg), FEATURE_MAPS_MIN_MS, () => clock);
    service.attach({
      runId: 4,
      model: () => built.model,
      image: (i) => tf.tensor4d(images.subarray(i * 784, (i + 1) * 784), [1, 28, 28, 1]),
      count: 16,
      read: (p) => p,
    });
    // Closed panel: nothing is computed.
    await service.tick(1);
    expect(posted).toHaveLength(0);
    service.request(3);
    await service.tick(2); // wanted now (the panel opened)
    expect(posted).toHaveLength(1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await service.refresh();
    expect(tf.memory().numTensors).toBe(before);
    expect(posted).toHaveLength(6);
    clock += FEATURE_MAPS_MIN_MS / 2;
    await service.tick(3); // not due yet
    expect(posted).toHaveLength(6);
    await service.tick(4, true); // forced (an epoch's end, a pause)
    expect(posted).toHaveLength(7);
    clock += FEATURE_MAPS_MIN_MS + 1;
    await service.tick(5);
    expect(posted).toHaveLength(8);
    service.request(7); // another image: at once
    await service.tick(6);
    expect(posted).toHaveLength(9);
    // Live views off: due or not, only forced refreshes and new requests.
    clock += 10 * FEATURE_MAPS_MIN_MS;
    await service.tick(6, false, false);
    expect(posted).toHaveLength(9);
    service.request(2);
    await service.tick(6, false, false);
    expect(posted).toHaveLength(10);
    service.request(7);
    await service.tick(6, false, false);
    expect(posted).toHaveLength(11);
    service.request(null);
    clock += 10 * FEATURE_MAPS_MIN_MS;
    await service.tick(7, true);
    expect(posted).toHaveLength(11);
    expect(tf.memory().numTensors).toBe(before);

    const last = posted[posted.length - 1];
    if (last.type !== 'featureMaps') throw new Error(`posted ${last.type}`);
    expect(last.runId).toBe(4);
    expect(last.step).toBe(6);
    expect(last.image).toBe(7);
    // The maps of image 7 are of image 7: the first conv layer recomputed from that image directly.
    const x = tf.tensor4d(images.subarray(7 * 784, 8 * 784), [1, 28, 28, 1]);
    const first = tf.tidy(() => mapLayers(built.model)[0].layer.apply(x) as tf.Tensor);
    const expected = first.dataSync();
    for (let j = 0; j < expected.length; j += 97) expect(last.values[j]).toBeCloseTo(expected[j], 5);
    first.dispose();
    x.dispose();
    built.model.dispose();
  });

  it('the training loop refreshes them at a pause (the paused step), between steps and at each epoch end, and leaves no tensor behind', async () => {
    const side = 4;
    const count = 64 + 16;
    const rand = mulberry32(2);
    const data = { count, height: side, width: side, channels: 1, labels: new Uint8Array(count), pixels: new Uint8Array(count * side * side).map(() => Math.floor(rand() * 256)) };
    const all = Uint32Array.from({ length: count }, (_, i) => i);
    const displayIdx = all.subarray(64);
    const spec: ExperimentSpec = {
      dataset: 'mnist',
      encoder: [{ kind: 'conv2d', filters: 2, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' }, { kind: 'maxPool2d', poolSize: 2, strides: 2 }],
      decoder: [{ kind: 'upSampling2d', size: 2 }, { kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' }],
      loss: 'bce',
      optimizer: 'adam',
      learningRate: 0.01,
      batchSize: 8,
      epochs: 2,
      seed: 3,
      trainSize: 64,
      backend: 'cpu',
      ...VARIANT_DEFAULTS,
    };
    // Paused before the first step: the maps of the untrained model come at once (step 0).
    const run: RunState = { id: 9, spec, stopped: false, paused: true, resume: null };
    const slot = new ModelSlot();
    const messages: FromWorker[] = [];
    let clock = 0;
    const service = new FeatureMapsService((msg) => messages.push(msg), FEATURE_MAPS_MIN_MS, () => clock);
    service.attach({ runId: run.id, model: () => slot.built?.model ?? null, image: (i) => batchTensor(data, displayIdx, i, i + 1), count: 16, read: (p) => p });
    service.request(5);
    const deps: LoopDeps = {
      slot,
      post: (msg) => {
        messages.push(msg);
        // Resume once the loop waits (after the maps of the pause were posted).
        if (msg.type === 'phase' && msg.phase === 'paused') {
          const wake = setInterval(() => {
            if (run.resume) {
              clearInterval(wake);
              run.paused = false;
              run.resume();
            }
          }, 1);
        }
      },
      yieldToEvents: () => new Promise<void>((r) => setImmediate(r)),
      liveViews: () => true,
      cores: 4,
      helper: null,
      reportMemory: () => undefined,
      now: () => clock,
      featureMaps: (step, force) => service.tick(step, force),
    };
    const before = tf.memory().numTensors;
    // The clock moves 100 ms a step: due every 5 steps (FEATURE_MAPS_MIN_MS = 500).
    const step = (optimizer: tf.Optimizer, s: ExperimentSpec, model: tf.LayersModel, x: tf.Tensor): tf.Scalar => {
      clock += 100;
      return trainStep(optimizer, s, model, x);
    };
    await trainFrom(run, { data, trainIdx: all.subarray(0, 64), testIdx: displayIdx, displayIdx, detail: 'test' }, { epoch: 0, step: 0, weights: null }, deps, { step });
    slot.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const order = messages.map((m) => (m.type === 'featureMaps' ? `maps@${m.step}` : m.type === 'phase' ? m.phase : m.type === 'testLoss' ? `epoch${m.epoch}` : '')).filter((t) => t !== '');
    // The pause: its maps (step 0) right after the paused phase, before training goes on.
    expect(order.slice(0, 4)).toEqual(['building', 'training', 'paused', 'maps@0']);
    const maps = messages.flatMap((m) => (m.type === 'featureMaps' ? [m] : []));
    expect(maps.every((m) => m.image === 5 && m.runId === 9)).toBe(true);
    // 8 steps an epoch: maps at each epoch's end (forced) right after its test loss, and in between on the cadence.
    expect(order.indexOf('maps@8')).toBe(order.indexOf('epoch1') + 1);
    expect(order.indexOf('maps@16')).toBe(order.indexOf('epoch2') + 1);
    const between = maps.map((m) => m.step).filter((st) => st % 8 !== 0);
    expect(between.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < between.length; i++) expect(between[i] - between[i - 1]).toBeGreaterThanOrEqual(5);
    // The maps changed as the model trained.
    expect(Array.from(maps[0].values)).not.toEqual(Array.from(maps[maps.length - 1].values));
  });
});
