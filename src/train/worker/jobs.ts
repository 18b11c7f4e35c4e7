/**
 * The training worker's jobs, one after another (two trainings never overlap): a training run (load
 * the data, choose the backend, train with the loop, and after a lost GPU device go on on the next
 * backend from the last epoch's checkpoint), the copy test and the probe on the last run's model, and
 * the gradient check. Also the run the page's pause, resume and stop refer to, and the memory report.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecodedDataset } from '../../data/decode';
import { loadAnyDataset, otherDatasetLike, syntheticFactors } from '../../data/sources';
import { datasetLabel, type DatasetInfo } from '../../data/catalogue';
import { mulberry32, pickDisplayIndices, splitIndices } from '../../data/split';
import type { BackendName, ExperimentSpec } from '../../model/spec';
import { BACKEND_LABELS } from '../../model/spec';
import type { ModelFileContents } from '../modelFile';
import type { GradCheckRow, ToWorker } from '../protocol';
import { copyTest, linearProbe } from './analysis';
import { buildModel } from './buildModel';
import { exportArtifacts, importWeights, viewsOf } from './exportModel';
import { gradientCheck, variantGradientCheck } from './gradcheck';
import { fusedGradientCheck } from './fusedGradcheck';
import { HelperViews, type Post } from './helperViews';
import { grantStep, trainFrom, type Checkpoint, type RunState } from './loop';
import { viewsMinInterval } from '../cadence';
import { FEATURE_MAPS_MIN_MS, FeatureMapsService } from './featureMaps';
import { BackendSession } from './session';
import { wasmThreadPlan } from '../../model/wasmThreadPlan';
import { crossOriginIsolatedHere, wasmThreadsNote } from './wasmThreads';
import { PCA_MAX_IMAGES, fitPca, generate, pcaBaseline, rankCurve } from './family';
import { decodeCodes, latentSnapshot } from './latent';
import type { PcaFit } from '../../model/pca';
import { inferShapes } from '../../model/inferShapes';
import { shapeSize } from '../../model/spec';
import type { BuiltModel } from './buildModel';
import { batchTensor, pixelsOf } from './training';

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
  /** "Look inside": every layer's output for one display image (#15). */
  readonly featureMaps: FeatureMapsService;
  private current: RunState | null = null;
  private queue: Promise<void> = Promise.resolve();
  private runsActive = 0;
  /** Live views: reconstructions and codes during an epoch (else only at its end). */
  private liveViews = true;
  /** What the last run trained on, for the copy test and the probe. */
  private lastRun: { runId: number; spec: ExperimentSpec; info: DatasetInfo; data: DecodedDataset; trainIdx: Uint32Array; testIdx: Uint32Array } | null = null;
  /** #17 the page showed the latent map of this run: refresh it at each epoch's end. */
  private latentWanted: { runId: number; max: number } | null = null;
  /** #16 the last PCA fit (every component), for the next run on the same images. */
  private pcaCache: { key: string; fit: PcaFit } | null = null;

  constructor(private readonly deps: JobsDeps) {
    this.helper = new HelperViews(deps.post, deps.cores);
    // As the live views: less often on two cores, where the page's redraws share the training's core.
    this.featureMaps = new FeatureMapsService(deps.post, Math.max(FEATURE_MAPS_MIN_MS, viewsMinInterval(deps.cores)));
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

  /** The page's "Look inside" panel: an image to show the feature maps of, or null (closed). */
  setFeatureMaps(image: number | null): void {
    this.featureMaps.request(image);
    const run = this.current;
    // A training loop refreshes them between its steps; paused, finished or idle: now, on the last model.
    const looping = this.runsActive > 0 && run !== null && !run.paused && !run.stopped;
    if (image !== null && !looping) void this.featureMaps.refresh().catch(() => undefined);
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
    post({ type: 'phase', runId: run.id, phase: 'loading', detail: `Loading ${datasetLabel(spec.dataset)}` });
    const loadStart = performance.now();
    const { info, data } = await loadAnyDataset(spec.dataset, this.deps.dataBase);
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
    const threadPlan = wasmThreadPlan(spec, info.shape, this.deps.cores ?? 1, crossOriginIsolatedHere());
    await session.fitWasmThreads(threadPlan, () =>
      post({ type: 'phase', runId: run.id, phase: 'loading', detail: `Restarting WASM on ${threadPlan.threads === 1 ? 'one thread' : `${threadPlan.threads} threads`}` }),
    );
    post({ type: 'backend', runId: run.id, report });
    if (run.stopped) return;
    // tfjs' unseeded random ops (dropout masks) draw their seeds from Math.random: seed it per run (after
    // Auto's race, which draws too) so the same spec on the same backend gives the same curve.
    Math.random = mulberry32((spec.seed ^ 0x5bd1e995) >>> 0);

    this.lastRun = { runId: run.id, spec, info, data, trainIdx, testIdx: split.test };
    // #17 a latent map on screen follows the new run too (from its first epoch's end).
    if (this.latentWanted) this.latentWanted = { runId: run.id, max: this.latentWanted.max };
    await this.postPcaBaseline(run, data, { trainIdx, testIdx: split.test, displayIdx }, info.shape);
    if (run.stopped) return;
    const loopData = { data, trainIdx, testIdx: split.test, displayIdx, detail };
    this.featureMaps.attach({
      runId: run.id,
      model: () => session.built?.model ?? null,
      image: (i) => batchTensor(data, displayIdx, i, i + 1),
      count: displayIdx.length,
      read: (p) => session.guard(p),
    });
    const loopDeps = {
      slot: session,
      post,
      yieldToEvents,
      liveViews: () => this.liveViews,
      cores: this.deps.cores,
      helper: this.helper,
      reportMemory: () => this.reportMemory(),
      wasmThreads: () => wasmThreadsNote(threadPlan),
      featureMaps: (step: number, force: boolean) => this.featureMaps.tick(step, force, this.liveViews),
      epochEnd: async (built: BuiltModel, step: number) => {
        await this.postRankCurve(run, built, step, data, split.test);
        // #17 the latent map follows the training once the page has asked for it.
        if (this.latentWanted?.runId === run.id) await this.postLatent(run.id, this.latentWanted.max, step);
      },
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
        // #19: on WebGPU also the fused path, against the stock kernels and finite differences.
        const fused = backend === 'webgpu' ? await fusedGradientCheck() : [];
        const results = [...(await gradientCheck()), ...(await variantGradientCheck()), ...fused];
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
      const { spec, info, data, trainIdx, testIdx } = this.lastRun;
      if (what === 'probe') {
        if (info.classNames.length < 2) throw new Error(`The linear probe needs labels, and “${info.label}” has one class: import the images as a folder with one sub-folder per label`);
        const result = await linearProbe(built.encoder, data, trainIdx, testIdx, info.classNames.length);
        post({ type: 'probe', runId, result });
      } else {
        const otherInfo = otherDatasetLike(info);
        let other: { data: DecodedDataset; testIdx: Uint32Array; label: string } | null = null;
        if (otherInfo) {
          const { data: otherData } = await loadAnyDataset(otherInfo.id, this.deps.dataBase);
          const otherSplit = splitIndices(otherData.count, otherInfo.testCount, otherInfo.splitSeed);
          other = { data: otherData, testIdx: otherSplit.test, label: `${otherInfo.label} (another data set)` };
        }
        const results = await copyTest(spec, built.model, data, testIdx, other);
        const transfer = results.flatMap((r) => [r.samples.originals.buffer, r.samples.reconstructions.buffer]);
        post({ type: 'copyTest', runId, results }, transfer);
      }
    } catch (e) {
      post({ type: 'analysisError', runId, what, message: e instanceof Error ? e.message : String(e) });
    }
    this.reportMemory();
  }

  /**
   * Export (#18): the model of run `runId` (paused or done; its weights as they are now) in the tfjs
   * layers format, with the spec it was built from. Outside the queue: a paused run holds the queue,
   * and the weights are taken at once (exportArtifacts), so a step after this changes nothing.
   */
  /**
   * #16 the PCA baseline with k = the code's size, before training: fitted once per data set and
   * image count (the eigendecomposition holds every k), measured with the spec's loss. A failure is
   * reported and training goes on.
   */
  private async postPcaBaseline(run: RunState, data: DecodedDataset, sets: { trainIdx: Uint32Array; testIdx: Uint32Array; displayIdx: Uint32Array }, inputShape: number[]): Promise<void> {
    const { post, yieldToEvents } = this.deps;
    const { spec } = run;
    try {
      const code = inferShapes(spec, inputShape).bottleneck;
      if (!code) throw new Error('the model has no code to compare with');
      const k = shapeSize(code);
      const used = Math.min(sets.trainIdx.length, PCA_MAX_IMAGES);
      const key = `${spec.dataset}:${spec.trainSize}:${used}`;
      if (this.pcaCache?.key !== key) {
        post({ type: 'phase', runId: run.id, phase: 'loading', detail: `PCA baseline: the covariance of ${used.toLocaleString('en-US')} training images (k = ${k})` });
        const fit = await fitPca(data, sets.trainIdx, (p) => this.session.guard(p), yieldToEvents);
        this.pcaCache = { key, fit };
      }
      if (run.stopped) return;
      const result = await pcaBaseline(this.pcaCache.fit, k, spec, data, sets);
      post({ type: 'pca', runId: run.id, ...result }, [result.pixels.buffer, result.eigenvalues.buffer]);
    } catch (e) {
      post({ type: 'pcaError', runId: run.id, message: `No PCA baseline: ${e instanceof Error ? e.message : String(e)}` });
    }
  }

  /** #16 the rank curve at an epoch's end: rank-ordered runs, and flat codes of up to 64 values (cheap decoders). */
  private async postRankCurve(run: RunState, built: BuiltModel, step: number, data: DecodedDataset, testIdx: Uint32Array): Promise<void> {
    const codeShape = built.encoder.outputs[0].shape.slice(1);
    const k = codeShape.reduce<number>((a, b) => a * (b ?? 1), 1);
    if (run.spec.variant !== 'rankOrdered' && !(codeShape.length === 1 && k <= 64)) return;
    try {
      const curve = await rankCurve(run.spec, built, data, testIdx, (p) => this.session.guard(p), this.deps.yieldToEvents);
      if (!run.stopped) this.deps.post({ type: 'rankCurve', runId: run.id, step, ranks: curve.ranks, errors: curve.errors }, [curve.errors.buffer]);
    } catch (e) {
      // A lost device surfaces at the loop's next step; anything else only costs the curve.
      if (this.session.lostReason !== null) throw e;
    }
  }

  /** #16 "Generate": prior samples through run `runId`'s decoder (paused or done). */
  generate(runId: number, count: number, seed: number): void {
    const { post } = this.deps;
    const fail = (message: string): void => post({ type: 'generateError', runId, message });
    const settled = this.settledModel(runId, 'generate with', fail);
    if (!settled) return;
    const { built, spec } = settled;
    const codeShape = built.encoder.outputs[0].shape.slice(1) as number[];
    generate(spec, codeShape, built.model, Math.max(1, Math.min(256, count)), seed, (p) => this.session.guard(p)).then(
      (g) => {
        const transfer = g.manifold ? [g.pixels.buffer, g.manifold.pixels.buffer] : [g.pixels.buffer];
        const shape = built.model.outputs[0].shape;
        post({ type: 'generated', runId, count: g.count, height: shape[1] ?? 0, width: shape[2] ?? 0, channels: shape[3] ?? 1, pixels: g.pixels, manifold: g.manifold }, transfer);
      },
      (e: unknown) => fail(`Generate failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /**
   * #17 the latent map's data for run `runId`: the codes, originals and reconstructions of up to `max` test
   * images. Also while it trains (between steps); from then on it is sent again at each epoch's end.
   */
  latent(runId: number, max: number): void {
    this.latentWanted = { runId, max };
    void this.postLatent(runId, max, -1);
  }

  private async postLatent(runId: number, max: number, step: number): Promise<void> {
    const { post } = this.deps;
    const built = this.session.built;
    try {
      if (!this.lastRun || this.lastRun.runId !== runId || !built) throw new Error('There is no trained model to map: train one (or import one) first');
      // The run's own images and metadata: an own set is not read from IndexedDB again at each epoch's end.
      const { info, data, testIdx } = this.lastRun;
      const snap = await latentSnapshot(built, data, testIdx, max, (p) => this.session.guard(p));
      post(
        { type: 'latent', runId, step, ...snap, total: testIdx.length, classNames: [...info.classNames], factors: syntheticFactors(info, snap.indices), height: data.height, width: data.width, channels: data.channels },
        [snap.codes.buffer, snap.indices.buffer, snap.labels.buffer, snap.originals.buffer, snap.reconstructions.buffer],
      );
    } catch (e) {
      post({ type: 'latentError', runId, message: e instanceof Error ? e.message : String(e) });
    }
  }

  /** #17 decodes codes with run `runId`'s decoder as it is now (interpolation, sliders); answers decoded or decodeError. */
  decode(runId: number, requestId: number, codes: Float32Array, count: number): void {
    const { post } = this.deps;
    const built = this.session.built;
    const start = performance.now();
    const fail = (message: string): void => post({ type: 'decodeError', runId, requestId, message });
    if (!this.lastRun || this.lastRun.runId !== runId || !built) {
      fail('There is no trained model to decode with: train one (or import one) first');
      return;
    }
    const { spec, data } = this.lastRun;
    decodeCodes(built, spec, codes, count, (p) => this.session.guard(p)).then(
      (pixels) => post({ type: 'decoded', runId, requestId, count, height: data.height, width: data.width, channels: data.channels, pixels, ms: performance.now() - start }, [pixels.buffer]),
      (e: unknown) => fail(`Decoding failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /**
   * The model of run `runId` when it holds still (done, or paused), with its spec; otherwise says why
   * through `fail` ("There is no trained model to <what>…", "Pause the training first…") and returns null.
   */
  private settledModel(runId: number, what: string, fail: (message: string) => void): { built: BuiltModel; spec: ExperimentSpec } | null {
    const built = this.session.built;
    const run = this.current;
    if (!this.lastRun || this.lastRun.runId !== runId || !built) {
      fail(`There is no trained model to ${what}: train one (or import one) first`);
      return null;
    }
    if (run && run.id === runId && this.runsActive > 0 && !run.paused) {
      fail('Pause the training first: the model is changing with every step');
      return null;
    }
    return { built, spec: this.lastRun.spec };
  }

  exportModel(runId: number): void {
    const { post } = this.deps;
    const fail = (message: string): void => post({ type: 'modelExportError', runId, message });
    const settled = this.settledModel(runId, 'export', fail);
    if (!settled) return;
    exportArtifacts(settled.built, settled.spec).then(
      (model) => post({ type: 'modelExported', runId, model }, [model.weightData]),
      (e: unknown) => fail(`The export failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  /**
   * Import (#18): the model file (read and checked on the page) becomes run `runId`: the model its
   * spec builds, with the file's weights, on the backend running now (or the spec's when none does,
   * so the model on screen is not lost when the import fails), then its views, as after training.
   * A failure posts modelImportError and changes nothing; a Train pressed meanwhile cancels it.
   */
  importModel(runId: number, file: ModelFileContents): void {
    const { post } = this.deps;
    this.stopCurrent();
    const run: RunState = { id: runId, spec: file.spec, stopped: false, paused: false, resume: null };
    this.current = run;
    this.enqueue(async () => {
      try {
        await this.runImport(run, file);
      } catch (e) {
        if (!run.stopped) post({ type: 'modelImportError', runId, message: e instanceof Error ? e.message : String(e) });
      }
      if (this.current === run) this.current = null;
      this.reportMemory();
    });
  }

  private async runImport(run: RunState, file: ModelFileContents): Promise<void> {
    const { post } = this.deps;
    const { spec, trained } = file;
    const { info, data } = await loadAnyDataset(spec.dataset, this.deps.dataBase);
    if (run.stopped) return;
    const report = this.session.report !== null && this.session.lostReason === null ? this.session.report : await this.session.choose(spec.backend);
    if (run.stopped) return;
    const built = buildModel(spec, info.shape);
    const split = splitIndices(data.count, info.testCount, info.splitSeed);
    const trainIdx = split.train.subarray(0, Math.min(split.train.length, spec.trainSize));
    const displayIdx = pickDisplayIndices(split.test, data.labels, 16);
    let views: Awaited<ReturnType<typeof viewsOf>>;
    try {
      await importWeights(built, file);
      const display = batchTensor(data, displayIdx, 0, displayIdx.length);
      try {
        views = await viewsOf(built, display);
      } finally {
        display.dispose();
      }
      if (run.stopped) throw new Error('cancelled');
    } catch (e) {
      built.model.dispose();
      throw e;
    }
    this.session.adopt(built, spec);
    this.lastRun = { runId: run.id, spec, info, data, trainIdx, testIdx: split.test };
    const step = trained.steps;
    const [count, height, width, channels] = [displayIdx.length, data.height, data.width, data.channels];
    const originals = pixelsOf(data, displayIdx);
    post({ type: 'modelImported', runId: run.id, spec, trained });
    post({ type: 'backend', runId: run.id, report });
    post({ type: 'images', runId: run.id, kind: 'originals', step: 0, count, height, width, channels, pixels: originals, renderedBy: 'worker' }, [originals.buffer]);
    post({ type: 'images', runId: run.id, kind: 'reconstructions', step, count, height, width, channels, pixels: views.pixels, renderedBy: 'worker' }, [views.pixels.buffer]);
    post({ type: 'codes', runId: run.id, step, count, shape: views.codeShape, values: views.codes }, [views.codes.buffer]);
    const how = trained.steps > 0 ? `trained ${trained.steps} step${trained.steps === 1 ? '' : 's'}${trained.backend ? ` on ${BACKEND_LABELS[trained.backend]}` : ''}` : 'untrained';
    post({ type: 'phase', runId: run.id, phase: 'done', detail: `Imported model (${how}). Train starts again from new weights.` });
  }
}
