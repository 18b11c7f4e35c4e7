/* eslint-disable no-restricted-imports -- the bench page is the one main-thread page that runs tfjs: it is the "plain tfjs" yardstick the worker loop is compared with. */
/**
 * The benchmark page's code (bench.html), driven by scripts/bench.mjs through `window.__bench`:
 *
 * - `plainFit`: trains a preset "the plain way a tfjs user writes it" — `model.compile` + `model.fit`
 *   on the page's main thread — with the app's own model builder, kernels, backend choice and data,
 *   and returns images/s (median of timed windows after a warm-up). `prepareFit` + `fitWindow` do the
 *   same one window at a time, so the bench can interleave them with the app's worker loop.
 * - `kernelShare`: on wasm, times the worker's training step (training.ts's trainStep)
 *   and reads `kernelStats` to get the share of a step spent in our custom wasm kernels; then wraps
 *   every wasm kernel in a timer for a per-kernel breakdown (and reports what the wrappers cost).
 * - `env`: tfjs version, wasm features, and what Auto picks on this thread.
 */
import * as tf from '@tensorflow/tfjs';
import { datasetShape } from '../data/catalogue';
import type { DecodedDataset } from '../data/decode';
import { loadAnyDataset } from '../data/sources';
import { epochOrder, splitIndices } from '../data/split';
import { findPreset } from '../model/presets';
import { median } from '../model/smoothing';
import type { BackendChoice, BackendName, ExperimentSpec } from '../model/spec';
import { applyWasmThreads, wasmThreadsNow } from '../train/worker/wasmThreads';
import { selectBackend } from '../train/worker/backends';
import { buildModel } from '../train/worker/buildModel';
import { kernelStats, registerTrainingKernels, resetKernelStats } from '../train/worker/kernels';
import { batchTensor as images, lossFn, makeOptimizer, makeTrainingOptimizer, trainStep } from '../train/worker/training';

export interface PlainFitArgs {
  preset: string;
  backend: BackendName;
  /** Target length of one timed window (s). */
  seconds?: number;
  /** Timed windows after the warm-up. */
  windows?: number;
  /** Stop starting new windows after this many seconds (the whole call). */
  capSeconds?: number;
  batchSize?: number;
  trainSize?: number;
}

export interface PlainFitResult {
  preset: string;
  requested: BackendName;
  backend: string;
  reason: string;
  batchSize: number;
  /** Median over the timed windows, null when none completed. */
  imagesPerSec: number | null;
  /** t0/t1: the page clock (performance.now) around each timed fit call. */
  windows: { images: number; seconds: number; imagesPerSec: number; t0: number; t1: number }[];
  /** First fit call (one batch): graph building, shader compilation, kernel warm-up. */
  warmupMs: number;
  /** When no warm window fit in the cap: images/s of the first batch (with its warm-up), a lower bound. */
  lowerBound: number | null;
  capped: boolean;
  finalLoss: number | null;
}

export interface KernelShareArgs {
  preset: string;
  steps?: number;
  warmupSteps?: number;
  batchSize?: number;
}

export interface KernelTiming {
  kernel: string;
  calls: number;
  /** Exclusive time per step (ms): nested kernel calls are charged to the inner kernel. */
  msPerStep: number;
  share: number;
}

export interface KernelShareResult {
  preset: string;
  backend: string;
  batchSize: number;
  steps: number;
  /** Mean step time without any extra timing wrappers (ms): two runs, before and after the wrapped one. */
  stepMs: number;
  /**
   * Our custom kernels (kernelStats: they always time themselves) per step: msPerStep and share are
   * inclusive of the wasm kernels they call (XNNPACK Conv2D, BatchMatMul, wasm's Transpose); ownMsPerStep
   * and ownShare are the rest, our own JavaScript (index arithmetic, small layout loops, MaxPoolGrad).
   */
  ours: { kernel: string; calls: number; msPerStep: number; share: number; ownMsPerStep: number; ownShare: number }[];
  oursShare: number;
  oursOwnShare: number;
  /** Mean step time with every wasm kernel wrapped in a timer (ms). */
  stepMsWrapped: number;
  /** Per-kernel exclusive times with the wrappers, largest first (top 12). */
  top: KernelTiming[];
  /** Share of a (wrapped) step spent inside any kernel; the rest is tfjs' JS: tape, gradients, bookkeeping, batch building. */
  kernelsShare: number;
}

export interface BenchEnv {
  tfjs: string;
  wasmSimd: boolean | null;
  wasmThreads: boolean | null;
  wasmThreadsCount: number;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  auto: { name: string; reason: string } | { error: string };
}

