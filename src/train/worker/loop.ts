/**
 * The training loop: the app's worker, the real-GPU bench (src/bench/webgpuNode.ts) and the unit
 * tests run this one. Per step: a float batch, one train step (training.ts), the loss kept on the
 * device. Losses are read back together (cadence.ts: every 250 ms or 64 steps, one read in flight);
 * at each read the weights are snapshot on the device (the last few kept). A non-finite loss restores
 * the newest snapshot from before the bad step, replaces the optimizer and pauses (the divergence
 * rule). Live views refresh on the cadence of cadence.ts, drawn here or by the helper thread
 * (helperViews.ts). Each epoch ends with the test and training losses, the reconstructions, and a
 * checkpoint read back to the CPU (a run resumes from it on the next backend after a device loss).
 *
 * Everything it reports goes through `post`, it yields through `yieldToEvents`, and the model and the
 * optimizer live in a ModelSlot: no module state, no `self`.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecodedDataset } from '../../data/decode';
import { epochOrder } from '../../data/split';
import type { ExperimentSpec } from '../../model/spec';
import { nextViewsInterval, shouldReadLosses, viewsMinInterval } from '../cadence';
import { detectCollapse } from '../collapse';
import type { LossPoint } from '../protocol';
import { pickRestore, type SnapshotInfo } from '../divergence';
import type { BuiltModel } from './buildModel';
import type { HelperViews, Post, ViewsRun } from './helperViews';
import { DeviceLostError, type ModelSlot } from './modelSlot';
import { batchTensor, lossFn, pixelsOf, variantObjective, variantStep } from './training';
import { corrupt } from './variants';
import { wasmKernelReport } from './kernels';

export type { Post } from './helperViews';

/** Test and training losses at an epoch's end use at most this many images each. */
const MAX_TEST_IMAGES = 2000;
/** Recent weight snapshots kept on the device besides the anchor (src/train/divergence.ts chooses). */
const RECENT_SNAPSHOTS = 3;

/** A training run as the loop sees it: the page's pause, resume and stop land here. */
export interface RunState extends ViewsRun {
  stopped: boolean;
  paused: boolean;
  /** Wakes a paused loop. */
  resume: (() => void) | null;
  /** Single steps granted while paused (the page's Step): each trains one batch, and the run stays paused. */
  steps?: number;
}

/** Where a run (re)starts: epoch, step, and weights read back to the CPU at the end of an epoch. */
export interface Checkpoint {
  epoch: number;
  step: number;
  weights: Float32Array[] | null;
}

/** The images a run trains on. */
export interface LoopData {
  data: DecodedDataset;
  trainIdx: Uint32Array;
  testIdx: Uint32Array;
  /** The 16 images of the live views. */
  displayIdx: Uint32Array;
  /** The training phase's detail line. */
  detail: string;
}

export interface LoopDeps {
  /** The model and optimizer, and the device's loss (BackendSession in the worker). */
  slot: ModelSlot;
  post: Post;
  /** A macrotask yield between steps, so pause, stop and pings get through. */
  yieldToEvents: () => Promise<void>;
  /** Whether live views are on now (the page can switch them during a run). */
  liveViews: () => boolean;
  /** Logical cores (the views refresh less often on two). */
  cores: number | undefined;
  /** The live-views helper thread, where there is one. */
  helper: HelperViews | null;
  /** Reports the tensor count (at each epoch's end). */
  reportMemory: () => void;
  /** The clock the cadence runs on (ms): performance.now unless a test makes it deterministic. */
  now?: () => number;
  /** "Look inside" (featureMaps.ts): refresh the feature maps if wanted and due (or now, when `force`). */
  featureMaps?: (step: number, force: boolean) => Promise<void>;
  /**
   * #16 analyses at each epoch's end, after the losses and views (the rank curve): the built model
   * and the steps done. Runs on the training thread between epochs; what it posts goes to the page.
   */
  epochEnd?: (built: BuiltModel, step: number) => Promise<void>;
  /** On WASM: how many threads tfjs-wasm runs on, and why (wasmThreads.ts; the page's kernel line). */
  wasmThreads?: () => { threads: number; note: string };
}

