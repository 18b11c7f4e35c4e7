/**
 * The exported PyTorch code, run for real (issue #18): for every preset and for a spec with every
 * layer kind, the tfjs model (buildModel, with non-trivial batch-norm statistics and biases) is saved
 * in the tfjs layers format, the generated script loads it with its own loader, and on a fixed batch
 * every layer's output shape must equal our shape inference and the output tfjs' predict (max abs
 * difference 1e-4). A few training steps on a small array must give finite losses that fall.
 * The Keras script is checked for syntax and for the same layer list.
 *
 * Needs python3 with torch and numpy; without them the test is skipped, unless REQUIRE_TORCH=1 (CI),
 * where it fails.
 */
import * as tf from '@tensorflow/tfjs';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../data/split';
import { exportLayers } from '../../export/common';
import { kerasScript } from '../../export/keras';
import { pytorchScript } from '../../export/pytorch';
import { inferShapes } from '../../model/inferShapes';
import { PRESETS, presetFor } from '../../model/presets';
import { DATASET_INFO } from '../../data/catalogue';
import { datasetNpz } from '../../data/datasetNpz';
import { syntheticDataset } from '../../data/sources';
import type { ExperimentSpec, LayerSpec } from '../../model/spec';
import { buildModel } from './buildModel';
import { trySet } from './startBackend';
import { makeTrainingOptimizer, trainStep, variantObjective } from './training';
import { exportArtifacts } from './exportModel';

const run = promisify(execFile);

function probe(python: string, code: string): boolean {
  const r = spawnSync(python, ['-c', code], { encoding: 'utf8', timeout: 120_000 });
  return r.status === 0;
}
/** $PYTHON, else the first python3 with torch (a pyenv shim may come before Debian's /usr/bin/python3). */
const candidates = process.env.PYTHON ? [process.env.PYTHON] : ['python3', '/usr/bin/python3'];
const PYTHON = candidates.find((p) => probe(p, 'import torch, numpy')) ?? candidates.find((p) => probe(p, 'import sys'));
const hasPython = PYTHON !== undefined;
const hasTorch = hasPython && probe(PYTHON, 'import torch, numpy');
if (!hasTorch && process.env.REQUIRE_TORCH !== '1') {
  console.warn(`exportCode.test: skipping the PyTorch checks: ${hasPython ? 'python3 has no torch/numpy' : 'no python3'} (install python3-torch python3-numpy)`);
}

const conv = (filters: number, kernelSize: number, strides: number, padding: 'same' | 'valid', activation: 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'elu' | 'selu' | 'softplus'): LayerSpec => ({
  kind: 'conv2d',
  filters,
  kernelSize,
  strides,
  padding,
  activation,
});
const convT = (filters: number, kernelSize: number, strides: number, padding: 'same' | 'valid', activation: 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'elu' | 'selu' | 'softplus'): LayerSpec => ({
  kind: 'conv2dTranspose',
  filters,
  kernelSize,
  strides,
  padding,
  activation,
});
const act = (activation: 'linear' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'elu' | 'selu' | 'softplus', alpha = 0.2): LayerSpec => ({ kind: 'activation', activation, alpha });

/** Every layer kind and activation; stride 1 and 2, 'same' (asymmetric padding: odd totals, an even kernel) and 'valid', a transposed conv with kernel < stride. */
const EVERY_KIND: ExperimentSpec = {
  ...PRESETS[0].spec,
  loss: 'mse',
  optimizer: 'rmsprop',
  learningRate: 0.001,
  encoder: [
    conv(8, 3, 1, 'same', 'relu'), // 28x28x8
    { kind: 'batchNorm' },
    act('leakyRelu', 0.3),
    conv(8, 3, 2, 'same', 'elu'), // 14x14x8, padding (0, 1)
    conv(6, 4, 1, 'same', 'softplus'), // 14x14x6, padding (1, 2)
    { kind: 'maxPool2d', poolSize: 2, strides: 2 }, // 7x7x6
    { kind: 'avgPool2d', poolSize: 2, strides: 1 }, // 6x6x6
    conv(4, 2, 2, 'valid', 'tanh'), // 3x3x4
    act('relu'),
    { kind: 'flatten' }, // 36
    { kind: 'dense', units: 24, activation: 'sigmoid' },
    { kind: 'batchNorm' },
    { kind: 'dropout', rate: 0.25 },
    act('tanh'),
  ],
  decoder: [
    { kind: 'dense', units: 98, activation: 'linear' },
    act('elu'),
    { kind: 'reshape', targetShape: [7, 7, 2] },
    { kind: 'upSampling2d', size: 2 }, // 14x14x2
    convT(8, 3, 2, 'same', 'relu'), // 28x28x8
    act('linear'),
    convT(6, 3, 1, 'valid', 'tanh'), // 30x30x6
    act('softplus'),
    conv(4, 3, 1, 'valid', 'linear'), // 28x28x4
    { kind: 'maxPool2d', poolSize: 2, strides: 2 }, // 14x14x4
    convT(4, 1, 2, 'valid', 'selu'), // 28x28x4 (kernel < stride)
    act('selu'),
    act('sigmoid'),
    conv(1, 3, 1, 'same', 'sigmoid'),
  ],
};

