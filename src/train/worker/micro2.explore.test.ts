import { test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import { registerTrainingKernels, setFilterGradMode, dbg } from './kernels';

test('micro2', async () => {
  setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  await tf.setBackend('wasm'); await tf.ready();
  registerTrainingKernels();
  for (const [H, Ci, Co] of [[28, 1, 16], [14, 16, 4], [7, 4, 16], [14, 16, 16], [28, 16, 1]]) {
    const x = tf.randomUniform([32, H, H, Ci]); const dy = tf.randomNormal([32, H, H, Co]);
    const f = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, Ci, Co] }) as tf.Tensor;
    const ts: Record<string, number[]> = { normal: [], swapped: [] };
    const d: Record<string, { prep: number; conv: number }> = { normal: { prep: 0, conv: 0 }, swapped: { prep: 0, conv: 0 } };
    for (let r = 0; r < 15; r++) for (const m of ['normal', 'swapped'] as const) {
      setFilterGradMode(m);
      dbg.prep = 0; dbg.conv = 0;
      const t0 = performance.now(); const o = f(); o.dataSync(); ts[m].push(performance.now() - t0); o.dispose();
      d[m].prep += dbg.prep / 15; d[m].conv += dbg.conv / 15;
    }
    const med = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
    console.log(`${H}x${H} ${Ci}->${Co}: normal ${med(ts.normal).toFixed(2)} swapped ${med(ts.swapped).toFixed(2)} ms; prep/conv normal ${d.normal.prep.toFixed(2)}/${d.normal.conv.toFixed(2)} swapped ${d.swapped.prep.toFixed(2)}/${d.swapped.conv.toFixed(2)}`);
    tf.dispose([x, dy]);
  }
}, 300000);