/** One training step; returns the loss, still on the device. */
export type StepFn = (optimizer: tf.Optimizer, spec: ExperimentSpec, model: tf.LayersModel, x: tf.Tensor) => tf.Scalar;

export interface LoopOptions {
  /** The train step: training.ts's trainStep unless a test injects a faulty one. */
  step?: StepFn;
  /** false: no test/train evaluation, views or checkpoint at epoch ends (the bench times the steps alone). */
  epochEnds?: boolean;
}

/** A step's loss (and its terms: [reconstruction, KL], for the variants that have them), still on the device. */
interface PendingLoss {
  step: number;
  /** Images the step trained on (counted into images/s when its loss comes back). */
  images: number;
  loss: tf.Scalar;
  terms: tf.Tensor1D | null;
}

interface Snapshot extends SnapshotInfo {
  tensors: tf.Tensor[];
}

export async function waitIfPaused(run: RunState): Promise<void> {
  while (run.paused && !run.stopped && !(run.steps ?? 0)) {
    await new Promise<void>((resolve) => {
      run.resume = resolve;
    });
  }
}

/**
 * The page's Step: a paused run trains one more batch (its loss read back and the views refreshed at
 * once) and stays paused. Returns false, and grants nothing, when the run is not paused or is stopped.
 */
export function grantStep(run: RunState): boolean {
  if (!run.paused || run.stopped) return false;
  run.steps = (run.steps ?? 0) + 1;
  const wake = run.resume;
  run.resume = null;
  wake?.();
  return true;
}

/** The fixed seed of the corrupted images that evaluation and the views use (denoising). */
export const CORRUPTION_SEED = 1234;

/** What evaluate measures: the reconstruction loss, and the variant's extra figures. */
export interface Evaluation {
  /** The spec's reconstruction loss (denoising: of the corrupted images' reconstructions against the clean ones). */
  loss: number;
  /** vae: the KL term per input value. */
  kl?: number;
  /** denoising: the spec's loss of the corrupted images themselves against the clean ones. */
  corruptedLoss?: number;
}

/**
 * The spec's loss of `built`'s model on up to MAX_TEST_IMAGES of `indices` (no dropout, the vae
 * decoding its mean), in batches; denoising corrupts the inputs with a fixed seed first.
 */
export async function evaluate(
  spec: ExperimentSpec,
  built: Pick<BuiltModel, 'model' | 'train'>,
  data: DecodedDataset,
  indices: Uint32Array,
  slot: ModelSlot,
  yieldToEvents: () => Promise<void>,
): Promise<Evaluation> {
  const n = Math.min(indices.length, MAX_TEST_IMAGES);
  const denoising = spec.variant === 'denoising';
  const vae = spec.variant === 'vae';
  // #19: where the fused WebGPU path trains (plain models only), it evaluates too, in inference mode.
  const fused = slot.fused;
  const batch = fused ? fused.inferenceBatch() : 250;
  // Sums over the images: [reconstruction, KL, corrupted-input loss].
  let total = tf.zeros([3]);
  for (let from = 0; from < n; from += batch) {
    const to = Math.min(n, from + batch);
    if (fused) {
      const loss = fused.inferLoss(pixelsOf(data, indices, from, to), to - from);
      const next = tf.tidy(() => tf.add(total, tf.mul(tf.stack([loss, tf.scalar(0), tf.scalar(0)]), to - from)));
      loss.dispose();
      total.dispose();
      total = next;
      await yieldToEvents();
      continue;
    }
    const next = tf.tidy(() => {
      const x = batchTensor(data, indices, from, to);
      const input = denoising ? corrupt(x, spec.corruption, spec.noise, CORRUPTION_SEED + from) : x;
      let recon: tf.Scalar;
      let kl: tf.Scalar = tf.scalar(0);
      if (vae) {
        const outputs = built.train.predict(input) as tf.Tensor[];
        const terms = variantObjective(spec, x, outputs);
        recon = terms.recon;
        kl = terms.kl ?? kl;
      } else {
        recon = lossFn(spec, x, built.model.predict(input) as tf.Tensor);
      }
      const noisy = denoising ? lossFn(spec, x, input) : tf.scalar(0);
      return tf.add(total, tf.mul(tf.stack([recon, kl, noisy]), to - from));
    });
    total.dispose();
    total = next;
    await yieldToEvents(); // let the watchdog's pings through on slow backends
  }
  try {
    const [loss, kl, noisy] = await slot.guard(total.data());
    const out: Evaluation = { loss: loss / n };
    if (vae) out.kl = kl / n;
    if (denoising) out.corruptedLoss = noisy / n;
    return out;
  } finally {
    total.dispose();
  }
}

