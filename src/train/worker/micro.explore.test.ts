import { test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import { registerTrainingKernels, kernelStats, resetKernelStats, wasmConv2DBackpropFilterT } from './kernels';
import { loopFilter } from './bench.variants';

test('micro', async () => {
  setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  await tf.setBackend('wasm'); await tf.ready();
  const stockInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  registerTrainingKernels();
  const ourFilter = tf.getKernel('Conv2DBackpropFilter', 'wasm');
  const ourInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  const time = (f: () => tf.Tensor) => {
    for (let i = 0; i < 2; i++) f().dispose();
    const n = 5; const t0 = performance.now();
    for (let i = 0; i < n; i++) { const r = f(); r.dataSync(); r.dispose(); }
    return (performance.now() - t0) / n;
  };
  for (const [H, Ci, Co] of [[28, 1, 16], [14, 16, 4], [7, 4, 16], [14, 16, 16], [28, 16, 1]]) {
    const x = tf.randomUniform([32, H, H, Ci]); const dy = tf.randomNormal([32, H, H, Co]); const w = tf.randomNormal([3, 3, Ci, Co]);
    const fNew = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, Ci, Co] }) as tf.Tensor;
    const iNew = () => tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, [32, H, H, Ci], 1, 'same');
    resetKernelStats();
    const a = time(fNew); const fs = kernelStats.Conv2DBackpropFilter.ms / 7;
    const c = time(iNew);
    tf.unregisterKernel('Conv2DBackpropFilter', 'wasm'); tf.registerKernel({ ...ourFilter, kernelFunc: loopFilter });
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm'); tf.registerKernel(stockInput);
    const b = time(fNew); const d = time(iNew);
    tf.unregisterKernel('Conv2DBackpropFilter', 'wasm'); tf.registerKernel({ ...ourFilter, kernelFunc: wasmConv2DBackpropFilterT });
    const e = time(fNew);
    const chk = tf.tidy(() => tf.sub(fNew(), tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, Ci, Co] }) as tf.Tensor).abs().max().dataSync()[0]);
    tf.unregisterKernel('Conv2DBackpropFilter', 'wasm'); tf.registerKernel(ourFilter);
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm'); tf.registerKernel(ourInput);
    console.log(`${H}x${H} ${Ci}->${Co}: filter new ${a.toFixed(2)} (in-kernel ${fs.toFixed(2)}) loop ${b.toFixed(2)} T ${e.toFixed(2)} | input new ${c.toFixed(2)} stock ${d.toFixed(2)} ms`);
    tf.dispose([x, dy, w]);
  }
}, 300000);
