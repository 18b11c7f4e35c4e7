/**
 * The training worker's jobs, one after another (two trainings never overlap): a training run (load
 * the data, choose the backend, train with the loop, and after a lost GPU device go on on the next
 * backend from the last epoch's checkpoint), the copy test and the probe on the last run's model, and
 * the gradient check. Also the run the page's pause, resume and stop refer to, and the memory report.
 */
import * as tf from '@tensorflow/tfjs';
import { DATASET_INFO } from '../../data/catalogue';
import type { DecodedDataset } from '../../data/decode';
import { loadDataset } from '../../data/load';
import { mulberry32, pickDisplayIndices, splitIndices } from '../../data/split';
import type { BackendName, ExperimentSpec } from '../../model/spec';
import { BACKEND_LABELS } from '../../model/spec';
import type { GradCheckRow, ToWorker } from '../protocol';
import { copyTest, linearProbe } from './analysis';
import { gradientCheck } from './gradcheck';
import { HelperViews, type Post } from './helperViews';
import { grantStep, trainFrom, type Checkpoint, type RunState } from './loop';
import { BackendSession } from './session';
import { pixelsOf } from './training';

export interface JobsDeps {
  post: Post;
  yieldToEvents: () => Promise<void>;
  /** Logical cores (navigator.hardwareConcurrency). */
  cores: number | undefined;
  /** Where the data set assets are (an absolute URL ending in /). */
  dataBase: string;
}

export class Jobs {
  readonly session = new BackendSession();
  readonly helper: HelperViews;
  private current: RunState | null = null;
  private queue: Promise<void> = Promise.resolve();
  private runsActive = 0;
  /** Live views: reconstructions and codes during an epoch (else only at its end). */
  private liveViews = true;
  /** What the last run trained on, for the copy test and the probe. */
  private lastRun: { runId: number; spec: ExperimentSpec; data: DecodedDataset; trainIdx: Uint32Array; testIdx: Uint32Array } | null = null;

  constructor(private readonly deps: JobsDeps) {
    this.helper = new HelperViews(deps.post, deps.cores);
  }

  private enqueue(job: () => Promise<void> | void): void {
    this.queue = this.queue.then(job);
  }

  start(msg: Extract<ToWorker, { type: 'start' }>): void {
    const { post } = this.deps;
    this.stopCurrent();
    this.liveViews = msg.liveViews;
    // With steps (Step with no run in progress): paused from its first batch on, those steps granted. One
    // message: a 'pause' sent after 'start' can land after the first step (the loop may reach it without a yield).
    const steps = msg.steps ?? 0;
    const run: RunState = { id: msg.runId, spec: msg.spec, stopped: false, paused: steps > 0, resume: null, steps };
    this.current = run;
    this.queue = this.queue
      .then(async () => {
        if (run.stopped) return;
        this.runsActive++;
        try {
          await this.train(run);
        } finally {
          this.runsActive--;
        }
      })
      .catch((e: unknown) => {
        const message = e instanceof Error ? e.message : String(e);
        post({ type: 'error', runId: run.id, message: `Training failed: ${message}` });
        post({ type: 'phase', runId: run.id, phase: 'error', detail: 'Failed' });
      })
      .finally(() => this.reportMemory());
  }

  setLiveViews(live: boolean): void {
    this.liveViews = live;
  }

  pause(runId: number): void {
    if (this.current && this.current.id === runId) this.current.paused = true;
  }

  resume(runId: number): void {
    const run = this.current;
    if (run && run.id === runId) {
      run.paused = false;
      run.steps = 0;
      run.resume?.();
      run.resume = null;
    }
  }

  /** The page's Step: a paused run trains one batch and stays paused (a run that is not paused ignores it). */
  step(runId: number): void {
    if (this.current && this.current.id === runId) grantStep(this.current);
  }

  stop(runId: number): void {
    if (this.current && this.current.id === runId) this.stopCurrent();
    this.enqueue(() => {
      if (!this.current) this.session.dispose();
      this.reportMemory();
    });
  }

  analyze(runId: number, what: 'copyTest' | 'probe'): void {
    this.enqueue(() => this.runAnalysis(runId, what));
  }

  gradCheck(backends: BackendName[]): void {
    this.stopCurrent();
    this.enqueue(() => this.runGradCheck(backends));
  }

  reportMemory(): void {
    let numTensors = -1;
    let numBytes = -1;
    try {
      const m = tf.memory();
      numTensors = m.numTensors;
      numBytes = m.numBytes;
    } catch {
      // no backend yet
    }
    this.deps.post({ type: 'memory', numTensors, numBytes, runsActive: this.runsActive, viewsHelperTensors: this.helper.helperTensors });
  }

  private stopCurrent(): void {
    if (!this.current) return;
    this.current.stopped = true;
    this.current.resume?.();
    this.current = null;
  }

