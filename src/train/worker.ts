/// <reference lib="webworker" />
/**
 * The training worker: the only code that touches tfjs. It builds the model from the spec, runs the
 * training loop, owns every tensor, and reports metrics and images back to the page.
 */
import * as tf from '@tensorflow/tfjs';
import { DATASET_INFO } from '../data/catalogue';
import { loadDataset } from '../data/load';
import type { DecodedDataset } from '../data/decode';
import { epochOrder, mulberry32, pickDisplayIndices, splitIndices } from '../data/split';
import type { BackendChoice, BackendName, ExperimentSpec } from '../model/spec';
import type { BackendReport, FromWorker, GradCheckRow, LossPoint, ToWorker } from './protocol';
import { gradientCheck } from './worker/gradcheck';
import { selectBackend } from './worker/backends';
import { buildModel, type BuiltModel } from './worker/buildModel';
import { detectCollapse } from './collapse';

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

let current: Run | null = null;
let activeBackend: { requested: BackendChoice; report: BackendReport } | null = null;
let built: BuiltModel | null = null;
let optimizer: tf.Optimizer | null = null;

const READ_EVERY_MS = 250;
const IMAGES_EVERY_MS = 400;
const MAX_TEST_IMAGES = 2000;

function makeOptimizer(spec: ExperimentSpec): tf.Optimizer {
  switch (spec.optimizer) {
    case 'adam':
      return tf.train.adam(spec.learningRate);
    case 'sgd':
      return tf.train.momentum(spec.learningRate, 0.9);
    case 'rmsprop':
      return tf.train.rmsprop(spec.learningRate);
  }
}

function lossFn(spec: ExperimentSpec, target: tf.Tensor, output: tf.Tensor): tf.Scalar {
  if (spec.loss === 'mse') return tf.losses.meanSquaredError(target, output) as tf.Scalar;
  const eps = 1e-7;
  const p = tf.clipByValue(output, eps, 1 - eps);
  const ce = tf.add(tf.mul(target, tf.log(p)), tf.mul(tf.sub(1, target), tf.log(tf.sub(1, p))));
  return tf.neg(tf.mean(ce));
}

/** Fills a float batch from uint8 pixels of the given image indices. */
function batchTensor(data: DecodedDataset, indices: ArrayLike<number>, from: number, to: number): tf.Tensor4D {
  const size = data.height * data.width * data.channels;
  const n = to - from;
  const buf = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const src = indices[from + i] * size;
    const dst = i * size;
    for (let j = 0; j < size; j++) buf[dst + j] = data.pixels[src + j] / 255;
  }
  return tf.tensor4d(buf, [n, data.height, data.width, data.channels]);
}

function disposeModel(): void {
  built?.model.dispose();
  built = null;
  optimizer?.dispose();
  optimizer = null;
}

function reportMemory(): void {
  const m = tf.memory();
  post({ type: 'memory', numTensors: m.numTensors, numBytes: m.numBytes });
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
  }
  const value = (await total.data())[0] / n;
  total.dispose();
  return value;
}

async function sendImages(run: Run, model: tf.LayersModel, display: tf.Tensor4D, step: number, kind: 'originals' | 'reconstructions'): Promise<Float32Array> {
  const out = kind === 'originals' ? display.clone() : tf.tidy(() => tf.clipByValue(model.predict(display) as tf.Tensor, 0, 1));
  const pixels = (await out.data()) as Float32Array;
  out.dispose();
  const [count, height, width, channels] = display.shape;
  const copy = pixels.slice();
  if (!run.stopped) post({ type: 'images', runId: run.id, kind, step, count, height, width, channels, pixels: copy }, [copy.buffer]);
  return pixels;
}

