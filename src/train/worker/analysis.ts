/**
 * After-training analysis, in the worker: the copy test (does the model reconstruct inputs unlike its
 * data?) and a linear probe on the bottleneck codes (how useful is the code downstream?).
 */
import * as tf from '@tensorflow/tfjs';
import type { DecodedDataset } from '../../data/decode';
import { mulberry32 } from '../../data/split';
import type { ExperimentSpec } from '../../model/spec';
import type { CopyTestResult, ProbeResult } from '../protocol';
import { pixelsOf } from './training';

const SAMPLES = 6;
const COPY_N = 200;

async function lossAndSamples(
  model: tf.LayersModel,
  pixels: Float32Array,
  shape: [number, number, number],
  category: CopyTestResult['category'],
  label: string,
): Promise<CopyTestResult> {
  const size = shape[0] * shape[1] * shape[2];
  const n = pixels.length / size;
  const x = tf.tensor4d(pixels, [n, ...shape]);
  const [lossT, recon] = tf.tidy(() => {
    const out = model.predict(x) as tf.Tensor;
    const y = tf.clipByValue(out, 0, 1);
    // Mean squared error whatever the training loss: 0 means a perfect copy, on every kind of input.
    return [tf.losses.meanSquaredError(x, y) as tf.Scalar, y.slice([0, 0, 0, 0], [Math.min(SAMPLES, n), -1, -1, -1])];
  });
  x.dispose();
  const loss = (await lossT.data())[0];
  const reconstructions = (await recon.data()) as Float32Array;
  lossT.dispose();
  recon.dispose();
  const k = Math.min(SAMPLES, n);
  return {
    category,
    label,
    loss,
    count: n,
    samples: { n: k, height: shape[0], width: shape[1], channels: shape[2], originals: pixels.slice(0, k * size), reconstructions: reconstructions.slice() },
  };
}

/**
 * Reconstructs COPY_N test images, as many uniform-noise images (seeded by the spec), images of the
 * other data set and inverted test images; the mean squared error of each (the output clipped to [0, 1]).
 */
export async function copyTest(
  spec: Pick<ExperimentSpec, 'seed'>,
  model: tf.LayersModel,
  data: DecodedDataset,
  testIdx: Uint32Array,
  other: { data: DecodedDataset; testIdx: Uint32Array; label: string } | null,
): Promise<CopyTestResult[]> {
  const shape: [number, number, number] = [data.height, data.width, data.channels];
  const size = shape[0] * shape[1] * shape[2];
  const n = Math.min(COPY_N, testIdx.length);
  const test = pixelsOf(data, testIdx, 0, n);
  const rng = mulberry32(spec.seed + 7);
  const noise = new Float32Array(n * size).map(() => rng());
  const inverted = test.map((v) => 1 - v);
  // Another data set of the same image shape (none for an own set of a size no built-in set has).
  const otherPixels = other ? pixelsOf(other.data, other.testIdx, 0, Math.min(n, other.testIdx.length)) : null;
  return [
    await lossAndSamples(model, test, shape, 'test', 'Test images (seen kind, unseen images)'),
    await lossAndSamples(model, noise, shape, 'noise', 'Uniform noise'),
    ...(other && otherPixels ? [await lossAndSamples(model, otherPixels, shape, 'otherDataset', other.label)] : []),
    await lossAndSamples(model, inverted, shape, 'inverted', 'Inverted test images'),
  ];
}

/** Features in batches through `encode`, flattened to [n, d]. */
function features(encode: (x: tf.Tensor4D) => tf.Tensor, data: DecodedDataset, indices: Uint32Array, n: number): tf.Tensor2D {
  const parts: tf.Tensor2D[] = [];
  for (let from = 0; from < n; from += 500) {
    const to = Math.min(n, from + 500);
    const px = pixelsOf(data, indices.subarray(from, to));
    parts.push(
      tf.tidy(() => {
        const x = tf.tensor4d(px, [to - from, data.height, data.width, data.channels]);
        const f = encode(x);
        return f.reshape([to - from, -1]) as tf.Tensor2D;
      }),
    );
  }
  const all = tf.concat(parts, 0);
  parts.forEach((p) => p.dispose());
  return all;
}

/** Softmax regression on standardised features; returns test accuracy. */
async function fitLinear(trainX: tf.Tensor2D, trainY: tf.Tensor1D, testX: tf.Tensor2D, testY: tf.Tensor1D, classes: number): Promise<number> {
  const [xs, xt] = tf.tidy(() => {
    const { mean, variance } = tf.moments(trainX, 0);
    const std = tf.sqrt(tf.add(variance, 1e-6));
    return [tf.div(tf.sub(trainX, mean), std), tf.div(tf.sub(testX, mean), std)];
  });
  const d = trainX.shape[1];
  const w = tf.variable(tf.zeros([d, classes]));
  const b = tf.variable(tf.zeros([classes]));
  const yOneHot = tf.oneHot(tf.cast(trainY, 'int32'), classes);
  const opt = tf.train.adam(0.05);
  const lambda = 1e-3;
  for (let i = 0; i < 150; i++) {
    if (i % 30 === 0) await new Promise((r) => setTimeout(r, 0)); // let pings through
    const cost = opt.minimize(
      () =>
        tf.add(
          tf.losses.softmaxCrossEntropy(yOneHot, tf.add(tf.matMul(xs, w), b)),
          tf.mul(lambda, tf.mean(tf.square(w))),
        ) as tf.Scalar,
      true,
      [w, b],
    );
    cost?.dispose();
  }
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(tf.add(tf.matMul(xt, w), b), 1), tf.cast(testY, 'int32')), 'float32')));
  const acc = (await correct.data())[0] / testX.shape[0];
  [xs, xt, w, b, yOneHot, correct].forEach((t) => t.dispose());
  opt.dispose();
  return acc;
}

/**
 * Softmax regression on the encoder's codes of up to 5,000 training images, tested on up to 2,000 test
 * images; the same on the raw pixels for comparison. Accuracies in [0, 1].
 */
export async function linearProbe(
  encoder: tf.LayersModel,
  data: DecodedDataset,
  trainIdx: Uint32Array,
  testIdx: Uint32Array,
  classes: number,
): Promise<ProbeResult> {
  const t0 = performance.now();
  const nTrain = Math.min(trainIdx.length, 5000);
  const nTest = Math.min(testIdx.length, 2000);
  const labels = (idx: Uint32Array, n: number): tf.Tensor1D => tf.tensor1d(Array.from(idx.subarray(0, n), (i) => data.labels[i]), 'float32');
  const trainY = labels(trainIdx, nTrain);
  const testY = labels(testIdx, nTest);
  const encode = (x: tf.Tensor4D): tf.Tensor => encoder.predict(x) as tf.Tensor;
  const raw = (x: tf.Tensor4D): tf.Tensor => x;
  const codeTrain = features(encode, data, trainIdx, nTrain);
  const codeTest = features(encode, data, testIdx, nTest);
  const codeSize = codeTrain.shape[1];
  const codeAccuracy = await fitLinear(codeTrain, trainY, codeTest, testY, classes);
  codeTrain.dispose();
  codeTest.dispose();
  const pixTrain = features(raw, data, trainIdx, nTrain);
  const pixTest = features(raw, data, testIdx, nTest);
  const pixelAccuracy = await fitLinear(pixTrain, trainY, pixTest, testY, classes);
  pixTrain.dispose();
  pixTest.dispose();
  trainY.dispose();
  testY.dispose();
  return { codeAccuracy, pixelAccuracy, codeSize, trainCount: nTrain, testCount: nTest, seconds: (performance.now() - t0) / 1000 };
}
