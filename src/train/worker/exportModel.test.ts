/**
 * Export (#18): a model with every layer kind, batch norm included, with non-trivial weights and
 * moving statistics, exported and written as model.json + model.weights.bin, must load in plain tfjs
 * with no custom class registered and compute the same function; imported into a freshly built model
 * of the spec in its metadata, it must compute the same function again.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../data/split';
import { inferShapes } from '../../model/inferShapes';
import { DEFAULT_SPEC } from '../../model/presets';
import type { ExperimentSpec, LayerKind, LayerSpec } from '../../model/spec';
import { isValidSpec } from '../../model/validate';
import { METADATA_KEY, modelJsonText, readModelFiles, WEIGHTS_NAME, type ModelFileContents } from '../modelFile';
import { buildModel, type BuiltModel } from './buildModel';
import { exportArtifacts, importWeights } from './exportModel';

const INPUT = [28, 28, 1];

/** Every layer kind, batch norm twice (encoder and decoder). */
const SPEC: ExperimentSpec = {
  ...DEFAULT_SPEC,
  seed: 11,
  encoder: [
    { kind: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' },
    { kind: 'batchNorm' },
    { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
    { kind: 'maxPool2d', poolSize: 2, strides: 2 },
    { kind: 'avgPool2d', poolSize: 2, strides: 2 },
    { kind: 'dropout', rate: 0.25 },
    { kind: 'flatten' },
    { kind: 'dense', units: 8, activation: 'tanh' },
  ],
  decoder: [
    { kind: 'dense', units: 196, activation: 'elu' },
    { kind: 'reshape', targetShape: [7, 7, 4] },
    { kind: 'upSampling2d', size: 2 },
    { kind: 'conv2dTranspose', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear' },
    { kind: 'batchNorm' },
    { kind: 'activation', activation: 'selu', alpha: 0.3 },
    { kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' },
  ],
};

/** The stock tfjs/Keras class of each of our layer kinds (written out here, not taken from the code under test). */
const STOCK_CLASS: Record<LayerKind, string> = {
  conv2d: 'Conv2D',
  conv2dTranspose: 'Conv2DTranspose',
  maxPool2d: 'MaxPooling2D',
  avgPool2d: 'AveragePooling2D',
  upSampling2d: 'UpSampling2D',
  batchNorm: 'BatchNormalization',
  activation: 'Activation',
  dense: 'Dense',
  flatten: 'Flatten',
  reshape: 'Reshape',
  dropout: 'Dropout',
};

interface TopologyLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
}

function topologyLayers(topology: unknown): TopologyLayer[] {
  // tfjs writes the model's own config (Keras writes it under model_config with a training config).
  const t = topology as { config?: { layers?: TopologyLayer[] }; model_config?: { config?: { layers?: TopologyLayer[] } } };
  const layers = t.config?.layers ?? t.model_config?.config?.layers;
  if (!layers) throw new Error('no layers in the topology');
  return layers;
}

/** Non-trivial weights: uniform in [-0.5, 0.5), moving variances in [0.5, 1.5) (must stay positive). */
function randomizeWeights(built: BuiltModel, seed: number): void {
  const rand = mulberry32(seed);
  const tensors = built.model.weights.map((w) => {
    const shape = w.shape as number[]; // a weight's shape is fully known
    const size = shape.reduce((a, b) => a * b, 1);
    const values = Float32Array.from({ length: size }, () => (w.originalName.endsWith('moving_variance') ? 0.5 + rand() : rand() - 0.5));
    return tf.tensor(values, shape);
  });
  built.model.setWeights(tensors);
  tensors.forEach((t) => t.dispose());
}

function fixedBatch(): tf.Tensor {
  const rand = mulberry32(99);
  return tf.tensor4d(Float32Array.from({ length: 4 * 28 * 28 }, () => rand()), [4, ...INPUT] as [number, number, number, number]);
}

function maxAbsDiff(a: tf.LayersModel, b: tf.LayersModel, x: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a.predict(x) as tf.Tensor, b.predict(x) as tf.Tensor))).dataSync()[0]);
}

let built: BuiltModel;
let x: tf.Tensor;

beforeAll(async () => {
  await tf.setBackend('cpu');
  // The spec is one the playground can train: its shapes work out.
  expect(isValidSpec(SPEC)).toBe(true);
  expect(inferShapes(SPEC, INPUT).layers.every((l) => l.error === null)).toBe(true);
  built = buildModel(SPEC, INPUT);
  randomizeWeights(built, 5);
  x = fixedBatch();
});

