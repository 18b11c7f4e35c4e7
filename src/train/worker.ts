/// <reference lib="webworker" />
/**
 * The training worker: the only code that touches tfjs. It builds the model from the spec, runs the
 * training loop, owns every tensor, and reports metrics and images back to the page.
 *
 * Faults it handles itself: a non-finite loss (pause, restore the weights from before the bad step),
 * a lost WebGPU device (continue on the next backend from the last epoch's weights).
 */
import * as tf from '@tensorflow/tfjs';
import { DATASET_INFO } from '../data/catalogue';
import { loadDataset } from '../data/load';
import type { DecodedDataset } from '../data/decode';
import { epochOrder, mulberry32, pickDisplayIndices, splitIndices } from '../data/split';
import { BACKEND_LABELS, type BackendChoice, type BackendName, type ExperimentSpec } from '../model/spec';
import type { BackendReport, FromWorker, GradCheckRow, LossPoint, ToWorker } from './protocol';
import { gradientCheck } from './worker/gradcheck';
import { autoCandidates, selectBackend } from './worker/backends';
import { raceBackends } from './worker/race';
import { pickFastest, raceKey, raceSummary } from './race';
import { buildModel, type BuiltModel } from './worker/buildModel';
import { detectCollapse } from './collapse';
import { nextViewsInterval, shouldReadLosses, viewsMinInterval } from './cadence';
import { copyTest, linearProbe } from './worker/analysis';
import { batchTensor, lossFn, makeTrainingOptimizer, pixelsOf, trainStep } from './worker/training';
import { ViewsOffload, type RenderedViews } from './worker/viewsOffload';

declare const self: DedicatedWorkerGlobalScope;

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

/** A macrotask yield (no 4 ms timer clamp) so pause/stop messages get through between steps. */
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });
}

interface Run {
  id: number;
  spec: ExperimentSpec;
  stopped: boolean;
  paused: boolean;
  resume: (() => void) | null;
}

class DeviceLostError extends Error {}

let current: Run | null = null;
/** The backend in use; `raced`: the key of the model Auto timed it for (src/train/race.ts), if it did. */
let activeBackend: { requested: BackendChoice; report: BackendReport; raced?: string } | null = null;
/** Auto's race results in this worker, per model (raceKey): timing again would only cost time. */
const raceResults = new Map<string, { winner: BackendName; summary: string }>();
/** Test hook: let Auto race software adapters too (on machines without a GPU they are all there is). */
let raceSoftware = false;
/** Backends whose device was lost in this worker: never chosen again. */
const lostBackends = new Set<BackendName>();
/** Rejects when the active GPU device is lost, so no await hangs on a dead device. */
let deviceLost: { promise: Promise<never>; lost: boolean; reason: string } | null = null;
let built: BuiltModel | null = null;
let optimizer: tf.Optimizer | null = null;
let runsActive = 0;
/** Live views: reconstructions and codes during an epoch (else only at its end). */
let liveViews = true;
/** What the last run trained on, for the copy test and the probe. */
let lastRun: { runId: number; spec: ExperimentSpec; data: DecodedDataset; trainIdx: Uint32Array; testIdx: Uint32Array } | null = null;

/**
 * The live views' forward pass on another core while training on the CPU (WASM, plain JS): the
 * training thread only copies the weights (a fraction of a millisecond). `viewsTarget` says which run
 * and model the helper's renders belong to, and the newest step already shown.
 */
let viewsTarget: { run: Run; key: number; shownStep: number } | null = null;
const offload = new ViewsOffload(
  (views) => showHelperViews(views),
  (reason) => {
    const run = viewsTarget?.run;
    viewsTarget = null;
    if (run && !run.stopped) {
      post({
        type: 'warning',
        runId: run.id,
        code: 'viewsHelper',
        message: `The live-views helper thread failed (${reason}); the training thread draws the live views itself from now on. Training goes on.`,
      });
    }
  },
);

/** Whether the live views go to the helper: CPU backends, a second core, and a helper that works. */
function viewsHelperWanted(): boolean {
  const name = activeBackend?.report.name;
  return (name === 'wasm' || name === 'cpu') && (self.navigator.hardwareConcurrency ?? 1) >= 2 && offload.usable;
}

