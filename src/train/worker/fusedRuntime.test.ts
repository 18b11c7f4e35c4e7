/**
 * The fused training path against tfjs' stock path as the reference: the same model (buildModel), the
 * same weights and batch; the fused loss and gradients (Dawn over SwiftShader) against tf.variableGrads
 * on tfjs' cpu backend, and the weights after a few optimizer steps against the stock optimizer's.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentSpec, LayerSpec, Shape } from '../../model/spec';
import { shapeSize } from '../../model/spec';
import { buildModel } from './buildModel';
import { registerTrainingKernels } from './kernels';
import { lossFn, makeOptimizer } from './training';
import { planFused, type FusedPlan } from '../fused/plan';
import { FusedNet } from '../fused/runtime';
import { download, gpuAvailable, randomArray, testDevice } from '../fused/testDevice';

type Case = { name: string; inputShape: Shape; encoder: LayerSpec[]; decoder: LayerSpec[]; loss?: ExperimentSpec['loss']; optimizer?: ExperimentSpec['optimizer'] };

const conv = (filters: number, activation: 'linear' | 'relu' | 'sigmoid' | 'tanh' = 'linear', kernelSize = 3, strides = 1, padding: 'same' | 'valid' = 'same'): LayerSpec => ({
  kind: 'conv2d',
  filters,
  kernelSize,
  strides,
  padding,
  activation,
});
const leaky: LayerSpec = { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 };

const CASES: Case[] = [
  {
    name: 'dense AE (flatten, relu, linear code, sigmoid, reshape), bce, adam',
    inputShape: [6, 6, 1],
    encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 10, activation: 'relu' }, { kind: 'dense', units: 3, activation: 'linear' }],
    decoder: [{ kind: 'dense', units: 10, activation: 'relu' }, { kind: 'dense', units: 36, activation: 'sigmoid' }, { kind: 'reshape', targetShape: [6, 6, 1] }],
  },
  {
    name: 'conv AE as the default preset (conv + leakyReLU fused, max pool, upsampling), bce, adam',
    inputShape: [8, 8, 1],
    encoder: [conv(4), leaky, { kind: 'maxPool2d', poolSize: 2, strides: 2 }, conv(2), leaky, { kind: 'maxPool2d', poolSize: 2, strides: 2 }],
    decoder: [conv(4), leaky, { kind: 'upSampling2d', size: 2 }, conv(4), leaky, { kind: 'upSampling2d', size: 2 }, conv(1, 'sigmoid')],
  },
  {
    name: 'conv + batch norm + leakyReLU (the wiki model), mse, sgd',
    inputShape: [8, 8, 1],
    loss: 'mse',
    optimizer: 'sgd',
    encoder: [conv(4), { kind: 'batchNorm' }, leaky, { kind: 'maxPool2d', poolSize: 2, strides: 2 }],
    decoder: [conv(4), { kind: 'batchNorm' }, leaky, { kind: 'upSampling2d', size: 2 }, conv(1, 'sigmoid')],
  },
  {
    name: 'strided conv, valid padding, transposed convs (same and valid), average pool, standalone tanh, l1, rmsprop',
    inputShape: [5, 5, 2],
    loss: 'l1',
    optimizer: 'rmsprop',
    // 5×5×2 → 3×3×3 (stride 2, same) → 2×2×4 (2×2 kernel, valid) → 1×1×4 (average pool) → 2×2×3 (stride 2, same) → 5×5×2 (4×4 kernel, valid).
    encoder: [conv(3, 'relu', 3, 2, 'same'), conv(4, 'linear', 2, 1, 'valid'), { kind: 'avgPool2d', poolSize: 2, strides: 1 }, { kind: 'activation', activation: 'tanh', alpha: 0 }],
    decoder: [
      { kind: 'conv2dTranspose', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'elu' },
      { kind: 'conv2dTranspose', filters: 2, kernelSize: 4, strides: 1, padding: 'valid', activation: 'linear' },
      { kind: 'activation', activation: 'sigmoid', alpha: 0 },
    ],
  },
  {
    name: 'batch norm after a dense layer, selu and softplus',
    inputShape: [4, 4, 1],
    encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 6, activation: 'linear' }, { kind: 'batchNorm' }, { kind: 'activation', activation: 'selu', alpha: 0 }],
    decoder: [{ kind: 'dense', units: 16, activation: 'softplus' }, { kind: 'reshape', targetShape: [4, 4, 1] }],
    loss: 'mse',
    // Not Adam: the dense bias before a batch norm has no gradient (the normalization removes it) but
    // rounding noise, which Adam's normalised step would turn into full-size, sign-random updates.
    optimizer: 'sgd',
  },
];

function specOf(c: Case): Pick<ExperimentSpec, 'encoder' | 'decoder' | 'seed' | 'loss' | 'optimizer' | 'variant' | 'learningRate'> {
  return { encoder: c.encoder, decoder: c.decoder, seed: 3, loss: c.loss ?? 'bce', optimizer: c.optimizer ?? 'adam', variant: 'plain', learningRate: 0.01 };
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** The worst error of `actual` against `expected`, relative to expected's largest value (at least `floor`), or null when within `rel`. */
function mismatch(actual: Float32Array, expected: Float32Array, what: string, rel = 2e-3, floor = 1e-3): string | null {
  if (actual.length !== expected.length) return `${what}: ${actual.length} values, expected ${expected.length}`;
  const scale = Math.max(maxAbs(expected), floor);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst / scale < rel ? null : `${what}: max error ${worst.toExponential(3)} against max |value| ${maxAbs(expected).toExponential(3)}`;
}