export interface BenchApi {
  ready: true;
  plainFit: (args: PlainFitArgs) => Promise<PlainFitResult>;
  prepareFit: (args: PlainFitArgs) => Promise<{ backend: string; reason: string; warmupMs: number; perBatchMs: number }>;
  fitWindow: (seconds: number) => Promise<PlainFitResult['windows'][number] & { loss: number | null }>;
  kernelShare: (args: KernelShareArgs) => Promise<KernelShareResult>;
  env: () => Promise<BenchEnv>;
}

declare global {
  interface Window {
    __bench?: BenchApi;
  }
}

const log = (line: string): void => {
  const el = document.getElementById('log');
  if (el) el.textContent += `${line}\n`;
};

function presetSpec(id: string): ExperimentSpec {
  const p = findPreset(id);
  if (!p) throw new Error(`unknown preset '${id}'`);
  return structuredClone(p.spec);
}

/**
 * Starts a backend as the app's worker does, but on WASM always on one thread (tfjs-wasm's one-thread
 * build): this page trains on the main thread, which may not block, and a pthread pool there hangs.
 */
async function startBackend(choice: BackendChoice): Promise<{ name: string; reason: string }> {
  const report = await selectBackend(choice);
  if (choice !== 'auto' && report.name !== choice) throw new Error(`${choice} is not available here: ${report.reason}`);
  if (report.name === 'wasm') await applyWasmThreads({ threads: 1, reason: 'the main thread may not block for a pool' });
  registerTrainingKernels();
  return { name: report.name, reason: report.name === 'wasm' ? `${report.reason}; ${wasmThreadsNow()} thread(s)` : report.reason };
}

async function loadData(spec: ExperimentSpec): Promise<{ data: DecodedDataset; train: Uint32Array }> {
  const base = new URL(`${import.meta.env.BASE_URL}data/`, window.location.origin).href;
  const { info, data } = await loadAnyDataset(spec.dataset, base);
  const split = splitIndices(data.count, info.testCount, info.splitSeed);
  return { data, train: split.train.subarray(0, Math.min(split.train.length, spec.trainSize)) };
}

function lastLoss(h: tf.History): number | null {
  const losses = h.history.loss;
  const v = losses?.[losses.length - 1];
  return typeof v === 'number' ? v : null;
}

type FitWindow = PlainFitResult['windows'][number];

/** A compiled model with its data on a backend, ready for timed `model.fit` calls. */
interface FitSession {
  preset: string;
  requested: BackendName;
  backend: { name: string; reason: string };
  batchSize: number;
  /** Calls one plain `model.fit` over n batches (1 epoch, shuffled) and times it. */
  fit: (batches: number) => Promise<FitWindow & { loss: number | null }>;
  maxBatches: number;
  perBatchMs: number;
  warmupMs: number;
  dispose: () => void;
}

let session: FitSession | null = null;

async function openFitSession(args: PlainFitArgs, capMs: number): Promise<{ session: FitSession; warmOnly: boolean }> {
  const started = performance.now();
  const spec = presetSpec(args.preset);
  const batchSize = args.batchSize ?? 32;
  if (args.trainSize) spec.trainSize = args.trainSize;
  spec.batchSize = batchSize;
  const backend = await startBackend(args.backend);
  log(`fit session: ${args.preset} on ${backend.name}`);
  const { data, train } = await loadData(spec);
  const full = images(data, train, 0, train.length);
  const { model } = buildModel(spec, datasetShape(spec.dataset));
  // The app's loss (training.ts), so model.fit optimises exactly what the worker's steps do.
  model.compile({ optimizer: makeOptimizer(spec), loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => lossFn(spec, yTrue, yPred) });
  let offset = 0;
  const fit = async (batches: number): Promise<FitWindow & { loss: number | null }> => {
    const n = batches * batchSize;
    if (offset + n > full.shape[0]) offset = 0;
    const x = tf.slice(full, [offset, 0, 0, 0], [n, full.shape[1], full.shape[2], full.shape[3]]);
    offset += n;
    try {
      const t0 = performance.now();
      const h = await model.fit(x, x, { batchSize, epochs: 1, shuffle: true, verbose: 0 });
      const t1 = performance.now();
      return { images: n, seconds: (t1 - t0) / 1000, imagesPerSec: n / ((t1 - t0) / 1000), t0, t1, loss: lastLoss(h) };
    } finally {
      x.dispose();
    }
  };
  const s: FitSession = {
    preset: args.preset,
    requested: args.backend,
    backend,
    batchSize,
    fit,
    maxBatches: Math.floor(full.shape[0] / batchSize),
    perBatchMs: 0,
    warmupMs: 0,
    dispose: () => {
      full.dispose();
      model.dispose();
    },
  };
  try {
    // First call: graph building, shader compilation, kernel warm-up.
    const warm = await fit(1);
    s.warmupMs = warm.seconds * 1000;
    s.perBatchMs = s.warmupMs;
    // Then a warm single batch calibrates the window length, unless that would overrun the cap.
    const warmOnly = performance.now() - started + s.warmupMs > capMs;
    if (!warmOnly) s.perBatchMs = Math.max(1, (await fit(1)).seconds * 1000);
    return { session: s, warmOnly };
  } catch (e) {
    s.dispose();
    throw e;
  }
}