/**
 * Trains `run` from `start` (a fresh run, or the last checkpoint after a device loss) to its last
 * epoch or until stopped; returns the newest checkpoint. Throws DeviceLostError when the device goes.
 */
export async function trainFrom(run: RunState, data: LoopData, start: Checkpoint, deps: LoopDeps, options: LoopOptions = {}): Promise<Checkpoint> {
  const { spec } = run;
  const inputShape = [data.data.height, data.data.width, data.data.channels];
  deps.post({ type: 'phase', runId: run.id, phase: 'building', detail: 'Building the model' });
  const built = deps.slot.build(spec, inputShape, start.weights);
  const kernels = deps.slot.attachFused(spec, inputShape);
  if (deps.slot.backend === 'webgpu' || kernels.fused) deps.post({ type: 'kernels', runId: run.id, report: kernels });
  else if (deps.slot.backend === 'wasm') deps.post({ type: 'kernels', runId: run.id, report: wasmKernelReport(deps.wasmThreads?.()) });
  const display = batchTensor(data.data, data.displayIdx, 0, data.displayIdx.length);
  // Denoising: the live reconstructions are of the corrupted display images (fixed seed), shown beside them.
  const shown = spec.variant === 'denoising' ? corrupt(display, spec.corruption, spec.noise, CORRUPTION_SEED) : null;
  const viewsInput = (): Float32Array => (shown ? (shown.dataSync() as Float32Array).slice() : pixelsOf(data.data, data.displayIdx));
  deps.helper?.attach(run, deps.slot.backend, inputShape, viewsInput, data.displayIdx.length);
  const loop = new TrainingLoop(run, data, start, deps, options, built, display, shown);
  try {
    return await loop.train();
  } finally {
    if (deps.slot.lostReason === null) loop.dispose(); // on a lost device the tensors went with it
  }
}

class TrainingLoop {
  private readonly spec: ExperimentSpec;
  private readonly model: tf.LayersModel;
  /** A test's injected step, or null: the variant's step (training.ts). */
  private readonly step: StepFn | null;
  /**
   * Weights to go back to after a non-finite loss: the anchor (this attempt's start, then each epoch's
   * end) and the newest few taken at loss reads; each learns the loss its weights gave.
   */
  private snapshots: Snapshot[] = [];
  /** The lowest finite loss read back in this attempt (the divergence rule's yardstick). */
  private lowestLoss = Infinity;
  private pending: PendingLoss[] = [];
  private inflight: Promise<number | null> | null = null;
  private checkpoint: Checkpoint;
  private readonly stepsPerEpoch: number;
  private readonly totalSteps: number;
  /** Steps done. */
  private done: number;
  private readonly now: () => number;
  private lastRead: number;
  private lastImages: number;
  // Fewer refreshes on a two-core machine, where the page's redraws compete with training for the cores.
  private readonly viewsMinMs: number;
  private imagesEvery: number;
  private windowStart: number;
  private windowImages = 0;
  private imagesPerSec = 0;
  /** The page was told 'paused' last (Step keeps it so; the 'training' phase follows once the run goes on). */
  private shownPaused = false;