/** The fused net of a plan with the stock model's weights. */
function fusedFrom(device: GPUDevice, plan: FusedPlan, model: tf.LayersModel, lr: number): FusedNet {
  const byName = new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array] as const));
  const net = new FusedNet(device, plan, lr);
  net.writeWeights(plan.weights.map((w) => byName.get(`${w.layer}/${w.name}`) as Float32Array));
  return net;
}

async function readWeights(device: GPUDevice, net: FusedNet, plan: FusedPlan): Promise<Map<string, Float32Array>> {
  const params = await download(device, net.params.buffer, plan.paramFloats);
  const state = await download(device, net.stateBuffer.buffer, plan.stateFloats);
  return new Map(plan.weights.map((w) => [`${w.layer}/${w.name}`, (w.region === 'param' ? params : state).slice(w.offset, w.offset + w.size)] as const));
}

describe('fused training path against tfjs (cpu backend)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    // The app's kernels and gradients (tfjs' cpu upsampling gradient is wrong for batches of more than one).
    registerTrainingKernels();
  });

  for (const c of CASES) {
    it(`${c.name}: loss and gradients, then weights after 3 steps`, async ({ skip }) => {
      if (!(await gpuAvailable())) skip();
      const device = (await testDevice()) as GPUDevice;
      const spec = specOf(c);
      const planned = planFused(spec, c.inputShape);
      if (!planned.ok) throw new Error(planned.reasons.join('; '));
      const { plan } = planned;
      const N = 5;
      const pixels = randomArray(N * shapeSize(c.inputShape), 11, 0, 1);
      const built = buildModel(spec, c.inputShape);
      const { model } = built;
      const net = fusedFrom(device, plan, model, spec.learningRate);

      // Gradients of one batch, no update.
      net.writeBatch(pixels, N);
      const enc = device.createCommandEncoder();
      const counts = net.encodeStep(enc, N, false);
      device.queue.submit([enc.finish()]);
      expect(counts.optimizer).toBe(0);
      const at = net.lossSource(N);
      const fusedLoss = (await download(device, at.buffer, 1, at.offset / 4))[0];
      const fusedGrads = await download(device, net.gradients.buffer, plan.paramFloats);

      const x = tf.tensor(pixels, [N, ...c.inputShape]);
      const { value, grads } = tf.variableGrads(() => lossFn(spec, x, model.apply(x, { training: true }) as tf.Tensor));
      expect(fusedLoss).toBeCloseTo(value.dataSync()[0], 4);
      const problems: string[] = [];
      for (const lv of model.trainableWeights) {
        const w = plan.weights.find((s) => `${s.layer}/${s.name}` === lv.originalName);
        if (!w) throw new Error(`no slot for ${lv.originalName}`);
        problems.push(mismatch(fusedGrads.slice(w.offset, w.offset + w.size), grads[lv.name].dataSync() as Float32Array, `d ${lv.originalName}`) ?? '');
      }
      expect(problems.filter(Boolean)).toEqual([]);
      tf.dispose([value, ...Object.values(grads)]);

      // Three optimizer steps on three batches: the fused weights follow the stock optimizer's.
      // (The gradient pass above ran the batch norm's moving averages once on the fused side; start both afresh.)
      net.dispose();
      const built2 = buildModel(spec, c.inputShape);
      const net2 = fusedFrom(device, plan, built2.model, spec.learningRate);
      const optimizer = makeOptimizer(spec);
      for (let s = 0; s < 3; s++) {
        const batch = randomArray(N * shapeSize(c.inputShape), 100 + s, 0, 1);
        net2.writeBatch(batch, N);
        const e = device.createCommandEncoder();
        net2.encodeStep(e, N, true);
        device.queue.submit([e.finish()]);
        const xb = tf.tensor(batch, [N, ...c.inputShape]);
        optimizer.minimize(() => lossFn(spec, xb, built2.model.apply(xb, { training: true }) as tf.Tensor), true)?.dispose();
        xb.dispose();
      }
      const after = await readWeights(device, net2, plan);
      const drift = built2.model.weights.map((lv) => mismatch(after.get(lv.originalName) as Float32Array, lv.read().dataSync() as Float32Array, `${lv.originalName} after 3 steps`, 5e-3));
      expect(drift.filter(Boolean)).toEqual([]);
      net2.dispose();
      optimizer.dispose();
      x.dispose();
      model.dispose();
      built2.model.dispose();
    });
  }
});
