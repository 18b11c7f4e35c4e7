/**
 * TrainingClient: the page's one handle on the training worker. One worker, one listener, a typed API,
 * and a watchdog: a worker that dies or stops answering is replaced within seconds.
 */
import type { BackendName, ExperimentSpec } from '../model/spec';
import type { ModelFileContents } from './modelFile';
import { isFromWorker, type FromWorker, type ToWorker } from './protocol';

export type WorkerListener = (msg: FromWorker) => void;

/** How long the worker may stay silent before it counts as hung (at least; see allowance). */
export const HANG_MS = 10_000;
/** Before the first step is timed: data loading, model building, shader compilation, a first slow step. */
export const FIRST_STEP_MS = 120_000;
const PING_MS = 1_000;
const MAX_QUICK_RESTARTS = 3;

export class TrainingClient {
  private worker: Worker | null = null;
  private runId = 0;
  private pingId = 0;
  private lastHeard = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private quickRestarts = 0;
  /** Silence allowed now: HANG_MS, more while a run starts or when its steps are slow. */
  private allowanceMs = HANG_MS;

  constructor(
    private readonly onMessage: WorkerListener,
    /** Called when the worker died or hung; a fresh worker is already starting. */
    private readonly onFailure: (message: string) => void,
  ) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'training' });
    worker.onmessage = (e: MessageEvent<unknown>) => {
      this.lastHeard = performance.now();
      if (!isFromWorker(e.data)) return;
      const msg = e.data;
      if (msg.type === 'ready') this.quickRestarts = 0;
      if (msg.type === 'pong') return;
      if (msg.type === 'phase') this.allowanceMs = msg.phase === 'loading' || msg.phase === 'building' ? FIRST_STEP_MS : this.allowanceMs;
      // A step (or an evaluation batch, about as long) runs without a break: allow several of them.
      if (msg.type === 'trainLoss' && msg.progress.stepMs > 0) this.allowanceMs = Math.max(HANG_MS, 6 * msg.progress.stepMs);
      // An import (#18) is over: the usual silence allowed again.
      if (msg.type === 'modelImported' || msg.type === 'modelImportError') this.allowanceMs = HANG_MS;
      this.onMessage(msg);
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.fail(`The training worker failed (${e.message || 'it could not start'})`);
    };
    worker.onmessageerror = () => this.fail('A message from the training worker could not be read');
    this.worker = worker;
    this.lastHeard = performance.now();
    this.timer ??= setInterval(() => this.watch(), PING_MS);
    return worker;
  }

  private watch(): void {
    if (!this.worker) return;
    if (performance.now() - this.lastHeard > this.allowanceMs) {
      this.fail(`The training worker stopped responding for ${Math.round(this.allowanceMs / 1000)} s`);
      return;
    }
    this.worker.postMessage({ type: 'ping', id: ++this.pingId } satisfies ToWorker);
  }

  private fail(reason: string): void {
    this.worker?.terminate();
    this.worker = null;
    this.allowanceMs = HANG_MS;
    this.quickRestarts += 1;
    if (this.quickRestarts <= MAX_QUICK_RESTARTS) {
      this.ensureWorker();
      this.onFailure(`${reason}. A new worker was started; your experiment and curves are kept. Press Train to run again.`);
    } else {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      this.onFailure(`${reason}, again and again: training is unavailable in this browser tab. Reload the page to try again.`);
    }
  }

  private send(msg: ToWorker): void {
    this.ensureWorker().postMessage(msg);
  }

  /**
   * Starts a new run (the worker stops any earlier one first). Returns its id. With `steps`, the run
   * starts paused and trains that many batches (the page's Step).
   */
  start(spec: ExperimentSpec, liveViews = true, steps?: number): number {
    this.runId += 1;
    this.allowanceMs = FIRST_STEP_MS;
    this.send(steps ? { type: 'start', runId: this.runId, spec, liveViews, steps } : { type: 'start', runId: this.runId, spec, liveViews });
    return this.runId;
  }

  /** Live views on or off for the run in progress (and later ones, until changed). */
  setLiveViews(live: boolean): void {
    if (this.worker) this.send({ type: 'views', live });
  }

  pause(): void {
    this.send({ type: 'pause', runId: this.runId });
  }

  resume(): void {
    this.send({ type: 'resume', runId: this.runId });
  }

  /** One batch on the paused run (see the 'step' message). */
  step(): void {
    this.send({ type: 'step', runId: this.runId });
  }

  stop(): void {
    if (this.worker) this.send({ type: 'stop', runId: this.runId });
  }

  analyze(runId: number, what: 'copyTest' | 'probe'): void {
    this.allowanceMs = Math.max(this.allowanceMs, 60_000); // whole-set passes through the encoder
    this.send({ type: 'analyze', runId, what });
  }

  gradCheck(backends: BackendName[]): void {
    this.allowanceMs = FIRST_STEP_MS; // a cold backend compiles its shaders first
    this.send({ type: 'gradCheck', backends });
  }

  /** Asks for the model of run `runId` in the tfjs layers format (#18): a modelExported or modelExportError answers. */
  exportModel(runId: number): void {
    this.send({ type: 'exportModel', runId });
  }

  /** Loads a model file as a new run (#18); returns its id. modelImported or modelImportError answers. */
  importModel(file: ModelFileContents): number {
    this.runId += 1;
    this.allowanceMs = FIRST_STEP_MS; // the data set loads and a backend may start first
    this.send({ type: 'importModel', runId: this.runId, file });
    return this.runId;
  }

  /** "Look inside": the feature maps of display image `image` from now on, or none (null: the panel closed). */
  featureMaps(image: number | null): void {
    if (this.worker) this.send({ type: 'featureMaps', image });
  }

  /** #16 "Generate": decode `count` samples of the prior with run `runId`'s decoder (generated or generateError answers). */
  generate(runId: number, count: number, seed: number): void {
    this.send({ type: 'generate', runId, count, seed });
  }

  /** #17 the latent map's data of run `runId` (latent or latentError answers; again at each epoch's end). */
  latent(runId: number, max: number): void {
    this.send({ type: 'latent', runId, max });
  }

  /** #17 decodes codes with run `runId`'s decoder (decoded or decodeError answers). */
  decode(runId: number, requestId: number, codes: Float32Array, count: number): void {
    this.send({ type: 'decode', runId, requestId, codes, count });
  }

  /** Test hooks: tensor count now, or a fault injected into the worker. */
  debug(action: 'memory' | 'loseDevice' | 'hang' | 'crash' | 'crashViews' | 'raceSoftware'): void {
    this.send({ type: 'debug', action });
  }

  /** Test hook: the worker vanishes without a word, as if the browser killed it. */
  killSilently(): void {
    this.worker?.terminate(); // no message, no error event: only the watchdog can notice
  }

  terminate(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.worker?.terminate();
    this.worker = null;
  }
}