function showHelperViews(views: RenderedViews): void {
  const target = viewsTarget;
  if (!target || target.key !== views.key || target.run.stopped || views.step <= target.shownStep) return;
  target.shownStep = views.step;
  const { run } = target;
  const { count } = views;
  post({ type: 'codes', runId: run.id, step: views.step, count, shape: views.codeShape, values: views.codes }, [views.codes.buffer]);
  const info = DATASET_INFO[run.spec.dataset];
  const [height, width, channels] = info.shape;
  const copy = views.pixels.slice();
  post({ type: 'images', runId: run.id, kind: 'reconstructions', step: views.step, count, height, width, channels, pixels: copy, renderedBy: 'helper' }, [copy.buffer]);
  if (views.step >= 30) {
    const msg = detectCollapse(views.pixels);
    if (msg) post({ type: 'warning', runId: run.id, code: 'collapse', message: msg });
  }
}

const MAX_TEST_IMAGES = 2000;
const SNAPSHOTS_KEPT = 3;

function guard<T>(p: Promise<T>): Promise<T> {
  return deviceLost ? Promise.race([p, deviceLost.promise]) : p;
}

function watchDevice(report: BackendReport): void {
  deviceLost = null;
  if (report.name !== 'webgpu') return;
  const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
  if (!device) return;
  const state = { lost: false, reason: '', promise: null as unknown as Promise<never> };
  state.promise = new Promise<never>((_, reject) => {
    void device.lost.then((info) => {
      state.lost = true;
      state.reason = info.message || info.reason || 'unknown reason';
      lostBackends.add('webgpu');
      reject(new DeviceLostError(`The WebGPU device was lost (${state.reason})`));
    });
  });
  state.promise.catch(() => undefined); // observed by guard(); never an unhandled rejection
  deviceLost = state;
}

async function chooseBackend(requested: BackendChoice): Promise<BackendReport> {
  if (activeBackend && activeBackend.requested === requested && !lostBackends.has(activeBackend.report.name)) {
    return activeBackend.report;
  }
  disposeModel();
  const report = await selectBackend(requested, lostBackends);
  activeBackend = { requested, report };
  watchDevice(report);
  return report;
}

/**
 * Auto with more than one fast candidate (a hardware GPU and WASM): time a few training steps of this
 * model on each and keep the fastest (src/train/race.ts). One candidate: the plain rule.
 */
async function chooseAuto(run: Run, data: DecodedDataset, trainIdx: Uint32Array): Promise<BackendReport> {
  const { spec } = run;
  const candidates = await autoCandidates(raceSoftware, lostBackends);
  if (candidates.length < 2) {
    if (activeBackend?.raced) activeBackend = null;
    return chooseBackend('auto');
  }
  const key = `${raceKey(spec)}|${candidates.join(',')}`;
  if (activeBackend?.raced === key && !lostBackends.has(activeBackend.report.name)) return activeBackend.report;
  let result = raceResults.get(key);
  if (!result) {
    disposeModel();
    activeBackend = null;
    const count = Math.min(spec.batchSize, trainIdx.length);
    const info = DATASET_INFO[spec.dataset];
    const timings = await raceBackends(
      candidates,
      spec,
      info.shape,
      pixelsOf(data, trainIdx, 0, count),
      count,
      (backend, i) =>
        post({
          type: 'phase',
          runId: run.id,
          phase: 'loading',
          detail: `Auto: timing a few training steps on ${BACKEND_LABELS[backend]} (${i + 1} of ${candidates.length})`,
          fraction: i / candidates.length,
        }),
      yieldToEvents,
      () => run.stopped,
    );
    const winner = pickFastest(timings);
    // Stopped mid-race (the caller returns at once) or nothing could be timed: the plain rule, nothing kept.
    if (!winner || run.stopped) return chooseBackend('auto');
    result = { winner, summary: raceSummary(timings, winner, count) };
    raceResults.set(key, result);
  }
  disposeModel();
  const report = await selectBackend(result.winner, lostBackends);
  const raced: BackendReport = {
    ...report,
    requested: 'auto',
    reason: report.name === result.winner ? `${result.summary}${report.device ? `\nDevice: ${report.device}` : ''}` : report.reason,
  };
  activeBackend = { requested: 'auto', report: raced, raced: key };
  watchDevice(raced);
  return raced;
}

