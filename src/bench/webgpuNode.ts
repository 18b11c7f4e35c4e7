/**
 * Real-GPU WebGPU benchmark without a browser: the worker's training code (model builder, loss,
 * optimizer, batches, our kernels) on @tensorflow/tfjs-backend-webgpu in Node, with Dawn's Node
 * binding (npm package `webgpu`) as `navigator.gpu`. Built into one file by `scripts/gpu-bench.sh`,
 * which also gathers Node, Dawn and the MNIST asset into `.gpu/` for a machine without npm.
 *
 *   node .gpu/webgpu-node-bench.mjs --webgpu .gpu/webgpu/index.js --data .gpu/mnist.bin.gz \
 *        [--out results.json] [--seconds 3] [--windows 3] [--batches 32,256] [--presets default,dense]
 *
 * For each preset and batch size it measures images/s (median of timed windows after a warm-up) of
 * - "loop": the worker's training loop itself (src/train/worker/loop.ts: a float batch uploaded per step,
 *   training.ts's trainStep, losses read back every 250 ms with one read-back in flight, weight
 *   snapshots at each read), with and without the live views (16 reconstructions + codes every 400 ms,
 *   1 s on two cores, or less often to stay under ~4% of the time); no test-set evaluation at epoch ends;
 * - "fit": plain `model.compile` (with the app's loss function) + `model.fit(x, x, {batchSize, shuffle: true})`, the data on the GPU.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import { createRequire } from 'node:module';
import { decodeDataset, type DecodedDataset } from '../data/decode';
import { splitIndices, pickDisplayIndices } from '../data/split';
import { DATASET_INFO } from '../data/catalogue';
import { findPreset } from '../model/presets';
import { median } from '../model/smoothing';
import type { ExperimentSpec } from '../model/spec';
import type { Post, RunState } from '../train/worker/loop';

import type * as T from '@tensorflow/tfjs';

type Tf = typeof T;

interface Args {
  webgpu: string;
  /** Folder with tfjs-backend-wasm's .wasm files: also time the loop on WASM (one thread, as in the app). */
  wasm: string | null;
  /** Skip Dawn and WebGPU (a local check of the WASM part on a machine without a GPU). */
  onlyWasm: boolean;
  data: string;
  out: string | null;
  seconds: number;
  windows: number;
  batches: number[];
  presets: string[];
  flags: string[];
}

function parseArgs(argv: string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (s: string | undefined, fallback: string): string[] => (s ?? fallback).split(',').filter(Boolean);
  return {
    webgpu: get('webgpu') ?? '.gpu/webgpu/index.js',
    wasm: get('wasm') ?? null,
    onlyWasm: argv.includes('--only-wasm'),
    data: get('data') ?? 'public/data/mnist.bin.gz',
    out: get('out') ?? null,
    seconds: Number(get('seconds') ?? 3),
    windows: Number(get('windows') ?? 3),
    batches: list(get('batches'), '32').map(Number),
    presets: list(get('presets'), 'default,wiki-5-layer,dense'),
    flags: list(get('dawn-flags'), ''),
  };
}

interface Cell {
  backend: 'webgpu' | 'wasm';
  preset: string;
  batchSize: number;
  /** loop: the worker's loop as the app trains (the fused path on WebGPU, #19); loop-stock: the same loop on tfjs' stock kernels. */
  mode: 'loop' | 'loop-no-views' | 'loop-stock' | 'fit';
  imagesPerSec: number | null;
  windows: number[];
  warmupMs: number;
  finalLoss: number | null;
  tensorsAfter: number;
  error?: string;
}

