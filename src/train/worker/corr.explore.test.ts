import { test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import { registerTrainingKernels, setFilterGradMode, setInputGradMode, wasmConv2DBackpropFilterT } from './kernels';

test('corr', async () => {
  setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  registerTrainingKernels();
  const ours = tf.getKernel('Conv2DBackpropFilter', 'wasm');
  let worst = 0;
  for (const k of [1, 2, 3, 5]) for (const s of [1, 2, 3]) for (const pad of ['same', 'valid'] as const) for (const [H, W] of [[7, 7], [8, 5], [5, 9]]) for (const [Ci, Co] of [[1, 3], [3, 1], [2, 5]]) {
    if (pad === 'valid' && (k > H || k > W)) continue;
    const rnd = (shape: number[]) => { let a = 1; const n = shape.reduce((p, q) => p * q, 1); return tf.tensor(Float32Array.from({ length: n }, () => { a = (a * 16807) % 2147483647; return a / 2147483647 - 0.5; }), shape); };
    const xs = [3, H, W, Ci];
    await tf.setBackend('cpu');
    const x = rnd(xs);
    const ho = pad === 'same' ? Math.ceil(H / s) : Math.floor((H - k) / s) + 1;
    const wo = pad === 'same' ? Math.ceil(W / s) : Math.floor((W - k) / s) + 1;
    const dy = rnd([3, ho, wo, Co]);
    const attrs = { strides: s, pad, dataFormat: 'NHWC', filterShape: [k, k, Ci, Co] };
    const ref = (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor).dataSync();
    const xa = await x.array(); const dya = await dy.array();
    await tf.setBackend('wasm');
    const xw = tf.tensor(xa), dyw = tf.tensor(dya);
    for (const mode of ['normal', 'swapped', 'T'] as const) {
      tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
      if (mode === 'T') tf.registerKernel({ ...ours, kernelFunc: wasmConv2DBackpropFilterT }); else { tf.registerKernel(ours); setFilterGradMode(mode); }
      const got = (tf.engine().runKernel('Conv2DBackpropFilter', { x: xw, dy: dyw }, attrs) as tf.Tensor).dataSync();
      let e = 0; for (let i = 0; i < ref.length; i++) e = Math.max(e, Math.abs(ref[i] - got[i]));
      if (e > 1e-4) console.log('MISMATCH', mode, { k, s, pad, H, W, Ci, Co }, e);
      worst = Math.max(worst, e);
    }
    {
      await tf.setBackend('cpu');
      const wc = rnd([k, k, Ci, Co]);
      const refI = tf.conv2dTranspose(dy as tf.Tensor4D, wc as tf.Tensor4D, xs as [number, number, number, number], s, pad).dataSync();
      const wa = await wc.array();
      await tf.setBackend('wasm');
      const ww = tf.tensor(wa);
      for (const m of ['conv', 'matmul'] as const) {
        setInputGradMode(m);
        const got = tf.conv2dTranspose(dyw as tf.Tensor4D, ww as tf.Tensor4D, xs as [number, number, number, number], s, pad).dataSync();
        let e = 0; for (let i = 0; i < refI.length; i++) e = Math.max(e, Math.abs(refI[i] - got[i]));
        if (e > 1e-4) console.log('MISMATCH input', m, { k, s, pad, H, W, Ci, Co }, e);
        worst = Math.max(worst, e);
      }
    }
  }
  console.log('worst', worst, 'tensors', tf.memory().numTensors);
}, 300000);