/** One timed window of about `seconds` (at least one batch). */
async function timedWindow(s: FitSession, seconds: number): Promise<FitWindow & { loss: number | null }> {
  const batches = Math.max(1, Math.min(s.maxBatches, Math.round((seconds * 1000) / s.perBatchMs)));
  const r = await s.fit(batches);
  s.perBatchMs = (r.seconds * 1000) / batches;
  return r;
}

/** For interleaved measurements: compile and warm a model, then time windows one at a time with fitWindow. */
async function prepareFit(args: PlainFitArgs): Promise<{ backend: string; reason: string; warmupMs: number; perBatchMs: number }> {
  session?.dispose();
  session = null;
  const { session: s } = await openFitSession(args, Number.POSITIVE_INFINITY);
  session = s;
  return { backend: s.backend.name, reason: s.backend.reason, warmupMs: s.warmupMs, perBatchMs: s.perBatchMs };
}

async function fitWindow(seconds: number): Promise<FitWindow & { loss: number | null }> {
  if (!session) throw new Error('prepareFit first');
  return timedWindow(session, seconds);
}

async function plainFit(args: PlainFitArgs): Promise<PlainFitResult> {
  const started = performance.now();
  const seconds = args.seconds ?? 4;
  const windowsWanted = args.windows ?? 3;
  const capMs = (args.capSeconds ?? 45) * 1000;
  const { session: s, warmOnly } = await openFitSession(args, capMs);
  try {
    const windows: FitWindow[] = [];
    let finalLoss: number | null = null;
    let capped = warmOnly;
    for (let w = 0; w < windowsWanted && !warmOnly; w++) {
      const expected = Math.max(1, Math.round((seconds * 1000) / s.perBatchMs)) * s.perBatchMs;
      if (windows.length > 0 && performance.now() - started + expected > capMs) {
        capped = true;
        break;
      }
      if (windows.length === 0 && performance.now() - started + s.perBatchMs > capMs) {
        capped = true;
        break;
      }
      const r = await timedWindow(s, seconds);
      finalLoss = r.loss;
      windows.push({ images: r.images, seconds: r.seconds, imagesPerSec: r.imagesPerSec, t0: r.t0, t1: r.t1 });
    }
    const result: PlainFitResult = {
      preset: args.preset,
      requested: args.backend,
      backend: s.backend.name,
      reason: s.backend.reason,
      batchSize: s.batchSize,
      imagesPerSec: median(windows.map((w) => w.imagesPerSec)),
      windows,
      warmupMs: s.warmupMs,
      // Nothing timed within the cap: the first (cold) batch's rate, a lower bound.
      lowerBound: windows.length === 0 ? (s.batchSize * 1000) / s.warmupMs : null,
      capped,
      finalLoss,
    };
    log(JSON.stringify(result));
    return result;
  } finally {
    s.dispose();
  }
}

/** Wraps every kernel registered for `backend` in a timer; returns the totals and an undo. */
function wrapKernels(backend: string): { totals: Map<string, { calls: number; ms: number }>; restore: () => void } {
  const totals = new Map<string, { calls: number; ms: number }>();
  const originals = tf.getKernelsForBackend(backend);
  /** Time spent in nested kernels, per open frame, so each kernel is charged its exclusive time. */
  const stack: number[] = [];
  const entryFor = (key: string): { calls: number; ms: number } => {
    let e = totals.get(key);
    if (!e) {
      e = { calls: 0, ms: 0 };
      totals.set(key, e);
    }
    return e;
  };
  for (const config of originals) {
    const inner = config.kernelFunc;
    const name = config.kernelName;
    const timed: tf.KernelFunc = (params) => {
      stack.push(0);
      const t0 = performance.now();
      try {
        return inner(params);
      } finally {
        const dt = performance.now() - t0;
        const nested = stack.pop() ?? 0;
        // Matmuls are told apart by their transposes: the wasm backend runs only the untransposed one on XNNPACK.
        const a = params.attrs;
        const key = a && (a.transposeA === true || a.transposeB === true) ? `${name}(${a.transposeA === true ? 'Aᵀ' : 'A'}·${a.transposeB === true ? 'Bᵀ' : 'B'})` : name;
        const entry = entryFor(key);
        entry.calls++;
        entry.ms += dt - nested;
        if (stack.length > 0) stack[stack.length - 1] += dt;
      }
    };
    tf.unregisterKernel(name, backend);
    tf.registerKernel({ ...config, kernelFunc: timed });
  }
  const restore = (): void => {
    for (const config of originals) {
      tf.unregisterKernel(config.kernelName, backend);
      tf.registerKernel(config);
    }
  };
  return { totals, restore };
}