function disposeModel(): void {
  built?.model.dispose();
  built = null;
  optimizer?.dispose();
  optimizer = null;
}

function reportMemory(): void {
  let numTensors = -1;
  let numBytes = -1;
  try {
    const m = tf.memory();
    numTensors = m.numTensors;
    numBytes = m.numBytes;
  } catch {
    // no backend yet
  }
  post({ type: 'memory', numTensors, numBytes, runsActive, viewsHelperTensors: offload.helperTensors });
}

async function waitIfPaused(run: Run): Promise<void> {
  while (run.paused && !run.stopped) {
    await new Promise<void>((resolve) => {
      run.resume = resolve;
    });
  }
}

async function evaluate(spec: ExperimentSpec, model: tf.LayersModel, data: DecodedDataset, indices: Uint32Array): Promise<number> {
  const n = Math.min(indices.length, MAX_TEST_IMAGES);
  const batch = 250;
  let total = tf.scalar(0);
  for (let from = 0; from < n; from += batch) {
    const to = Math.min(n, from + batch);
    const next = tf.tidy(() => {
      const x = batchTensor(data, indices, from, to);
      const y = model.predict(x) as tf.Tensor;
      return tf.add(total, tf.mul(lossFn(spec, x, y), to - from)) as tf.Scalar;
    });
    total.dispose();
    total = next;
    await yieldToEvents(); // let the watchdog's pings through on slow backends
  }
  try {
    return (await guard(total.data()))[0] / n;
  } finally {
    total.dispose();
  }
}

/** Reads a tensor back and disposes it, even when the read fails. */
async function readAndDispose(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await guard(t.data())) as Float32Array;
  } finally {
    t.dispose();
  }
}

/**
 * Sends the display images: the originals once, or the current reconstructions together with the
 * bottleneck codes (one forward pass through the views model).
 */
async function sendImages(run: Run, display: tf.Tensor4D, step: number, kind: 'originals' | 'reconstructions'): Promise<Float32Array> {
  const [count, height, width, channels] = display.shape;
  let pixels: Float32Array;
  if (kind === 'originals' || !built) {
    pixels = await readAndDispose(display.clone());
  } else {
    const [recon, code] = built.views.predict(display) as tf.Tensor[];
    const clipped = tf.clipByValue(recon, 0, 1);
    recon.dispose();
    const codeShape = code.shape.slice(1) as number[];
    const [px, values] = await Promise.all([readAndDispose(clipped), readAndDispose(code)]);
    pixels = px;
    if (!run.stopped) post({ type: 'codes', runId: run.id, step, count, shape: codeShape, values }, [values.buffer]);
  }
  const copy = pixels.slice();
  if (!run.stopped) post({ type: 'images', runId: run.id, kind, step, count, height, width, channels, pixels: copy, renderedBy: 'worker' }, [copy.buffer]);
  if (kind === 'reconstructions' && viewsTarget?.run === run) viewsTarget.shownStep = Math.max(viewsTarget.shownStep, step);
  return pixels;
}

/** Where a run (re)starts: epoch, step, and weights read back to the CPU at the end of an epoch. */
interface Checkpoint {
  epoch: number;
  step: number;
  weights: Float32Array[] | null;
}

interface Snapshot {
  step: number;
  tensors: tf.Tensor[];
}

