import { test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import { registerTrainingKernels } from './kernels';

test('leak', async () => {
  setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  await tf.setBackend('wasm'); await tf.ready();
  registerTrainingKernels();
  const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
  const x = tf.randomUniform([32, 14, 14, 16]); const dy = tf.randomNormal([32, 14, 14, 8]); const w = tf.randomNormal([3, 3, 16, 8]);
  const run = () => tf.tidy(() => {
    const a = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 8] }) as tf.Tensor;
    const b = tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, [32, 14, 14, 16], 1, 'same');
    const dy2 = tf.randomNormal([32, 7, 7, 8]);
    const c = tf.conv2dTranspose(dy2 as tf.Tensor4D, w as tf.Tensor4D, [32, 14, 14, 16], 2, 'same');
    const d = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dy2 }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 8] }) as tf.Tensor;
    return tf.stack([a.sum(), b.sum(), c.sum(), d.sum()]);
  });
  for (let i = 0; i < 20; i++) run().dispose();
  const h0 = heap(); const n0 = tf.memory().numTensors;
  for (let i = 0; i < 300; i++) run().dispose();
  console.log('heap', h0, heap(), 'tensors', n0, tf.memory().numTensors, 'memory', JSON.stringify(tf.memory()));
}, 300000);