  constructor(
    private readonly run: RunState,
    private readonly data: LoopData,
    start: Checkpoint,
    private readonly deps: LoopDeps,
    private readonly options: LoopOptions,
    private readonly built: BuiltModel,
    private readonly display: tf.Tensor4D,
    /** Denoising: the display images as corrupted (the views' input); null otherwise. */
    private readonly shown: tf.Tensor | null = null,
  ) {
    this.spec = run.spec;
    this.model = built.model;
    this.step = options.step ?? null;
    this.checkpoint = start;
    this.done = start.step;
    this.stepsPerEpoch = Math.ceil(data.trainIdx.length / this.spec.batchSize);
    this.totalSteps = this.stepsPerEpoch * this.spec.epochs;
    this.viewsMinMs = viewsMinInterval(deps.cores);
    this.imagesEvery = this.viewsMinMs;
    this.now = deps.now ?? (() => performance.now());
    this.lastRead = this.lastImages = this.windowStart = this.now();
  }

  private post: Post = (msg, transfer) => this.deps.post(msg, transfer);

  async train(): Promise<Checkpoint> {
    const { run, spec } = this;
    const start = this.checkpoint;
    if (start.epoch === 0) await this.sendImages(0, 'originals');
    if (start.epoch === 0 && this.shown) await this.sendImages(0, 'corrupted');
    await this.sendImages(start.step, 'reconstructions');
    this.lastRead = this.now();
    this.lastImages = this.now();
    this.windowStart = this.now();
    this.setAnchor(this.done);
    this.post({ type: 'phase', runId: run.id, phase: 'training', detail: this.data.detail });
    for (let epoch = start.epoch; epoch < spec.epochs && !run.stopped; epoch++) {
      const order = epochOrder(this.data.trainIdx, spec.seed, epoch);
      // A resumed epoch after a device loss restarts at its first batch.
      this.done = epoch * this.stepsPerEpoch;
      for (let from = 0; from < order.length && !run.stopped; from += spec.batchSize) {
        await this.trainBatch(order, from);
      }
      const bad = await this.flush();
      if (bad !== null) {
        // As within an epoch: pause; Resume goes on from the restored weights with the next batches
        // (re-running the epoch from a restored epoch start would replay the same blow-up exactly).
        await this.diverged(bad);
        await this.pauseAfterDivergence();
      }
      if (run.stopped) break;
      if (this.options.epochEnds !== false) await this.endEpoch(epoch);
    }
    if (!run.stopped) this.post({ type: 'phase', runId: run.id, phase: 'done', detail: `Finished ${spec.epochs} epoch${spec.epochs === 1 ? '' : 's'}` });
    return this.checkpoint;
  }

  dispose(): void {
    this.display.dispose();
    this.shown?.dispose();
    this.pending.forEach((p) => {
      p.loss.dispose();
      p.terms?.dispose();
    });
    this.pending = [];
    this.dropSnapshots(0);
  }

  /**
   * Paused (by the page, or by the divergence rule): read what is pending, then wait for Resume or Stop.
   * `diverged` says whether the divergence rule paused the run and the weights are restored already.
   */
  private async pauseIfAsked(diverged = false): Promise<boolean> {
    const { run } = this;
    if (!run.paused || run.stopped) {
      // Resumed while a Step's batch was in flight: it never waited, so say it trains again here.
      if (this.shownPaused && !run.stopped) this.postTraining();
      return false;
    }
    if (this.takeGrantedStep()) return true;
    const bad = await this.flush();
    if (bad !== null) await this.diverged(bad);
    const why = diverged || bad !== null ? 'Paused: the loss diverged' : this.done > 0 ? `Paused after step ${this.done}` : 'Paused';
    this.post({ type: 'phase', runId: run.id, phase: 'paused', detail: why });
    this.shownPaused = true;
    await this.deps.featureMaps?.(this.done, true);
    await waitIfPaused(run);
    if (run.stopped) return false;
    // Woken by Step: one batch, still paused (no 'training' phase in between).
    if (this.takeGrantedStep()) return true;
    run.steps = 0; // Resume: steps granted before it are moot
    this.postTraining();
    return false;
  }

  /** The 'training' phase, after a pause; the images/s window restarts. */
  private postTraining(): void {
    this.post({ type: 'phase', runId: this.run.id, phase: 'training', detail: this.data.detail });
    this.shownPaused = false;
    this.windowStart = this.now();
    this.windowImages = 0;
  }