async function train(run: Run): Promise<void> {
  const { spec } = run;
  const info = DATASET_INFO[spec.dataset];
  post({ type: 'phase', runId: run.id, phase: 'loading', detail: `Loading ${info.label}` });
  const base = new URL(`${import.meta.env.BASE_URL}data/`, self.location.origin).href;
  const loadStart = performance.now();
  const data = await loadDataset(info, base);
  const loadSeconds = (performance.now() - loadStart) / 1000;
  if (run.stopped) return;
  const split = splitIndices(data.count, info.testCount, info.splitSeed);
  const trainIdx = split.train.subarray(0, Math.min(split.train.length, spec.trainSize));
  const displayIdx = pickDisplayIndices(split.test, data.labels, 16);
  const detail = `Training on ${trainIdx.length} images (data loaded in ${loadSeconds.toFixed(2)} s)`;
  post({ type: 'phase', runId: run.id, phase: 'loading', detail: `Starting the ${spec.backend === 'auto' ? 'best' : spec.backend} backend` });
  let report = spec.backend === 'auto' ? await chooseAuto(run, data, trainIdx) : await chooseBackend(spec.backend);
  post({ type: 'backend', runId: run.id, report });
  if (run.stopped) return;
  // tfjs' unseeded random ops (dropout masks) draw their seeds from Math.random: seed it per run (after
  // Auto's race, which draws too) so the same spec on the same backend gives the same curve.
  Math.random = mulberry32((spec.seed ^ 0x5bd1e995) >>> 0);

  lastRun = { runId: run.id, spec, data, trainIdx, testIdx: split.test };
  let checkpoint: Checkpoint = { epoch: 0, step: 0, weights: null };
  for (;;) {
    try {
      checkpoint = await trainFrom(run, data, trainIdx, split.test, displayIdx, checkpoint, detail);
      return;
    } catch (e) {
      // A failed GPU read-back can arrive before the device's lost event: give that event a moment.
      if (deviceLost && !deviceLost.lost) {
        await Promise.race([deviceLost.promise.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      }
      if (!(e instanceof DeviceLostError) && !deviceLost?.lost) throw e;
      // The GPU is gone: its tensors with it. Continue on the next backend from the last epoch's weights.
      const reason = deviceLost?.reason ?? (e instanceof Error ? e.message : String(e));
      built = null; // its tensors lived on the lost device
      optimizer = null;
      activeBackend = null;
      report = await chooseBackend(spec.backend);
      post({ type: 'backend', runId: run.id, report });
      post({
        type: 'error',
        runId: run.id,
        message: `The WebGPU device was lost (${reason}). Training continues on ${report.name.toUpperCase()} from the end of epoch ${checkpoint.epoch}; curves so far are kept.`,
      });
    }
  }
}

async function trainFrom(
  run: Run,
  data: DecodedDataset,
  trainIdx: Uint32Array,
  testIdx: Uint32Array,
  displayIdx: Uint32Array,
  start: Checkpoint,
  detail: string,
): Promise<Checkpoint> {
  const { spec } = run;
  const info = DATASET_INFO[spec.dataset];
  post({ type: 'phase', runId: run.id, phase: 'building', detail: 'Building the model' });
  disposeModel();
  built = buildModel(spec, info.shape);
  const model = built.model;
  if (start.weights) {
    const shapes = model.weights.map((w) => w.shape as number[]);
    const tensors = start.weights.map((w, i) => tf.tensor(w, shapes[i]));
    model.setWeights(tensors);
    tensors.forEach((t) => t.dispose());
  }
  optimizer = makeTrainingOptimizer(spec);
  const display = batchTensor(data, displayIdx, 0, displayIdx.length);
  viewsTarget = null;
  if (viewsHelperWanted()) {
    const key = offload.prepare(spec, info.shape, pixelsOf(data, displayIdx), displayIdx.length);
    viewsTarget = { run, key, shownStep: -1 };
  }
  const snapshots: Snapshot[] = [];
  let pending: { step: number; loss: tf.Scalar }[] = [];
  let inflight: Promise<number | null> | null = null;
  const dropSnapshots = (keep: number): void => {
    while (snapshots.length > keep) snapshots.shift()?.tensors.forEach((t) => t.dispose());
  };
  const takeSnapshot = (step: number): void => {
    snapshots.push({ step, tensors: model.weights.map((w) => w.read().clone()) });
    dropSnapshots(SNAPSHOTS_KEPT);
  };
  let checkpoint = start;
  try {
    if (start.epoch === 0) await sendImages(run, display, 0, 'originals');
    await sendImages(run, display, start.step, 'reconstructions');
    const stepsPerEpoch = Math.ceil(trainIdx.length / spec.batchSize);
    const totalSteps = stepsPerEpoch * spec.epochs;
    let step = start.step;
    let lastRead = performance.now();
    let lastImages = performance.now();
    // Fewer refreshes on a two-core machine, where the page's redraws compete with training for the cores.
    const viewsMinMs = viewsMinInterval(self.navigator.hardwareConcurrency);
    let imagesEvery = viewsMinMs;
    let windowStart = performance.now();
    let windowImages = 0;
    let imagesPerSec = 0;
    takeSnapshot(step);

    /** Reads pending losses back; returns the first step whose loss is not finite, or null. */
    const readLosses = async (batch: { step: number; loss: tf.Scalar }[]): Promise<number | null> => {
      if (batch.length === 0) return null;
      const stacked = tf.stack(batch.map((b) => b.loss));
      batch.forEach((b) => b.loss.dispose());
      let values: Float32Array;
      try {
        values = (await guard(stacked.data())) as Float32Array;
      } finally {
        stacked.dispose();
      }
      const points: LossPoint[] = batch.map((b, i) => ({ step: b.step, loss: values[i] }));
      const now = performance.now();
      const dt = (now - windowStart) / 1000;
      if (dt > 0.5) {
        imagesPerSec = windowImages / dt;
        windowStart = now;
        windowImages = 0;
      }
      const last = points[points.length - 1];
      const eta = imagesPerSec > 0 ? ((totalSteps - last.step) * spec.batchSize) / imagesPerSec : 0;
      if (!run.stopped) {
        post({
          type: 'trainLoss',
          runId: run.id,
          points,
          progress: {
            epoch: Math.min(spec.epochs, Math.floor((last.step - 1) / stepsPerEpoch) + 1),
            epochs: spec.epochs,
            step: last.step,
            stepsPerEpoch,
            totalSteps,
            imagesPerSec,
            etaSeconds: eta,
            stepMs: imagesPerSec > 0 ? (1000 * spec.batchSize) / imagesPerSec : 0,
          },
        });
      }
      return points.find((p) => !Number.isFinite(p.loss))?.step ?? null;
    };

    /** Waits for every loss so far; returns the first bad step or null. */
    const flush = async (): Promise<number | null> => {
      const bad1 = inflight ? await inflight : null;
      inflight = null;
      const bad2 = await readLosses(pending);
      pending = [];
      return bad1 ?? bad2;
    };

    /** A non-finite loss: restore the newest weights from before the bad step, and pause. */
    const diverged = async (badStep: number): Promise<void> => {
      await flush();
      const snap = [...snapshots].reverse().find((s) => s.step < badStep) ?? snapshots[0];
      if (snap) model.setWeights(snap.tensors);
      optimizer?.dispose();
      optimizer = makeTrainingOptimizer(spec); // its moment estimates may hold NaN too
      run.paused = true;
      post({
        type: 'error',
        runId: run.id,
        message:
          `The loss became NaN or infinite at step ${badStep}: training is paused and the weights from step ${snap?.step ?? 0} ` +
          `(before the bad step) are restored; the curves so far are kept. Lower the learning rate (now ${spec.learningRate}) and train again.`,
      });
    };

    post({ type: 'phase', runId: run.id, phase: 'training', detail });
    for (let epoch = start.epoch; epoch < spec.epochs && !run.stopped; epoch++) {
      const order = epochOrder(trainIdx, spec.seed, epoch);
      // A resumed epoch after a device loss restarts at its first batch.
      step = epoch * stepsPerEpoch;
      for (let from = 0; from < order.length && !run.stopped; from += spec.batchSize) {
        if (deviceLost?.lost) throw new DeviceLostError(deviceLost.reason);
        if (run.paused) {
          const bad = await flush();
          if (bad !== null) await diverged(bad);
          post({ type: 'phase', runId: run.id, phase: 'paused', detail: bad !== null ? 'Paused: the loss diverged' : 'Paused' });
          await waitIfPaused(run);
          if (run.stopped) break;
          post({ type: 'phase', runId: run.id, phase: 'training', detail });
          windowStart = performance.now();
          windowImages = 0;
        }
        const to = Math.min(order.length, from + spec.batchSize);
        const x = batchTensor(data, order, from, to);
        const opt = optimizer;
        const loss = trainStep(opt, spec, model, x);
        x.dispose();
        step++;
        windowImages += to - from;
        pending.push({ step, loss });
        const now = performance.now();
        if (shouldReadLosses(now - lastRead, pending.length)) {
          // Keep one read-back in flight: the device keeps working while we wait for the previous one.
          const bad = inflight ? await inflight : null;
          inflight = null;
          if (bad !== null) {
            await diverged(bad);
            continue;
          }
          takeSnapshot(step - pending.length);
          inflight = readLosses(pending);
          pending = [];
          lastRead = now;
        }
        if (liveViews && now - lastImages > imagesEvery && viewsTarget?.run === run && viewsHelperWanted()) {
          // The helper renders on another core: hand it a copy of the weights (one in flight at a time).
          if (!offload.pending) {
            lastImages = now;
            // A copy each: the cpu backend's dataSync hands out its own storage, which must not be transferred.
            offload.render(step, model.weights.map((w) => (w.read().dataSync() as Float32Array).slice()));
            // Same cadence as on the training thread: each refresh also costs the page its redraws.
            imagesEvery = nextViewsInterval(offload.lastRenderMs, viewsMinMs);
          }
        } else if (liveViews && now - lastImages > imagesEvery) {
          lastImages = now;
          const px = await sendImages(run, display, step, 'reconstructions');
          // Keep the live views under ~4% of the time on slow backends: refresh less often there.
          imagesEvery = nextViewsInterval(performance.now() - now, viewsMinMs);
          if (step >= 30) {
            const msg = detectCollapse(px);
            if (msg) post({ type: 'warning', runId: run.id, code: 'collapse', message: msg });
          }
        }
        await yieldToEvents();
      }
      const bad = await flush();
      if (bad !== null) {
        await diverged(bad);
        post({ type: 'phase', runId: run.id, phase: 'paused', detail: 'Paused: the loss diverged' });
        await waitIfPaused(run);
        if (!run.stopped) epoch--; // run this epoch again
        continue;
      }
      if (run.stopped) break;
      const testLoss = await evaluate(spec, model, data, testIdx);
      const trainEval = await evaluate(spec, model, data, trainIdx);
      post({ type: 'testLoss', runId: run.id, epoch: epoch + 1, step, loss: testLoss, trainLoss: trainEval });
      const px = await sendImages(run, display, step, 'reconstructions');
      const msg = detectCollapse(px);
      if (msg) post({ type: 'warning', runId: run.id, code: 'collapse', message: msg });
      // Known-good weights: keep one snapshot on the device and a copy on the CPU (survives a device loss).
      dropSnapshots(0);
      takeSnapshot(step);
      const weights = await guard(Promise.all(model.weights.map((w) => w.read().data() as Promise<Float32Array>)));
      checkpoint = { epoch: epoch + 1, step, weights };
      reportMemory();
    }
    if (!run.stopped) post({ type: 'phase', runId: run.id, phase: 'done', detail: `Finished ${spec.epochs} epoch${spec.epochs === 1 ? '' : 's'}` });
    return checkpoint;
  } finally {
    if (!deviceLost?.lost) {
      display.dispose();
      pending.forEach((p) => p.loss.dispose());
      dropSnapshots(0);
    }
  }
}

function stopCurrent(): void {
  if (!current) return;
  current.stopped = true;
  current.resume?.();
  current = null;
}

async function runGradCheck(backends: BackendName[]): Promise<void> {
  disposeModel();
  activeBackend = null; // the next training run chooses its backend again
  for (let i = 0; i < backends.length; i++) {
    const backend = backends[i];
    const done = i === backends.length - 1;
    try {
      const report = await selectBackend(backend, lostBackends);
      if (report.name !== backend) {
        post({ type: 'gradCheck', backend, rows: [], error: `${backend} is not available here: ${report.reason}`, done });
        continue;
      }
      const results = await gradientCheck();
      const rows: GradCheckRow[] = results.map((r) => ({ backend, kind: r.kind, maxRelError: r.maxRelError, ok: r.ok, detail: r.detail }));
      post({ type: 'gradCheck', backend, rows, error: null, done });
    } catch (e) {
      post({ type: 'gradCheck', backend, rows: [], error: e instanceof Error ? e.message : String(e), done });
    }
  }
  reportMemory();
}

async function analyze(runId: number, what: 'copyTest' | 'probe'): Promise<void> {
  try {
    if (!lastRun || lastRun.runId !== runId || !built) throw new Error('Train a model first: there is no trained model to analyse');
    const { spec, data, trainIdx, testIdx } = lastRun;
    if (what === 'probe') {
      const result = await linearProbe(built.encoder, data, trainIdx, testIdx, DATASET_INFO[spec.dataset].classNames.length);
      post({ type: 'probe', runId, result });
    } else {
      const otherId = spec.dataset === 'mnist' ? 'fashion-mnist' : 'mnist';
      const otherInfo = DATASET_INFO[otherId];
      const base = new URL(`${import.meta.env.BASE_URL}data/`, self.location.origin).href;
      const otherData = await loadDataset(otherInfo, base);
      const otherSplit = splitIndices(otherData.count, otherInfo.testCount, otherInfo.splitSeed);
      const results = await copyTest(spec, built.model, data, testIdx, { data: otherData, testIdx: otherSplit.test, label: `${otherInfo.label} (the other data set)` });
      const transfer = results.flatMap((r) => [r.samples.originals.buffer, r.samples.reconstructions.buffer]);
      post({ type: 'copyTest', runId, results }, transfer);
    }
  } catch (e) {
    post({ type: 'analysisError', runId, what, message: e instanceof Error ? e.message : String(e) });
  }
  reportMemory();
}

/** Runs one after another, so two trainings never overlap. */
let queue: Promise<void> = Promise.resolve();

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  switch (msg.type) {
    case 'start': {
      stopCurrent();
      liveViews = msg.liveViews;
      const run: Run = { id: msg.runId, spec: msg.spec, stopped: false, paused: false, resume: null };
      current = run;
      queue = queue
        .then(async () => {
          if (run.stopped) return;
          runsActive++;
          try {
            await train(run);
          } finally {
            runsActive--;
          }
        })
        .catch((e: unknown) => {
          const message = e instanceof Error ? e.message : String(e);
          post({ type: 'error', runId: run.id, message: `Training failed: ${message}` });
          post({ type: 'phase', runId: run.id, phase: 'error', detail: 'Failed' });
        })
        .finally(() => reportMemory());
      break;
    }
    case 'views':
      liveViews = msg.live;
      break;
    case 'pause':
      if (current && current.id === msg.runId) current.paused = true;
      break;
    case 'resume':
      if (current && current.id === msg.runId) {
        current.paused = false;
        current.resume?.();
        current.resume = null;
      }
      break;
    case 'stop':
      if (current && current.id === msg.runId) stopCurrent();
      queue = queue.then(() => {
        if (!current) disposeModel();
        reportMemory();
      });
      break;
    case 'ping':
      post({ type: 'pong', id: msg.id });
      break;
    case 'debug':
      if (msg.action === 'memory') reportMemory();
      else if (msg.action === 'loseDevice') {
        const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
        if (device) device.destroy();
      } else if (msg.action === 'hang') {
        const until = performance.now() + 60_000;
        while (performance.now() < until) {
          // a deliberate busy loop: the page's watchdog must notice
        }
      } else if (msg.action === 'raceSoftware') {
        raceSoftware = true;
      } else if (msg.action === 'crashViews') {
        offload.crash();
      } else if (msg.action === 'crash') {
        setTimeout(() => {
          throw new Error('crash requested by a test hook');
        });
      }
      break;
    case 'analyze':
      queue = queue.then(() => analyze(msg.runId, msg.what));
      break;
    case 'gradCheck':
      stopCurrent();
      queue = queue.then(() => runGradCheck(msg.backends));
      break;
  }
};

post({ type: 'ready' });
