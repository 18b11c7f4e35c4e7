import { test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { gradientCheck } from './gradcheck';
import { registerTrainingKernels } from './kernels';
import path from 'node:path';

test('explore', async () => {
  setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  for (const reg of [false, true]) {
    if (reg) console.log('registered', registerTrainingKernels());
    for (const b of ['wasm', 'cpu']) {
      await tf.setBackend(b); await tf.ready();
      const n0 = tf.memory().numTensors;
      const t0 = performance.now();
      const r = await gradientCheck();
      console.log(b, 'reg', reg, 'ms', (performance.now() - t0).toFixed(0), 'tensors', n0, tf.memory().numTensors);
      for (const x of r) console.log(x.ok ? 'ok  ' : 'FAIL', x.kind, x.maxRelError.toExponential(2), x.detail);
    }
  }
}, 300000);
