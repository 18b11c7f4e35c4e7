/**
 * TrainingClient: the page's one handle on the training worker. One worker, one listener, a typed API.
 */
import type { BackendName, ExperimentSpec } from '../model/spec';
import { isFromWorker, type FromWorker, type ToWorker } from './protocol';

export type WorkerListener = (msg: FromWorker) => void;

export class TrainingClient {
  private worker: Worker | null = null;
  private runId = 0;

  constructor(
    private readonly onMessage: WorkerListener,
    private readonly onFailure: (message: string) => void,
  ) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'training' });
    worker.onmessage = (e: MessageEvent<unknown>) => {
      if (isFromWorker(e.data)) this.onMessage(e.data);
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.onFailure(`The training worker failed: ${e.message || 'unknown error'}. It will be restarted on the next run.`);
      this.terminate();
    };
    worker.onmessageerror = () => this.onFailure('A message from the training worker could not be read.');
    this.worker = worker;
    return worker;
  }

  private send(msg: ToWorker): void {
    this.ensureWorker().postMessage(msg);
  }

  /** Starts a new run (the worker stops any earlier one first). Returns its id. */
  start(spec: ExperimentSpec): number {
    this.runId += 1;
    this.send({ type: 'start', runId: this.runId, spec });
    return this.runId;
  }

  pause(): void {
    this.send({ type: 'pause', runId: this.runId });
  }

  resume(): void {
    this.send({ type: 'resume', runId: this.runId });
  }

  stop(): void {
    if (this.worker) this.send({ type: 'stop', runId: this.runId });
  }

  requestMemory(): void {
    this.send({ type: 'debug', action: 'memory' });
  }

  gradCheck(backends: BackendName[]): void {
    this.send({ type: 'gradCheck', backends });
  }

  get currentRun(): number {
    return this.runId;
  }

  terminate(): void {
    this.worker?.terminate();
    this.worker = null;
  }
}