  private async train(run: RunState): Promise<void> {
    const { post, yieldToEvents } = this.deps;
    const { session } = this;
    const { spec } = run;
    const info = DATASET_INFO[spec.dataset];
    post({ type: 'phase', runId: run.id, phase: 'loading', detail: `Loading ${info.label}` });
    const loadStart = performance.now();
    const data = await loadDataset(info, this.deps.dataBase);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    if (run.stopped) return;
    const split = splitIndices(data.count, info.testCount, info.splitSeed);
    const trainIdx = split.train.subarray(0, Math.min(split.train.length, spec.trainSize));
    const displayIdx = pickDisplayIndices(split.test, data.labels, 16);
    const detail = `Training on ${trainIdx.length} images (data loaded in ${loadSeconds.toFixed(2)} s)`;
    post({ type: 'phase', runId: run.id, phase: 'loading', detail: `Starting the ${spec.backend === 'auto' ? 'best' : spec.backend} backend` });
    let report =
      spec.backend === 'auto'
        ? await session.chooseAuto({
            spec,
            inputShape: info.shape,
            trainCount: trainIdx.length,
            batch: (count) => pixelsOf(data, trainIdx, 0, count),
            onCandidate: (backend, i, of) =>
              post({
                type: 'phase',
                runId: run.id,
                phase: 'loading',
                detail: `Auto: timing a few training steps on ${BACKEND_LABELS[backend]} (${i + 1} of ${of})`,
                fraction: i / of,
              }),
            yieldToEvents,
            cancelled: () => run.stopped,
          })
        : await session.choose(spec.backend);
    post({ type: 'backend', runId: run.id, report });
    if (run.stopped) return;
    // tfjs' unseeded random ops (dropout masks) draw their seeds from Math.random: seed it per run (after
    // Auto's race, which draws too) so the same spec on the same backend gives the same curve.
    Math.random = mulberry32((spec.seed ^ 0x5bd1e995) >>> 0);

    this.lastRun = { runId: run.id, spec, data, trainIdx, testIdx: split.test };
    const loopData = { data, trainIdx, testIdx: split.test, displayIdx, detail };
    const loopDeps = {
      slot: session,
      post,
      yieldToEvents,
      liveViews: () => this.liveViews,
      cores: this.deps.cores,
      helper: this.helper,
      reportMemory: () => this.reportMemory(),
    };
    let checkpoint: Checkpoint = { epoch: 0, step: 0, weights: null };
    for (;;) {
      try {
        checkpoint = await trainFrom(run, loopData, checkpoint, loopDeps);
        return;
      } catch (e) {
        const reason = await session.deviceLossBehind(e);
        if (reason === null) throw e;
        // The GPU is gone: its tensors with it. Continue on the next backend from the last epoch's weights.
        report = await session.choose(spec.backend);
        post({ type: 'backend', runId: run.id, report });
        post({
          type: 'error',
          runId: run.id,
          message: `The WebGPU device was lost (${reason}). Training continues on ${report.name.toUpperCase()} from the end of epoch ${checkpoint.epoch}; curves so far are kept.`,
        });
      }
    }
  }

  private async runGradCheck(backends: BackendName[]): Promise<void> {
    const { post } = this.deps;
    this.session.forgetChoice();
    for (let i = 0; i < backends.length; i++) {
      const backend = backends[i];
      const done = i === backends.length - 1;
      try {
        const report = await this.session.startExactly(backend);
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
    this.reportMemory();
  }

  private async runAnalysis(runId: number, what: 'copyTest' | 'probe'): Promise<void> {
    const { post } = this.deps;
    const built = this.session.built;
    try {
      if (!this.lastRun || this.lastRun.runId !== runId || !built) throw new Error('Train a model first: there is no trained model to analyse');
      const { spec, data, trainIdx, testIdx } = this.lastRun;
      if (what === 'probe') {
        const result = await linearProbe(built.encoder, data, trainIdx, testIdx, DATASET_INFO[spec.dataset].classNames.length);
        post({ type: 'probe', runId, result });
      } else {
        const otherId = spec.dataset === 'mnist' ? 'fashion-mnist' : 'mnist';
        const otherInfo = DATASET_INFO[otherId];
        const otherData = await loadDataset(otherInfo, this.deps.dataBase);
        const otherSplit = splitIndices(otherData.count, otherInfo.testCount, otherInfo.splitSeed);
        const results = await copyTest(spec, built.model, data, testIdx, { data: otherData, testIdx: otherSplit.test, label: `${otherInfo.label} (the other data set)` });
        const transfer = results.flatMap((r) => [r.samples.originals.buffer, r.samples.reconstructions.buffer]);
        post({ type: 'copyTest', runId, results }, transfer);
      }
    } catch (e) {
      post({ type: 'analysisError', runId, what, message: e instanceof Error ? e.message : String(e) });
    }
    this.reportMemory();
  }
}
