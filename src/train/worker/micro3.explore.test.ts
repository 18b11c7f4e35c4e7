import { test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import { registerTrainingKernels } from './kernels';

test('micro3', async () => {
  setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  await tf.setBackend('wasm'); await tf.ready();
  const stock = tf.getKernel('Conv2DBackpropInput', 'wasm');
  registerTrainingKernels();
  const ours = tf.getKernel('Conv2DBackpropInput', 'wasm');
  const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  for (const [Hi, Ci, Co, k] of [[14, 16, 8, 3], [7, 16, 16, 3], [14, 8, 1, 3], [14, 32, 16, 4]]) {
    const dy = tf.randomNormal([32, Hi, Hi, Co]); const w = tf.randomNormal([k, k, Ci, Co]);
    const f = () => tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, [32, 2 * Hi, 2 * Hi, Ci], 2, 'same');
    const ts: Record<string, number[]> = { ours: [], stock: [] };
    for (let r = 0; r < 11; r++) for (const m of ['ours', 'stock'] as const) {
      tf.unregisterKernel('Conv2DBackpropInput', 'wasm'); tf.registerKernel(m === 'ours' ? ours : stock);
      const t0 = performance.now(); const o = f(); o.dataSync(); ts[m].push(performance.now() - t0); o.dispose();
    }
    console.log(`dy ${Hi}x${Hi}x${Co} -> ${2 * Hi}x${2 * Hi}x${Ci} k${k} s2: ours ${med(ts.ours).toFixed(2)} stock ${med(ts.stock).toFixed(2)} ms`);
    tf.dispose([dy, w]);
  }
}, 300000);