async function kernelShare(args: KernelShareArgs): Promise<KernelShareResult> {
  const spec = presetSpec(args.preset);
  const batchSize = args.batchSize ?? 32;
  const steps = args.steps ?? 20;
  const warmupSteps = args.warmupSteps ?? 3;
  const backend = await startBackend('wasm');
  const { data, train } = await loadData(spec);
  const { model } = buildModel(spec, datasetShape(spec.dataset));
  const optimizer = makeTrainingOptimizer(spec);
  const order = epochOrder(train, spec.seed, 0);
  let from = 0;
  /** One step as the worker's loop runs it: a batch from the uint8 pixels and the app's trainStep. */
  const step = (): void => {
    if (from + batchSize > order.length) from = 0;
    const x = images(data, order, from, from + batchSize);
    from += batchSize;
    trainStep(optimizer, spec, model, x).dispose();
    x.dispose();
  };
  const run = async (n: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) step();
    // wasm runs synchronously; one read-back makes sure nothing is queued.
    await tf.ready();
    return (performance.now() - t0) / n;
  };
  /** Our kernels' totals (kernelStats) over one plain run of `steps` steps, and the mean step time. */
  const plainRun = async (): Promise<{ stepMs: number; stats: Record<string, { calls: number; ms: number; wasmMs: number }> }> => {
    resetKernelStats();
    const stepMs = await run(steps);
    return { stepMs, stats: Object.fromEntries(Object.entries(kernelStats).map(([k, v]) => [k, { ...v }])) };
  };
  try {
    await run(warmupSteps);
    // Plain, wrapped, plain again: the two plain runs bracket the wrapped one, so a drift in machine
    // load shows up in both figures rather than in their difference.
    const first = await plainRun();
    const wrapped = wrapKernels('wasm');
    let stepMsWrapped: number;
    try {
      await run(1);
      for (const t of wrapped.totals.values()) {
        t.calls = 0;
        t.ms = 0;
      }
      stepMsWrapped = await run(steps);
    } finally {
      wrapped.restore();
    }
    const second = await plainRun();
    const stepMs = (first.stepMs + second.stepMs) / 2;
    const ours = Object.keys(first.stats).map((kernel) => {
      const calls = (first.stats[kernel].calls + second.stats[kernel].calls) / (2 * steps);
      const msPerStep = (first.stats[kernel].ms + second.stats[kernel].ms) / (2 * steps);
      const wasmMsPerStep = (first.stats[kernel].wasmMs + second.stats[kernel].wasmMs) / (2 * steps);
      const ownMsPerStep = msPerStep - wasmMsPerStep;
      return { kernel, calls, msPerStep, share: msPerStep / stepMs, ownMsPerStep, ownShare: ownMsPerStep / stepMs };
    });
    const oursShare = ours.reduce((a, o) => a + o.share, 0);
    const oursOwnShare = ours.reduce((a, o) => a + o.ownShare, 0);
    const all = [...wrapped.totals.entries()]
      .filter(([, t]) => t.calls > 0)
      .map(([kernel, t]) => ({ kernel, calls: t.calls / steps, msPerStep: t.ms / steps, share: t.ms / steps / stepMsWrapped }))
      .sort((a, b) => b.msPerStep - a.msPerStep);
    const result: KernelShareResult = {
      preset: args.preset,
      backend: backend.name,
      batchSize,
      steps,
      stepMs,
      ours,
      oursShare,
      oursOwnShare,
      stepMsWrapped,
      top: all.slice(0, 12),
      kernelsShare: all.reduce((a, k) => a + k.share, 0),
    };
    log(JSON.stringify(result));
    return result;
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

async function env(): Promise<BenchEnv> {
  const flag = async (name: string): Promise<boolean | null> => {
    try {
      return Boolean(await tf.env().getAsync(name));
    } catch {
      return null;
    }
  };
  let auto: BenchEnv['auto'];
  try {
    auto = await startBackend('auto');
  } catch (e) {
    auto = { error: e instanceof Error ? e.message : String(e) };
  }
  return {
    tfjs: tf.version.tfjs,
    wasmSimd: await flag('WASM_HAS_SIMD_SUPPORT'),
    wasmThreads: await flag('WASM_HAS_MULTITHREAD_SUPPORT'),
    wasmThreadsCount: wasmThreadsNow(),
    crossOriginIsolated: window.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    auto,
  };
}

window.__bench = { ready: true, plainFit, prepareFit, fitWindow, kernelShare, env };
log('ready');