/** Every preset whose layers are the model's layers one for one (the VAE's heads and the rank-ordered clip have their own test below). */
const CASES: [string, ExperimentSpec][] = [
  ...PRESETS.filter((p) => p.spec.variant !== 'vae' && p.spec.variant !== 'rankOrdered').map((p): [string, ExperimentSpec] => [p.id, p.spec]),
  ['every-kind', EVERY_KIND],
];

/** A little-endian float32 / uint8 .npy file. */
function npy(data: Float32Array | Uint8Array, shape: number[]): Buffer {
  const descr = data instanceof Float32Array ? '<f4' : '|u1';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** Images with structure to learn: a few bright rectangles on black. */
function blobs(n: number, rng: () => number): Uint8Array {
  const out = new Uint8Array(n * 28 * 28);
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < 3; b++) {
      const y0 = Math.floor(rng() * 20);
      const x0 = Math.floor(rng() * 20);
      const h = 3 + Math.floor(rng() * 6);
      const w = 3 + Math.floor(rng() * 6);
      for (let y = y0; y < Math.min(28, y0 + h); y++) for (let x = x0; x < Math.min(28, x0 + w); x++) out[i * 784 + y * 28 + x] = 255;
    }
  }
  return out;
}

/**
 * Saves the model as the tfjs layers format (model.json + two weight shards, split mid-tensor as
 * tfjs' own sharding may) after giving every bias and batch-norm weight random values.
 */
