import { test } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { registerTrainingKernels, kernelStats, resetKernelStats, setFilterGradMode, setInputGradMode, wasmConv2DBackpropFilterT } from './kernels';
import { loopFilter } from './bench.variants';
import { buildModel } from './buildModel';
import type { LayerSpec } from '../../model/spec';

function mnist(n: number): Float32Array {
  const buf = gunzipSync(readFileSync('public/data/mnist.bin.gz'));
  const count = buf.readUInt32LE(8);
  const off = 20 + count;
  const out = new Float32Array(n * 784);
  for (let i = 0; i < n * 784; i++) out[i] = buf[off + i] / 255;
  return out;
}

const enc: LayerSpec[] = [
  { kind: 'conv2d', filters: 16, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' },
  { kind: 'maxPool2d', poolSize: 2, strides: 2 },
  { kind: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' },
  { kind: 'maxPool2d', poolSize: 2, strides: 2 },
];
const dec: LayerSpec[] = [
  { kind: 'conv2d', filters: 16, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' },
  { kind: 'upSampling2d', size: 2 },
  { kind: 'conv2d', filters: 16, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' },
  { kind: 'upSampling2d', size: 2 },
  { kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' },
];

test('bench', async () => {
  setWasmPaths(path.resolve('node_modules/@tensorflow/tfjs-backend-wasm/dist') + '/');
  await tf.setBackend('wasm'); await tf.ready();
  const stockInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  console.log('registered', registerTrainingKernels(), 'simd', await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), 'threads', await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  const data = mnist(32);
  const ourFilter = tf.getKernel('Conv2DBackpropFilter', 'wasm');
  const ourInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  const setVariant = (v: string) => {
    tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    setFilterGradMode('auto'); setInputGradMode('conv');
    if (v === 'newM') { setInputGradMode('matmul'); tf.registerKernel(ourFilter); tf.registerKernel(ourInput); return; }
    if (v === 'new') { tf.registerKernel(ourFilter); tf.registerKernel(ourInput); }
    else if (v === 'normal' || v === 'swapped') { setFilterGradMode(v); tf.registerKernel(ourFilter); tf.registerKernel(ourInput); }
    else if (v === 'T') { tf.registerKernel({ ...ourFilter, kernelFunc: wasmConv2DBackpropFilterT }); tf.registerKernel(ourInput); }
    else if (v === 'newF') { tf.registerKernel(ourFilter); tf.registerKernel(stockInput); }
    else { tf.registerKernel({ ...ourFilter, kernelFunc: loopFilter }); tf.registerKernel(stockInput); }
  };
  const variants = (process.env.VARIANTS ?? 'new,old').split(',');
  const { model } = buildModel({ encoder: enc, decoder: dec, seed: 1 }, [28, 28, 1]);
  const opt = tf.train.adam(1e-3);
  model.compile({ optimizer: opt, loss: 'meanSquaredError' });
  const x = tf.tensor(data, [32, 28, 28, 1]);
  const res = new Map<string, { step: number[]; f: number[]; i: number[] }>();
  for (const v of variants) res.set(v, { step: [], f: [], i: [] });
  for (const v of variants) { setVariant(v); for (let i = 0; i < 3; i++) await model.trainOnBatch(x, x); }
  const N = Number(process.env.STEPS ?? 20);
  for (let k = 0; k < N; k++) {
    for (const v of variants) {
      setVariant(v);
      resetKernelStats();
      const t0 = performance.now();
      await model.trainOnBatch(x, x);
      const ms = performance.now() - t0;
      const r = res.get(v)!;
      r.step.push(ms); r.f.push(kernelStats.Conv2DBackpropFilter.ms); r.i.push(kernelStats.Conv2DBackpropInput.ms);
    }
  }
  const med = (a: number[]) => { const b = [...a].sort((p, q) => p - q); return b[Math.floor(b.length / 2)]; };
  const min = (a: number[]) => Math.min(...a);
  for (const [v, r] of res) {
    console.log(`${v}: step median ${med(r.step).toFixed(1)} min ${min(r.step).toFixed(1)} ms; filter grad median ${med(r.f).toFixed(1)} min ${min(r.f).toFixed(1)} (${(100 * med(r.f) / med(r.step)).toFixed(1)}%); our input grad median ${med(r.i).toFixed(1)} min ${min(r.i).toFixed(1)}`);
  }
  setVariant('new');
  x.dispose(); opt.dispose(); model.dispose();
}, 300000);