  /** Paused by the divergence rule: waits for Resume or Step; a Step that wakes it trains the next batch (trainBatch). */
  private async pauseAfterDivergence(): Promise<void> {
    if (await this.pauseIfAsked(true)) this.run.steps = (this.run.steps ?? 0) + 1;
  }

  /** Uses up one step the page's Step granted a paused run, if any (grantStep). */
  private takeGrantedStep(): boolean {
    const { run } = this;
    if (!run.paused || run.stopped || !(run.steps ?? 0)) return false;
    run.steps = (run.steps ?? 1) - 1;
    // The images/s window restarts: a step after a pause says nothing about the speed.
    this.windowStart = this.now();
    this.windowImages = 0;
    return true;
  }

  /** One step on the batch order[from..from + batchSize), with the pause, the loss reads and the views around it. */
  private async trainBatch(order: Uint32Array, from: number): Promise<void> {
    const { run, spec } = this;
    const lost = this.deps.slot.lostReason;
    if (lost !== null) throw new DeviceLostError(lost);
    const single = await this.pauseIfAsked();
    if (run.stopped) return;
    const to = Math.min(order.length, from + spec.batchSize);
    const optimizer = this.deps.slot.optimizer;
    if (!optimizer) throw new Error('the model has no optimizer');
    const fused = this.step ? null : this.deps.slot.fused;
    let result: { loss: tf.Scalar; terms: tf.Tensor1D | null };
    if (fused) {
      // The fused WebGPU path (#19): the batch goes straight into its input buffer.
      result = { loss: fused.step(pixelsOf(this.data.data, order, from, to), to - from, optimizer, spec.learningRate), terms: null };
    } else {
      const x = batchTensor(this.data.data, order, from, to);
      result = this.step ? { loss: this.step(optimizer, spec, this.model, x), terms: null } : variantStep(optimizer, spec, this.built, x);
      x.dispose();
    }
    this.done++;
    this.pending.push({ step: this.done, images: to - from, loss: result.loss, terms: result.terms });
    const now = this.now();
    if (single) {
      // The page's Step: this step's loss is read back now, not at the cadence's next read, and every
      // view shows this step before the run sits paused again.
      this.takeSnapshot(this.done);
      const bad = await this.flush();
      this.lastRead = now;
      if (bad !== null) {
        await this.diverged(bad);
        await this.pauseAfterDivergence();
        return;
      }
      await this.views(now, true);
      await this.deps.yieldToEvents();
      return;
    }
    if (shouldReadLosses(now - this.lastRead, this.pending.length)) {
      // Keep one read-back in flight: the device keeps working while we wait for the previous one.
      const bad = this.inflight ? await this.inflight : null;
      this.inflight = null;
      if (bad !== null) {
        // Pause now, not at the next batch: at an epoch's last batch the epoch's end comes first otherwise.
        await this.diverged(bad);
        await this.pauseAfterDivergence();
        return;
      }
      this.takeSnapshot(this.done);
      this.inflight = this.readLosses(this.pending);
      this.pending = [];
      this.lastRead = now;
    }
    await this.views(now);
    await this.deps.featureMaps?.(this.done, false);
    await this.deps.yieldToEvents();
  }

  /**
   * The live views, when due: on the helper thread (CPU backends) or here. `force` (after the page's
   * Step): now, whatever the cadence or the live-views switch, drawn here so they arrive before the
   * run sits paused again (a later helper render of an older step is then dropped).
   */
  private async views(now: number, force = false): Promise<void> {
    const { run } = this;
    if (!force && (!this.deps.liveViews() || now - this.lastImages <= this.imagesEvery)) return;
    const helper = this.deps.helper;
    if (!force && helper?.serves(run) && helper.wanted(this.deps.slot.backend)) {
      // The helper renders on another core: hand it a copy of the weights (one in flight at a time).
      if (!helper.busy) {
        this.lastImages = now;
        // A copy each: the cpu backend's dataSync hands out its own storage, which must not be transferred.
        helper.render(this.done, this.model.weights.map((w) => (w.read().dataSync() as Float32Array).slice()));
        // Same cadence as on the training thread: each refresh also costs the page its redraws.
        this.imagesEvery = nextViewsInterval(helper.lastRenderMs, this.viewsMinMs);
      }
      return;
    }
    this.lastImages = now;
    const px = await this.sendImages(this.done, 'reconstructions');
    // Keep the live views under ~4% of the time on slow backends: refresh less often there.
    this.imagesEvery = nextViewsInterval(this.now() - now, this.viewsMinMs);
    if (this.done >= 30) this.warnIfCollapsed(px);
  }