async function train(run: Run): Promise<void> {
  const { spec } = run;
  const info = DATASET_INFO[spec.dataset];
  // tfjs' unseeded random ops (dropout masks) draw their seeds from Math.random: seed it per run so
  // the same spec on the same backend gives the same curve.
  Math.random = mulberry32((spec.seed ^ 0x5bd1e995) >>> 0);
  post({ type: 'phase', runId: run.id, phase: 'loading', detail: `Starting the ${spec.backend === 'auto' ? 'best' : spec.backend} backend` });
  if (!activeBackend || activeBackend.requested !== spec.backend) {
    disposeModel();
    activeBackend = { requested: spec.backend, report: await selectBackend(spec.backend) };
  }
  post({ type: 'backend', runId: run.id, report: activeBackend.report });
  post({ type: 'phase', runId: run.id, phase: 'loading', detail: `Loading ${info.label}` });
  const base = new URL(`${import.meta.env.BASE_URL}data/`, self.location.origin).href;
  const loadStart = performance.now();
  const data = await loadDataset(info, base);
  const loadSeconds = (performance.now() - loadStart) / 1000;
  if (run.stopped) return;
  const split = splitIndices(data.count, info.testCount, info.splitSeed);
  const train = split.train.subarray(0, Math.min(split.train.length, spec.trainSize));
  const displayIdx = pickDisplayIndices(split.test, data.labels, 16);

  post({ type: 'phase', runId: run.id, phase: 'building', detail: 'Building the model' });
  disposeModel();
  built = buildModel(spec, info.shape);
  optimizer = makeOptimizer(spec);
  const model = built.model;
  const display = batchTensor(data, displayIdx, 0, displayIdx.length);
  try {
    await sendImages(run, model, display, 0, 'originals');
    await sendImages(run, model, display, 0, 'reconstructions');
    const stepsPerEpoch = Math.ceil(train.length / spec.batchSize);
    const totalSteps = stepsPerEpoch * spec.epochs;
    let step = 0;
    let pending: { step: number; loss: tf.Scalar }[] = [];
    let inflight: Promise<boolean> | null = null;
    let lastRead = performance.now();
    let lastImages = performance.now();
    let windowStart = performance.now();
    let windowImages = 0;
    let imagesPerSec = 0;
    let epoch = 0;

    /** Reads pending losses back from the device; returns false if a loss was not finite. */
    const readLosses = async (batch: { step: number; loss: tf.Scalar }[]): Promise<boolean> => {
      if (batch.length === 0) return true;
      const stacked = tf.stack(batch.map((b) => b.loss));
      batch.forEach((b) => b.loss.dispose());
      const values = await stacked.data();
      stacked.dispose();
      const points: LossPoint[] = batch.map((b, i) => ({ step: b.step, loss: values[i] }));
      const now = performance.now();
      const dt = (now - windowStart) / 1000;
      if (dt > 0.5) {
        imagesPerSec = windowImages / dt;
        windowStart = now;
        windowImages = 0;
      }
      const last = points[points.length - 1];
      const stepsLeft = totalSteps - last.step;
      const eta = imagesPerSec > 0 ? (stepsLeft * spec.batchSize) / imagesPerSec : 0;
      if (!run.stopped) {
        post({ type: 'trainLoss', runId: run.id, points });
        post({
          type: 'progress',
          runId: run.id,
          progress: { epoch: Math.min(spec.epochs, Math.floor((last.step - 1) / stepsPerEpoch) + 1), epochs: spec.epochs, step: last.step, stepsPerEpoch, totalSteps, imagesPerSec, etaSeconds: eta },
        });
      }
      return points.every((p) => Number.isFinite(p.loss));
    };

    const flush = async (): Promise<boolean> => {
      const ok1 = inflight ? await inflight : true;
      inflight = null;
      const ok2 = await readLosses(pending);
      pending = [];
      return ok1 && ok2;
    };

    post({ type: 'phase', runId: run.id, phase: 'training', detail: `Training on ${train.length} images (data loaded in ${loadSeconds.toFixed(2)} s)` });
    for (epoch = 0; epoch < spec.epochs && !run.stopped; epoch++) {
      const order = epochOrder(train, spec.seed, epoch);
      for (let from = 0; from < order.length && !run.stopped; from += spec.batchSize) {
        if (run.paused) {
          if (!(await flush())) break;
          post({ type: 'phase', runId: run.id, phase: 'paused', detail: 'Paused' });
          await waitIfPaused(run);
          if (run.stopped) break;
          post({ type: 'phase', runId: run.id, phase: 'training', detail: `Training on ${train.length} images` });
          windowStart = performance.now();
          windowImages = 0;
        }
        const to = Math.min(order.length, from + spec.batchSize);
        const x = batchTensor(data, order, from, to);
        const loss = optimizer.minimize(() => lossFn(spec, x, model.apply(x, { training: true }) as tf.Tensor), true) as tf.Scalar;
        x.dispose();
        step++;
        windowImages += to - from;
        pending.push({ step, loss });
        const now = performance.now();
        if (now - lastRead > READ_EVERY_MS || pending.length >= 64) {
          // Keep one read-back in flight: the device keeps working while we wait for the previous one.
          if (inflight && !(await inflight)) {
            inflight = null;
            break;
          }
          inflight = readLosses(pending);
          pending = [];
          lastRead = now;
        }
        if (now - lastImages > IMAGES_EVERY_MS) {
          lastImages = now;
          const px = await sendImages(run, model, display, step, 'reconstructions');
          if (step >= 30) {
            const msg = detectCollapse(px);
            if (msg) post({ type: 'warning', runId: run.id, code: 'collapse', message: msg });
          }
        }
        await yieldToEvents();
      }
      if (!(await flush())) {
        post({ type: 'error', runId: run.id, message: 'The loss became NaN or infinite: training stopped. Try a lower learning rate.' });
        post({ type: 'phase', runId: run.id, phase: 'error', detail: 'Diverged' });
        return;
      }
      if (run.stopped) break;
      const testLoss = await evaluate(spec, model, data, split.test);
      post({ type: 'testLoss', runId: run.id, epoch: epoch + 1, step, loss: testLoss });
      const px = await sendImages(run, model, display, step, 'reconstructions');
      const msg = detectCollapse(px);
      if (msg) post({ type: 'warning', runId: run.id, code: 'collapse', message: msg });
      reportMemory();
    }
    if (!run.stopped) post({ type: 'phase', runId: run.id, phase: 'done', detail: `Finished ${spec.epochs} epoch${spec.epochs === 1 ? '' : 's'}` });
  } finally {
    display.dispose();
  }
}