interface WebGpuModule {
  create: (flags: string[]) => GPU;
  globals: Record<string, unknown>;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  let adapterInfo: { vendor: string; architecture: string; device: string; description: string } = { vendor: 'none', architecture: '', device: '', description: '' };
  if (!args.onlyWasm) {
    // Dawn as navigator.gpu; tfjs-backend-webgpu registers itself only where `window` or a worker scope exists.
    const dawn = (await import(pathToFileURL(args.webgpu).href)) as WebGpuModule;
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create(args.flags);
    Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: `node ${process.version}` }, configurable: true });
    Object.defineProperty(globalThis, 'window', { value: globalThis, configurable: true });
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('no WebGPU adapter: is a Vulkan driver installed (VK_DRIVER_FILES / VK_ICD_FILENAMES)?');
    adapterInfo = adapter.info;
    console.log(`adapter: ${adapterInfo.vendor} ${adapterInfo.architecture} ${adapterInfo.device} ${adapterInfo.description}`);
  }

  const tf: Tf = await import('@tensorflow/tfjs');
  if (!args.onlyWasm) await import('@tensorflow/tfjs-backend-webgpu');
  const { buildModel } = await import('../train/worker/buildModel');
  const { makeOptimizer, lossFn, batchTensor } = await import('../train/worker/training');
  const { trainFrom } = await import('../train/worker/loop');
  const { ModelSlot } = await import('../train/worker/modelSlot');
  const { registerTrainingKernels } = await import('../train/worker/kernels');
  if (!args.onlyWasm) {
    if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
    await tf.ready();
    registerTrainingKernels();
    console.log(`tfjs ${tf.version.tfjs} on ${tf.getBackend()}`);
  }

  const data: DecodedDataset = decodeDataset(new Uint8Array(gunzipSync(readFileSync(args.data))));
  const info = DATASET_INFO.mnist;
  const split = splitIndices(data.count, info.testCount, info.splitSeed);
  const train = split.train.subarray(0, 8992);
  const displayIdx = pickDisplayIndices(split.test, data.labels, 16);
  console.log(`data: ${data.count} images, ${train.length} for training`);

  const specOf = (preset: string, batchSize: number): ExperimentSpec => {
    const p = findPreset(preset);
    if (!p) throw new Error(`unknown preset ${preset}`);
    return { ...structuredClone(p.spec), batchSize, trainSize: train.length, backend: 'webgpu' };
  };

  /**
   * The worker's training loop itself (src/train/worker/loop.ts), timed through what it reports: a window
   * runs from one loss read-back to the first one at least `seconds` later, so it counts the steps the
   * device has finished. Epoch ends flush the losses as in the app, but evaluate nothing (no test set here).
   */
  const loop = async (spec: ExperimentSpec, views: boolean, fused = true): Promise<Omit<Cell, 'backend' | 'preset' | 'batchSize' | 'mode' | 'tensorsAfter'>> => {
    const slot = new ModelSlot();
    slot.fusedEnabled = fused;
    const run: RunState = { id: 1, spec: { ...spec, epochs: 1_000_000 }, stopped: false, paused: false, resume: null };
    const stepsPerEpoch = Math.ceil(train.length / spec.batchSize);
    /** Images trained on in the first `steps` steps (an epoch's last batch may be short). */
    const imagesIn = (steps: number): number => Math.floor(steps / stepsPerEpoch) * train.length + Math.min(train.length, (steps % stepsPerEpoch) * spec.batchSize);
    const t0 = performance.now();
    let mark: { t: number; step: number } | null = null;
    let warmupMs = 0;
    let finalLoss: number | null = null;
    let failure: string | null = null;
    const windows: number[] = [];
    const post: Post = (msg) => {
      if (msg.type === 'error') {
        failure = msg.message;
        run.stopped = true;
        return;
      }
      if (msg.type !== 'trainLoss') return;
      const now = performance.now();
      const last = msg.points[msg.points.length - 1];
      finalLoss = last.loss;
      if (!mark) {
        // Warm-up: shader compilation and first allocations, at least 3 steps and 1.5 s.
        if (now - t0 >= 1500 && last.step >= 3) {
          mark = { t: now, step: last.step };
          warmupMs = now - t0;
        }
        return;
      }
      if (now - mark.t >= args.seconds * 1000) {
        windows.push((imagesIn(last.step) - imagesIn(mark.step)) / ((now - mark.t) / 1000));
        mark = { t: now, step: last.step };
        if (windows.length >= args.windows) run.stopped = true;
      }
    };
    try {
      await trainFrom(
        run,
        { data, trainIdx: train, testIdx: split.test, displayIdx, detail: 'bench' },
        { epoch: 0, step: 0, weights: null },
        {
          slot,
          post,
          yieldToEvents: () => new Promise<void>((r) => setImmediate(r)),
          liveViews: () => views,
          cores: os.cpus().length,
          helper: null,
          reportMemory: () => undefined,
        },
        { epochEnds: false },
      );
    } finally {
      slot.dispose();
    }
    if (failure !== null) throw new Error(failure);
    return { imagesPerSec: median(windows), windows, warmupMs, finalLoss };
  };

  /** Plain model.fit with the data on the GPU, as a tfjs user writes it. */
  const fit = async (spec: ExperimentSpec): Promise<Omit<Cell, 'backend' | 'preset' | 'batchSize' | 'mode' | 'tensorsAfter'>> => {
    const { model } = buildModel(spec, info.shape);
    const optimizer = makeOptimizer(spec);
    // The app's loss (training.ts), so model.fit optimises exactly what the loop's steps do.
    model.compile({ optimizer, loss: (yTrue: T.Tensor, yPred: T.Tensor) => lossFn(spec, yTrue, yPred) });
    const full = batchTensor(data, train, 0, train.length);
    let offset = 0;
    const run = async (batches: number): Promise<{ rate: number; loss: number | null; ms: number }> => {
      const n = batches * spec.batchSize;
      if (offset + n > full.shape[0]) offset = 0;
      const x = tf.slice(full, [offset, 0, 0, 0], [n, 28, 28, 1]);
      offset += n;
      try {
        const s0 = performance.now();
        const h = await model.fit(x, x, { batchSize: spec.batchSize, epochs: 1, shuffle: true, verbose: 0 });
        const ms = performance.now() - s0;
        const l = h.history.loss?.[h.history.loss.length - 1];
        return { rate: n / (ms / 1000), loss: typeof l === 'number' ? l : null, ms };
      } finally {
        x.dispose();
      }
    };
    try {
      const w0 = performance.now();
      await run(1);
      const warm = await run(4);
      const warmupMs = performance.now() - w0;
      const maxBatches = Math.floor(full.shape[0] / spec.batchSize);
      let perBatch = warm.ms / 4;
      const windows: number[] = [];
      let finalLoss: number | null = null;
      for (let w = 0; w < args.windows; w++) {
        const batches = Math.max(1, Math.min(maxBatches, Math.round((args.seconds * 1000) / perBatch)));
        const r = await run(batches);
        perBatch = r.ms / batches;
        windows.push(r.rate);
        finalLoss = r.loss;
      }
      return { imagesPerSec: median(windows), windows, warmupMs, finalLoss };
    } finally {
      full.dispose();
      optimizer.dispose();
      model.dispose();
    }
  };

  const cells: Cell[] = [];
  const measure = async (backend: Cell['backend'], preset: string, batchSize: number, mode: Cell['mode'], f: () => ReturnType<typeof loop>): Promise<void> => {
    let cell: Cell;
    try {
      cell = { backend, preset, batchSize, mode, ...(await f()), tensorsAfter: tf.memory().numTensors };
    } catch (e) {
      cell = { backend, preset, batchSize, mode, imagesPerSec: null, windows: [], warmupMs: 0, finalLoss: null, tensorsAfter: tf.memory().numTensors, error: e instanceof Error ? e.message : String(e) };
    }
    cells.push(cell);
    const rate = cell.imagesPerSec == null ? `failed: ${cell.error}` : `${cell.imagesPerSec.toFixed(0)} img/s`;
    console.log(`${backend} ${preset} b${batchSize} ${mode}: ${rate} (windows ${cell.windows.map((w) => w.toFixed(0)).join(', ')}; warm-up ${cell.warmupMs.toFixed(0)} ms; loss ${cell.finalLoss?.toFixed(4) ?? '-'}; ${cell.tensorsAfter} tensors)`);
  };
  for (const batchSize of args.onlyWasm ? [] : args.batches) {
    for (const preset of args.presets) {
      const spec = specOf(preset, batchSize);
      await measure('webgpu', preset, batchSize, 'loop', () => loop(spec, true));
      await measure('webgpu', preset, batchSize, 'loop-no-views', () => loop(spec, false));
      await measure('webgpu', preset, batchSize, 'loop-stock', () => loop(spec, true, false));
      await measure('webgpu', preset, batchSize, 'fit', () => fit(spec));
    }
  }
  let wasmInfo: { simd: boolean; threads: boolean } | null = null;
  if (args.wasm) {
    // The same loop on this machine's CPU through WASM, one thread as in the app (no cross-origin
    // isolation there): is Auto's WebGPU-first rule the faster choice on a real GPU machine?
    // tfjs-backend-wasm's Emscripten glue expects CommonJS globals, which this ES-module bundle lacks.
    Object.assign(globalThis, { __dirname: args.wasm, __filename: `${args.wasm}/tfjs-backend-wasm.js`, require: createRequire(import.meta.url) });
    const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
    setWasmPaths(`${args.wasm.replace(/\/$/, '')}/`);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
    await tf.ready();
    registerTrainingKernels();
    wasmInfo = { simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')), threads: false };
    console.log(`tfjs on ${tf.getBackend()} (SIMD ${wasmInfo.simd}, one thread)`);
    for (const preset of args.presets) {
      const spec = { ...specOf(preset, 32), backend: 'wasm' as const };
      await measure('wasm', preset, 32, 'loop', () => loop(spec, true));
    }
  }
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    tfjs: tf.version.tfjs,
    backend: 'webgpu',
    wasm: wasmInfo,
    loopOptimizer: 'flat (FlatOptimizer around tf.train.adam, as the app trains)',
    adapter: { vendor: adapterInfo.vendor, architecture: adapterInfo.architecture, device: adapterInfo.device, description: adapterInfo.description },
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGiB: os.totalmem() / 2 ** 30, platform: `${os.platform()} ${os.release()}` },
    seconds: args.seconds,
    windows: args.windows,
    totalSeconds: (performance.now() - t0) / 1000,
    cells,
  };
  if (args.out) writeFileSync(args.out, JSON.stringify(result, null, 2));
  console.log(`done in ${result.totalSeconds.toFixed(1)} s`);
  // Dawn keeps the event loop alive: exit explicitly.
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