  /** End of an epoch: test and training losses, the reconstructions, and a checkpoint. */
  private async endEpoch(epoch: number): Promise<void> {
    const { run, spec, model, data } = this;
    const { slot, yieldToEvents } = this.deps;
    const testEval = await evaluate(spec, this.built, data.data, data.testIdx, slot, yieldToEvents);
    const trainEval = await evaluate(spec, this.built, data.data, data.trainIdx, slot, yieldToEvents);
    const kl = testEval.kl === undefined ? {} : { kl: testEval.kl };
    this.post({ type: 'testLoss', runId: run.id, epoch: epoch + 1, step: this.done, loss: testEval.loss, trainLoss: trainEval.loss, ...kl });
    if (testEval.corruptedLoss !== undefined) {
      this.post({ type: 'denoise', runId: run.id, epoch: epoch + 1, corruptedLoss: testEval.corruptedLoss, reconLoss: testEval.loss });
    }
    this.warnIfCollapsed(await this.sendImages(this.done, 'reconstructions'));
    await this.deps.featureMaps?.(this.done, true);
    await this.deps.epochEnd?.(this.built, this.done);
    // Known-good weights: keep one snapshot on the device and a copy on the CPU (survives a device loss).
    this.setAnchor(this.done);
    const weights = await slot.guard(Promise.all(model.weights.map((w) => w.read().data() as Promise<Float32Array>)));
    this.checkpoint = { epoch: epoch + 1, step: this.done, weights };
    this.deps.reportMemory();
  }

  private warnIfCollapsed(pixels: Float32Array): void {
    const msg = detectCollapse(pixels);
    if (msg) this.post({ type: 'warning', runId: this.run.id, code: 'collapse', message: msg });
  }

  private dropSnapshots(keep: number): void {
    while (this.snapshots.length > keep) this.snapshots.pop()?.tensors.forEach((t) => t.dispose());
  }

  private snapshotOf(step: number): Snapshot {
    return { step, lossAfter: null, tensors: this.model.weights.map((w) => w.read().clone()) };
  }

  /** The weights as they are after `step` steps become the anchor; the recent snapshots go. */
  private setAnchor(step: number): void {
    this.dropSnapshots(0);
    this.snapshots.push(this.snapshotOf(step));
  }

  /** Snapshots the weights as they are after `step` steps (the oldest recent one goes; the anchor stays). */
  private takeSnapshot(step: number): void {
    this.snapshots.push(this.snapshotOf(step));
    if (this.snapshots.length > 1 + RECENT_SNAPSHOTS) this.snapshots.splice(1, 1)[0].tensors.forEach((t) => t.dispose());
  }