afterAll(() => {
  built.model.dispose();
  x.dispose();
});

async function exportFiles(): Promise<{ json: string; weights: ArrayBuffer }> {
  const exported = await exportArtifacts(built, SPEC);
  const json = modelJsonText(exported, { link: 'https://example.org/#x=1.test', trained: { steps: 40, epochs: 1, backend: 'cpu' }, exportedAt: '2026-12-04T00:00:00Z' });
  return { json, weights: exported.weightData };
}

function readBack(files: { json: string; weights: ArrayBuffer }): ModelFileContents {
  const r = readModelFiles([
    { name: 'model.json', bytes: new TextEncoder().encode(files.json).buffer },
    { name: WEIGHTS_NAME, bytes: files.weights },
  ]);
  if (!r.ok) throw new Error(r.error);
  return r.model;
}

describe('model export in the tfjs layers format', () => {
  it('writes stock layers only, with our layer names, and batch norm with Keras’ settings', async () => {
    const before = tf.memory().numTensors;
    const files = await exportFiles();
    expect(tf.memory().numTensors).toBe(before);
    const model = JSON.parse(files.json) as { format: string; weightsManifest: { paths: string[]; weights: { name: string }[] }[]; modelTopology: unknown };
    expect(model.format).toBe('layers-model');
    expect(model.weightsManifest[0].paths).toEqual([`./${WEIGHTS_NAME}`]);
    const layers = topologyLayers(model.modelTopology);
    // Keras has a layer of its own for LeakyReLU (with its alpha); the other activations are Activation layers.
    const stockClass = (l: LayerSpec): string => (l.kind === 'activation' && l.activation === 'leakyRelu' ? 'LeakyReLU' : STOCK_CLASS[l.kind]);
    const expected = [
      { class_name: 'InputLayer', name: 'input' },
      ...SPEC.encoder.map((l, i) => ({ class_name: stockClass(l), name: `enc${i}_${l.kind}` })),
      ...SPEC.decoder.map((l, i) => ({ class_name: stockClass(l), name: `dec${i}_${l.kind}` })),
    ];
    expect(layers.map((l) => ({ class_name: l.class_name, name: l.name }))).toEqual(expected);
    expect(files.json).not.toContain('TrainingBatchNorm');
    for (const bn of layers.filter((l) => l.class_name === 'BatchNormalization')) {
      expect(bn.config).toMatchObject({ axis: -1, momentum: 0.99, epsilon: 0.001, center: true, scale: true });
    }
    // The weight names the Python loaders read: <layer>/<weight>, batch norm's four included.
    const names = model.weightsManifest.flatMap((g) => g.weights.map((w) => w.name));
    expect(names).toEqual(expect.arrayContaining(['enc0_conv2d/kernel', 'enc0_conv2d/bias', 'enc1_batchNorm/gamma', 'enc1_batchNorm/beta', 'enc1_batchNorm/moving_mean', 'enc1_batchNorm/moving_variance', 'dec3_conv2dTranspose/kernel']));
    // 4-byte floats: the weights file holds exactly the model's parameters.
    expect(files.weights.byteLength).toBe(built.model.countParams() * 4);
  });

  it('loads in plain tfjs (no custom class registered) and predicts what the trained model predicts', async () => {
    const files = await exportFiles();
    const classes = tf.serialization.SerializationMap.getMap().classNameMap;
    const custom = classes.TrainingBatchNorm;
    expect(custom).toBeDefined();
    delete classes.TrainingBatchNorm;
    let loaded: tf.LayersModel;
    try {
      const modelJson = JSON.parse(files.json) as tf.io.ModelJSON;
      const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => [manifest.flatMap((g) => g.weights), files.weights]);
      loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    } finally {
      classes.TrainingBatchNorm = custom;
    }
    try {
      const diff = maxAbsDiff(built.model, loaded, x);
      expect(diff).toBeLessThan(1e-5);
      // The metadata travels with the model: the spec and the link back.
      const meta = (loaded.getUserDefinedMetadata() as Record<string, { spec: ExperimentSpec; link: string }>)[METADATA_KEY];
      expect(meta.spec).toEqual(SPEC);
      expect(meta.link).toBe('https://example.org/#x=1.test');
    } finally {
      loaded.dispose();
    }
  });

  it('imports into a fresh model built from the metadata’s spec: same predictions, no tensor left behind', async () => {
    const file = readBack(await exportFiles());
    expect(file.spec).toEqual(SPEC);
    expect(file.trained).toEqual({ steps: 40, epochs: 1, backend: 'cpu' });
    const fresh = buildModel(file.spec, INPUT);
    try {
      // Before the import the fresh model is a different function (its seeded initial weights).
      expect(maxAbsDiff(built.model, fresh.model, x)).toBeGreaterThan(1e-2);
      const before = tf.memory().numTensors;
      await importWeights(fresh, file);
      expect(tf.memory().numTensors).toBe(before);
      expect(maxAbsDiff(built.model, fresh.model, x)).toBeLessThan(1e-5);
      // The encoder shares the weights: the codes match too.
      const codeDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(built.encoder.predict(x) as tf.Tensor, fresh.encoder.predict(x) as tf.Tensor))).dataSync()[0]);
      expect(codeDiff).toBeLessThan(1e-5);
    } finally {
      fresh.model.dispose();
    }
  });

  it('refuses a model whose layers do not match the experiment, and leaves the model as it was', async () => {
    const file = readBack(await exportFiles());
    const other: ExperimentSpec = { ...SPEC, encoder: SPEC.encoder.map((l) => (l.kind === 'conv2d' ? { ...l, filters: 5 } : l)) };
    const wrongUnits: ExperimentSpec = { ...SPEC, decoder: SPEC.decoder.map((l) => (l.kind === 'activation' ? { ...l, activation: 'tanh' as const } : l)) };
    for (const [spec, message] of [
      [other, /layer enc0_conv2d has other settings|shapes/],
      [wrongUnits, /layer dec5_activation has other settings/],
    ] as const) {
      const target = buildModel(spec, INPUT);
      try {
        const weightsBefore = target.model.weights.map((w) => Array.from(w.read().dataSync()));
        await expect(importWeights(target, file)).rejects.toThrow(/do not match its experiment/);
        await expect(importWeights(target, file)).rejects.toThrow(message);
        expect(target.model.weights.map((w) => Array.from(w.read().dataSync()))).toEqual(weightsBefore);
      } finally {
        target.model.dispose();
      }
    }
  });
});

