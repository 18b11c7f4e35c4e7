import { test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { gradientCheck } from './gradcheck';
import { registerTrainingKernels, TRAINING_KERNELS } from './kernels';

test('explore2', async () => {
  registerTrainingKernels();
  await tf.setBackend('cpu');
  const info = await tf.profile(async () => {
    await gradientCheck();
    for (const loss of ['binaryCrossentropy', 'meanSquaredError']) for (const opt of [tf.train.adam(1e-3), tf.train.sgd(0.1), tf.train.rmsprop(1e-3)]) {
      const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: 'sigmoid' })] });
      m.compile({ optimizer: opt, loss });
      const x = tf.randomUniform([5, 4]); const y = tf.randomUniform([5, 3]);
      await m.fit(x, y, { epochs: 2, batchSize: 5, verbose: 0 });
      m.predict(x);
      await m.evaluate(x, y);
    }
    return null;
  });
  const names = [...new Set(info.kernels.map((k) => k.name))].sort();
  console.log('used:', names.join(' '));
  console.log('used but not in TRAINING_KERNELS:', names.filter((n) => !TRAINING_KERNELS.includes(n)).join(' '));
  console.log('in list but unused:', TRAINING_KERNELS.filter((n) => !names.includes(n)).join(' '));
  for (const b of ['wasm', 'webgl', 'webgpu', 'cpu']) console.log(b, 'missing:', names.filter((n) => tf.getKernel(n, b) == null).join(' '));
}, 300000);
