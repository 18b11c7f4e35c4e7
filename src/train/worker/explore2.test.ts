import { test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { gradientCheck } from './gradcheck';
import { registerTrainingKernels, TRAINING_KERNELS } from './kernels';

test('explore2', async () => {
  registerTrainingKernels();
  await tf.setBackend('cpu');
  const info = await tf.profile(async () => { await gradientCheck(); return null; });
  const names = [...new Set(info.kernels.map((k) => k.name))].sort();
  console.log('used:', names.join(' '));
  console.log('used but not in TRAINING_KERNELS:', names.filter((n) => !TRAINING_KERNELS.includes(n)).join(' '));
  console.log('in list but unused:', TRAINING_KERNELS.filter((n) => !names.includes(n)).join(' '));
  for (const b of ['wasm', 'webgl', 'webgpu']) console.log(b, 'missing:', names.filter((n) => tf.getKernel(n, b) == null).join(' '));
  for (const b of ['wasm', 'webgl', 'webgpu', 'cpu']) console.log(b, 'missing from list:', TRAINING_KERNELS.filter((n) => tf.getKernel(n, b) == null).join(' '));
}, 300000);