  /** Reads pending losses back; returns the first step whose loss is not finite, or null. */
  private async readLosses(batch: PendingLoss[]): Promise<number | null> {
    if (batch.length === 0) return null;
    const { run, spec } = this;
    const stacked = tf.stack(batch.map((b) => b.loss));
    const withTerms = batch.every((b) => b.terms !== null);
    const termsStacked = withTerms ? tf.stack(batch.map((b) => b.terms as tf.Tensor1D)) : null;
    batch.forEach((b) => {
      b.loss.dispose();
      b.terms?.dispose();
    });
    let values: Float32Array;
    let terms: Float32Array | null = null;
    try {
      values = (await this.deps.slot.guard(stacked.data())) as Float32Array;
      if (termsStacked) terms = (await this.deps.slot.guard(termsStacked.data())) as Float32Array;
    } finally {
      stacked.dispose();
      termsStacked?.dispose();
    }
    const vae = spec.variant === 'vae';
    const points: LossPoint[] = batch.map((b, i) => {
      if (!terms) return { step: b.step, loss: values[i] };
      return vae ? { step: b.step, loss: values[i], recon: terms[2 * i], kl: terms[2 * i + 1] } : { step: b.step, loss: values[i], recon: terms[2 * i] };
    });
    for (const p of points) if (Number.isFinite(p.loss)) this.lowestLoss = Math.min(this.lowestLoss, p.loss);
    for (const snap of this.snapshots) {
      if (snap.lossAfter === null) snap.lossAfter = points.find((p) => p.step === snap.step + 1)?.loss ?? null;
    }
    // Images count when their losses come back, not when their steps are queued: a GPU backend queues
    // steps far ahead of the device (the fused path's steps return at once), and images/s must be the device's.
    this.windowImages += batch.reduce((a, b) => a + b.images, 0);
    const now = this.now();
    const dt = (now - this.windowStart) / 1000;
    if (dt > 0.5) {
      this.imagesPerSec = this.windowImages / dt;
      this.windowStart = now;
      this.windowImages = 0;
    }
    const { imagesPerSec, stepsPerEpoch, totalSteps } = this;
    const last = points[points.length - 1];
    const eta = imagesPerSec > 0 ? ((totalSteps - last.step) * spec.batchSize) / imagesPerSec : 0;
    if (!run.stopped) {
      this.post({
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
  }

  /** Waits for every loss so far; returns the first bad step or null. */
  private async flush(): Promise<number | null> {
    const bad1 = this.inflight ? await this.inflight : null;
    this.inflight = null;
    const bad2 = await this.readLosses(this.pending);
    this.pending = [];
    return bad1 ?? bad2;
  }

  /** A non-finite loss: restore the newest weights from before the bad step, a fresh optimizer, and pause. */
  private async diverged(badStep: number): Promise<void> {
    const { run, spec } = this;
    await this.flush();
    const index = pickRestore(this.snapshots, badStep, this.lowestLoss);
    const snap = this.snapshots[index];
    if (snap) this.model.setWeights(snap.tensors);
    this.dropSnapshots(index + 1); // the newer ones hold weights from the blow-up
    this.deps.slot.freshOptimizer(spec); // its moment estimates may hold NaN too
    run.paused = true;
    this.post({
      type: 'error',
      runId: run.id,
      message:
        `The loss became NaN or infinite at step ${badStep}: training is paused and the weights from step ${snap?.step ?? 0} ` +
        `(from before the loss blew up) are restored; the curves so far are kept. Lower the learning rate (now ${spec.learningRate}) and train again.`,
    });
  }

  /** Reads a tensor back and disposes it, even when the read fails. */
  private async readAndDispose(t: tf.Tensor): Promise<Float32Array> {
    try {
      return (await this.deps.slot.guard(t.data())) as Float32Array;
    } finally {
      t.dispose();
    }
  }

  /**
   * Sends the display images: the originals once, or the current reconstructions together with the
   * bottleneck codes (one forward pass through the views model).
   */
  private async sendImages(step: number, kind: 'originals' | 'reconstructions' | 'corrupted'): Promise<Float32Array> {
    const { run, display } = this;
    const [count, height, width, channels] = display.shape;
    let pixels: Float32Array;
    if (kind === 'originals') {
      pixels = await this.readAndDispose(display.clone());
    } else if (kind === 'corrupted') {
      pixels = await this.readAndDispose((this.shown ?? display).clone());
    } else {
      const [recon, code] = this.built.views.predict(this.shown ?? display) as tf.Tensor[];
      const clipped = tf.clipByValue(recon, 0, 1);
      recon.dispose();
      const codeShape = code.shape.slice(1);
      const [px, values] = await Promise.all([this.readAndDispose(clipped), this.readAndDispose(code)]);
      pixels = px;
      if (!run.stopped) this.post({ type: 'codes', runId: run.id, step, count, shape: codeShape, values }, [values.buffer]);
    }
    const copy = pixels.slice();
    if (!run.stopped) this.post({ type: 'images', runId: run.id, kind, step, count, height, width, channels, pixels: copy, renderedBy: 'worker' }, [copy.buffer]);
    if (kind === 'reconstructions') this.deps.helper?.shown(run, step);
    return pixels;
  }
}