function stopCurrent(): void {
  if (!current) return;
  current.stopped = true;
  current.resume?.();
  current = null;
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  switch (msg.type) {
    case 'start': {
      stopCurrent();
      const run: Run = { id: msg.runId, spec: msg.spec, stopped: false, paused: false, resume: null };
      current = run;
      queue = queue
        .then(() => (run.stopped ? undefined : train(run)))
        .catch((e: unknown) => {
          const message = e instanceof Error ? e.message : String(e);
          post({ type: 'error', runId: run.id, message });
          post({ type: 'phase', runId: run.id, phase: 'error', detail: message });
        })
        .finally(() => reportMemory());
      break;
    }
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
    case 'debug':
      reportMemory();
      break;
    case 'gradCheck':
      stopCurrent();
      queue = queue.then(() => runGradCheck(msg.backends));
      break;
  }
};

async function runGradCheck(backends: BackendName[]): Promise<void> {
  disposeModel();
  activeBackend = null; // the next training run chooses its backend again
  for (let i = 0; i < backends.length; i++) {
    const backend = backends[i];
    const done = i === backends.length - 1;
    try {
      const report = await selectBackend(backend);
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

/** Runs one after another, so two trainings never overlap. */
let queue: Promise<void> = Promise.resolve();

post({ type: 'ready' });