describe('the autoencoder family’s models (#16)', () => {
  const dense: ExperimentSpec = {
    ...DEFAULT_SPEC,
    seed: 5,
    encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 16, activation: 'relu' }, { kind: 'dense', units: 4, activation: 'relu' }],
    decoder: [{ kind: 'dense', units: 784, activation: 'sigmoid' }, { kind: 'reshape', targetShape: [28, 28, 1] }],
  };
  const rand = mulberry32(3);
  const input = (): tf.Tensor4D => tf.tensor4d(Float32Array.from({ length: 3 * 784 }, () => rand()), [3, 28, 28, 1]);
  const first = (t: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(t) ? t[0] : t);

  for (const variant of ['vae', 'rankOrdered', 'sparse'] as const) {
    it(`${variant}: the file loads in plain tfjs with the trained model's predictions, and imports back with every weight`, async () => {
      const spec: ExperimentSpec = { ...dense, variant, codeDropout: 0.3, codeNoise: 0.2 };
      const built = buildModel(spec, INPUT);
      // Move every weight away from its seeded start, so a weight that is not carried shows.
      built.model.weights.forEach((w) => w.write(tf.add(w.read(), tf.randomNormal(w.shape as number[], 0, 0.3, 'float32', 9)) as tf.Tensor));
      const x = input();
      const exported = await exportArtifacts(built, spec);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: exported.modelTopology, weightSpecs: exported.weightSpecs, weightData: exported.weightData }));
      const classes = (exported.modelTopology as { model_config?: { config?: { layers?: { class_name: string }[] } } }).model_config?.config?.layers?.map((l) => l.class_name) ?? [];
      expect(classes.every((c) => !['VaeSample', 'TRelu', 'RankMask'].includes(c)), classes.join(',')).toBe(true);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(first(built.model.predict(x)), first(loaded.predict(x))))).dataSync()[0]);
      expect(diff).toBeLessThan(1e-5);
      loaded.dispose();
      const fresh = buildModel(spec, INPUT);
      await importWeights(fresh, exported);
      const names = built.model.weights.map((w) => w.name);
      if (variant === 'vae') expect(names.some((n) => n.includes('_logvar'))).toBe(true);
      built.model.weights.forEach((w, i) => {
        const d = tf.tidy(() => tf.max(tf.abs(tf.sub(w.read(), fresh.model.weights[i].read()))).dataSync()[0]);
        expect(d, w.name).toBe(0);
      });
      x.dispose();
      built.model.dispose();
      fresh.model.dispose();
    });
  }
});