async function saveTfjs(model: tf.LayersModel, dir: string, rng: () => number): Promise<void> {
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (weights.length === 0) continue;
    const names = layer.weights.map((w) => w.originalName.split('/').pop() ?? '');
    const values = weights.map((w, i) => {
      if (names[i] === 'kernel') return w.clone();
      const n = w.size;
      const v = new Float32Array(n);
      for (let j = 0; j < n; j++) {
        const u = rng();
        v[j] = names[i] === 'moving_variance' ? 0.3 + 2 * u : names[i] === 'gamma' ? 0.5 + u : 2 * u - 1;
      }
      return tf.tensor(v, w.shape);
    });
    layer.setWeights(values);
    // (getWeights returns the variables themselves: not disposed here.)
    values.forEach((t) => t.dispose());
  }
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      if (data == null || artifacts.weightSpecs == null) throw new Error('no weights saved');
      const all = Buffer.concat((Array.isArray(data) ? data : [data]).map((b) => Buffer.from(b)));
      const cut = Math.floor(all.length / 2) + 2;
      writeFileSync(join(dir, 'group1-shard1of2.bin'), all.subarray(0, cut));
      writeFileSync(join(dir, 'group1-shard2of2.bin'), all.subarray(cut));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: 'exportCode.test',
        convertedBy: null,
        weightsManifest: [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

interface CheckIo {
  names: string[];
  shapes: number[][];
  output_shape: number[];
  output: number[];
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

beforeAll(async () => {
  // The CPU backend as the app runs it: with our training kernels (stock tfjs' ResizeNearestNeighborGrad
  // is wrong for batches over 1, see kernels.ts), so the training steps compare with the app's.
  expect(await trySet('cpu')).toBeNull();
});

describe.skipIf(!hasTorch && process.env.REQUIRE_TORCH !== '1')('exported PyTorch code against tfjs', () => {
  it('python3 has torch and numpy', () => {
    if (!hasTorch) throw new Error('python3 with torch and numpy is required here (REQUIRE_TORCH=1): install python3-torch python3-numpy');
  });

  it.concurrent.each(CASES)('%s', async (_id, spec) => {
    if (!hasTorch) return;
    const dir = mkdtempSync(join(tmpdir(), 'ae-export-'));
    dirs.push(dir);
    const rng = mulberry32(spec.seed + 17);
    const report = inferShapes(spec, [28, 28, 1]);
    expect(report.error).toBeNull();
    const built = buildModel(spec, [28, 28, 1]);
    const n = 2;
    const input = new Float32Array(n * 784).map(() => rng());
    let expected: Float32Array;
    let afterSteps: Float32Array;
    const stepLosses: number[] = [];
    const perLayer: Float32Array[] = [];
    try {
      await saveTfjs(built.model, dir, rng);
      // Every layer's output too, so a wrong mapping cannot hide behind later squashing layers.
      const all = tf.model({ inputs: built.model.inputs, outputs: built.model.layers.slice(1).map((l) => l.output as tf.SymbolicTensor) });
      const x = tf.tensor4d(input, [n, 28, 28, 1]);
      const y = built.model.predict(x) as tf.Tensor;
      const ys = all.predict(x);
      (Array.isArray(ys) ? ys : [ys]).forEach((t) => {
        perLayer.push(t.dataSync() as Float32Array);
        t.dispose();
      });
      expected = y.dataSync() as Float32Array;
      y.dispose();
      // Two training steps as the app takes them (its optimizer, loss, batch norm in training mode), on a twin
      // with the same weights whose dropout is off (rate 0), as the script's --check-step does.
      const noDrop = (layers: LayerSpec[]): LayerSpec[] => layers.map((l) => (l.kind === 'dropout' ? { ...l, rate: 0 } : l));
      const twin = buildModel({ ...spec, encoder: noDrop(spec.encoder), decoder: noDrop(spec.decoder) }, [28, 28, 1]);
      const optimizer = makeTrainingOptimizer(spec);
      try {
        twin.model.setWeights(built.model.getWeights());
        for (let k = 0; k < 2; k++) {
          const loss = trainStep(optimizer, spec, twin.model, x);
          stepLosses.push(loss.dataSync()[0]);
          loss.dispose();
        }
        const after = twin.model.predict(x) as tf.Tensor;
        afterSteps = after.dataSync() as Float32Array;
        after.dispose();
      } finally {
        optimizer.dispose();
        twin.model.dispose();
        x.dispose();
      }
    } finally {
      built.model.dispose();
    }
    writeFileSync(join(dir, 'in.npy'), npy(input, [n, 28, 28, 1]));
    writeFileSync(join(dir, 'train.npy'), npy(blobs(64, rng), [64, 28, 28]));
    const script = join(dir, 'autoencoder_pytorch.py');
    writeFileSync(script, pytorchScript(spec, { link: 'https://example.org/#e=test' }));
    const steps = 8;
    await run(
      PYTHON ?? 'python3',
      [script, '--weights', join(dir, 'model.json'), '--check-io', join(dir, 'in.npy'), join(dir, 'out.json'), '--check-step', join(dir, 'in.npy'), join(dir, 'step.json'), '--smoke', join(dir, 'train.npy'), '--steps', String(steps), '--losses', join(dir, 'losses.json'), '--device', 'cpu'],
      { cwd: dir, env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }, timeout: 300_000 },
    );
    const io = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as CheckIo;
    expect(io.names).toEqual(exportLayers(spec).layers.map((l) => l.name));
    expect(io.shapes).toEqual(report.layers.map((l) => l.outputShape));
    expect(io.output_shape).toEqual([n, 28, 28, 1]);
    const bin = readFileSync(join(dir, 'out.json.layers.bin'));
    const got = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
    expect(perLayer).toHaveLength(io.names.length);
    let offset = 0;
    perLayer.forEach((want, k) => {
      const scale = Math.max(1, ...want.map(Math.abs));
      let diff = 0;
      for (let j = 0; j < want.length; j++) diff = Math.max(diff, Math.abs(got[offset + j] - want[j]));
      offset += want.length;
      expect(diff / scale, `layer ${io.names[k]}`).toBeLessThan(1e-4);
    });
    expect(offset).toBe(got.length);
    expect(io.output.length).toBe(expected.length);
    let maxDiff = 0;
    io.output.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - expected[i]))));
    expect(maxDiff).toBeLessThan(1e-4);
    // The outputs are not trivially equal (e.g. all 0.5): the check compares something.
    expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.01);

    // The same loss, optimizer (and its hyper-parameters) and batch-norm training semantics: same losses, same weights after.
    const step = JSON.parse(readFileSync(join(dir, 'step.json'), 'utf8')) as { losses: number[]; output: number[] };
    step.losses.forEach((l, k) => expect(Math.abs(l - stepLosses[k]), `loss of step ${k + 1}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(stepLosses[k]))));
    let stepDiff = 0;
    step.output.forEach((v, i) => (stepDiff = Math.max(stepDiff, Math.abs(v - afterSteps[i]))));
    expect(stepDiff, 'output after two training steps').toBeLessThan(1e-3);

    const losses = JSON.parse(readFileSync(join(dir, 'losses.json'), 'utf8')) as number[];
    expect(losses).toHaveLength(steps);
    losses.forEach((l) => expect(Number.isFinite(l)).toBe(true));
    expect(Math.min(...losses.slice(-3))).toBeLessThan(losses[0]);
  }, 300_000);
});

describe.skipIf(!hasTorch && process.env.REQUIRE_TORCH !== '1')('exported PyTorch code: the autoencoder family (#16)', () => {
  const dense: ExperimentSpec = {
    ...(PRESETS.find((p) => p.id === 'dense')?.spec ?? PRESETS[0].spec),
    seed: 4,
    encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 24, activation: 'relu' }, { kind: 'dense', units: 6, activation: 'relu' }],
    decoder: [{ kind: 'dense', units: 784, activation: 'sigmoid' }, { kind: 'reshape', targetShape: [28, 28, 1] }],
  };
  const variants: [string, ExperimentSpec][] = [
    ['vae, beta 3, bce', { ...dense, variant: 'vae', beta: 3, loss: 'bce' }],
    ['sparse, l1 loss', { ...dense, variant: 'sparse', sparsity: 0.7, codeDropout: 0.2, codeNoise: 0.1, loss: 'l1' }],
    ['rank-ordered, mse', { ...dense, variant: 'rankOrdered', loss: 'mse' }],
    ['denoising, salt and pepper', { ...dense, variant: 'denoising', corruption: 'saltPepper', noise: 0.3, loss: 'mse' }],
  ];
  it.concurrent.each(variants)('%s: the same inference output and objective (random parts off) as tfjs on the exported weights; it trains', async (_id, spec) => {
    if (!hasTorch) return;
    const dir = mkdtempSync(join(tmpdir(), 'ae-export-variant-'));
    dirs.push(dir);
    const rng = mulberry32(spec.seed + 5);
    const built = buildModel(spec, [28, 28, 1]);
    const n = 3;
    const input = new Float32Array(n * 784).map(() => rng());
    let expected: Float32Array;
    let objective: number;
    try {
      built.model.weights.forEach((w) => w.write(tf.tidy(() => tf.add(w.read(), tf.randomNormal(w.shape as number[], 0, 0.2, 'float32', 3)))));
      const exported = await exportArtifacts(built, spec);
      const weightsName = 'model.weights.bin';
      writeFileSync(join(dir, weightsName), Buffer.from(exported.weightData));
      writeFileSync(
        join(dir, 'model.json'),
        JSON.stringify({ modelTopology: exported.modelTopology, format: 'layers-model', weightsManifest: [{ paths: [weightsName], weights: exported.weightSpecs }] }),
      );
      const x = tf.tensor4d(input, [n, 28, 28, 1]);
      expected = tf.tidy(() => (built.model.predict(x) as tf.Tensor).dataSync() as Float32Array);
      // The objective with its random parts off: the VAE's code is its mean, no corruption, no rank mask.
      objective = tf.tidy(() => {
        const outputs = built.train.predict(x) as tf.Tensor[];
        return variantObjective(spec, x, outputs).total.dataSync()[0];
      });
      x.dispose();
    } finally {
      built.model.dispose();
    }
    writeFileSync(join(dir, 'in.npy'), npy(input, [n, 28, 28, 1]));
    writeFileSync(join(dir, 'train.npy'), npy(blobs(64, rng), [64, 28, 28]));
    const script = join(dir, 'autoencoder_pytorch.py');
    writeFileSync(script, pytorchScript(spec, { link: 'https://example.org/#e=test' }));
    const steps = 12;
    await run(
      PYTHON ?? 'python3',
      [script, '--weights', join(dir, 'model.json'), '--check-io', join(dir, 'in.npy'), join(dir, 'out.json'), '--check-objective', join(dir, 'in.npy'), join(dir, 'obj.json'), '--smoke', join(dir, 'train.npy'), '--steps', String(steps), '--losses', join(dir, 'losses.json'), '--device', 'cpu'],
      { cwd: dir, env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }, timeout: 300_000 },
    );
    const io = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as CheckIo;
    let maxDiff = 0;
    io.output.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - expected[i]))));
    expect(maxDiff).toBeLessThan(1e-4);
    const obj = JSON.parse(readFileSync(join(dir, 'obj.json'), 'utf8')) as { objective: number };
    expect(Math.abs(obj.objective - objective) / Math.max(1e-6, Math.abs(objective))).toBeLessThan(1e-4);
    // The penalty is in it: the objective differs from the plain reconstruction loss where the variant adds one.
    const losses = JSON.parse(readFileSync(join(dir, 'losses.json'), 'utf8')) as number[];
    expect(losses).toHaveLength(steps);
    losses.forEach((l) => expect(Number.isFinite(l)).toBe(true));
  }, 300_000);
});

describe.skipIf(!hasTorch && process.env.REQUIRE_TORCH !== '1')('exported PyTorch code on the app’s own images (#17)', () => {
  it('trains a 32×32 RGB experiment from the .npz the app saves (--data), and refuses without it', async () => {
    if (!hasTorch) throw new Error('python3 with torch and numpy is required here (REQUIRE_TORCH=1)');
    const spec = presetFor(PRESETS[0], 'shapes-rgb');
    const info = DATASET_INFO['shapes-rgb'];
    const dir = mkdtempSync(join(tmpdir(), 'ae-npz-'));
    dirs.push(dir);
    const data = syntheticDataset(info);
    writeFileSync(join(dir, 'shapes-rgb.npz'), datasetNpz(data, info.testCount, info.splitSeed));
    const script = join(dir, 'autoencoder_pytorch.py');
    writeFileSync(script, pytorchScript(spec, { link: 'https://example.org/#e=test' }));
    const env = { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    // The arrays as NumPy reads them: the app's split, N × 32 × 32 × 3 bytes, the same pixels.
    const shapes = spawnSync(PYTHON ?? 'python3', ['-c', `import numpy as np, json; z = np.load(${JSON.stringify(join(dir, 'shapes-rgb.npz'))}); print(json.dumps({k: list(z[k].shape) for k in z.files} | {'sum': int(z['train'].astype(np.int64).sum() + z['test'].astype(np.int64).sum())}))`], { encoding: 'utf8' });
    expect(shapes.stderr).toBe('');
    const got = JSON.parse(shapes.stdout) as Record<string, number[] | number>;
    expect(got.train).toEqual([info.count - info.testCount, 32, 32, 3]);
    expect(got.test).toEqual([info.testCount, 32, 32, 3]);
    expect(got.train_labels).toEqual([info.count - info.testCount]);
    expect(got.sum).toBe(data.pixels.reduce((a, b) => a + b, 0));
    await run(PYTHON ?? 'python3', [script, '--data', join(dir, 'shapes-rgb.npz'), '--train-size', '256', '--steps', '12', '--losses', join(dir, 'losses.json'), '--device', 'cpu'], { cwd: dir, env, timeout: 300_000 });
    const losses = JSON.parse(readFileSync(join(dir, 'losses.json'), 'utf8')) as number[];
    expect(losses).toHaveLength(12);
    expect(Math.min(...losses.slice(-3))).toBeLessThan(losses[0]);
    const without = spawnSync(PYTHON ?? 'python3', [script, '--steps', '1', '--device', 'cpu'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
    expect(without.status).not.toBe(0);
    expect(without.stderr).toContain('no public download');
  }, 300_000);
});

describe('exported Keras code', () => {
  it.each(CASES)('%s: compiles and lists the same layers', (_id, spec) => {
    const code = kerasScript(spec, { link: 'https://example.org/#e=test' });
    const keras: Record<LayerSpec['kind'], string> = {
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
    const found = [...code.matchAll(/^\s+(?:layers\.(\w+)|(leaky_relu))\(.*name="(\w+)"/gm)].map((m) => [m[1] ?? 'LeakyReLU', m[3]]);
    const want = exportLayers(spec).layers.map((l) => [l.layer.kind === 'activation' && l.layer.activation === 'leakyRelu' ? 'LeakyReLU' : keras[l.layer.kind], l.name]);
    expect(found).toEqual(want);
    if (!hasPython) {
      if (process.env.REQUIRE_TORCH === '1') throw new Error('python3 is required here (REQUIRE_TORCH=1)');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'ae-keras-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'autoencoder_keras.py'), code);
    const r = spawnSync(PYTHON ?? 'python3', ['-m', 'py_compile', join(dir, 'autoencoder_keras.py')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
