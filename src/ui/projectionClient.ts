/**
 * The page's side of the projection worker (src/projection.worker.ts): one worker, made on first use.
 * One job at a time: a newer request (or cancel()) supersedes the one in flight — its promise rejects
 * with ProjectionCancelledError, and since the worker cannot be interrupted mid-UMAP, it is ended and
 * the next request makes a fresh one. A worker that fails (onerror / onmessageerror) is dropped too.
 * No React.
 */
import type { ProjectionMethod, ProjectionRequest, ProjectionResponse } from '../model/projection';

export interface ProjectionResult {
  /** n × 2 interleaved, in [0,1]². */
  points: Float32Array;
  /** PCA: the share of the variance on each axis; UMAP: null. */
  explained: [number, number] | null;
}

export interface ProjectionJob {
  promise: Promise<ProjectionResult>;
  /** Drop the job (its promise rejects with ProjectionCancelledError); no-op once settled. */
  cancel: () => void;
}

/** The rejection of a job superseded by a newer one or cancelled: callers usually ignore it. */
export class ProjectionCancelledError extends Error {
  constructor() {
    super('projection cancelled');
    this.name = 'ProjectionCancelledError';
  }
}

interface Pending {
  id: number;
  resolve: (r: ProjectionResult) => void;
  reject: (e: Error) => void;
  onProgress?: (fraction: number) => void;
}

let worker: Worker | null = null;
let pending: Pending | null = null;
let nextId = 1;

function dropWorker(): void {
  if (!worker) return;
  worker.onmessage = null;
  worker.onerror = null;
  worker.onmessageerror = null;
  worker.terminate();
  worker = null;
}

/** Settle the job in flight (if it is `id`, or any when id is undefined) and forget it. */
function take(id?: number): Pending | null {
  if (!pending || (id !== undefined && pending.id !== id)) return null;
  const p = pending;
  pending = null;
  return p;
}

function getWorker(): Worker {
  if (worker) return worker;
  const w = new Worker(new URL('../projection.worker.ts', import.meta.url), { type: 'module' });
  w.onmessage = (event: MessageEvent<ProjectionResponse>) => {
    const msg = event.data;
    if (msg.type === 'progress') {
      if (pending?.id === msg.id) pending.onProgress?.(msg.fraction);
      return;
    }
    const p = take(msg.id);
    if (!p) return;
    if (msg.type === 'done') p.resolve({ points: msg.points, explained: msg.explained });
    else p.reject(new Error(`Projection failed: ${msg.message}`));
  };
  w.onerror = (event: ErrorEvent) => {
    event.preventDefault();
    const detail = event.message ? `: ${event.message}` : ' (it could not be loaded or crashed)';
    dropWorker();
    take()?.reject(new Error(`The projection worker failed${detail}`));
  };
  w.onmessageerror = () => {
    dropWorker();
    take()?.reject(new Error('The projection worker sent a message that could not be read'));
  };
  worker = w;
  return w;
}

/**
 * Project n codes of d values (n × d, row after row) to 2-D off the main thread. The codes are copied
 * to the worker (the caller's array stays usable). A newer call supersedes this one.
 */
export function projectCodes(
  req: { method: ProjectionMethod; codes: Float32Array; n: number; d: number; seed: number },
  onProgress?: (fraction: number) => void,
): ProjectionJob {
  const previous = take();
  if (previous) {
    // The worker is busy with a job nobody wants: end it rather than wait for it.
    dropWorker();
    previous.reject(new ProjectionCancelledError());
  }
  const id = nextId++;
  const promise = new Promise<ProjectionResult>((resolve, reject) => {
    pending = { id, resolve, reject, onProgress };
  });
  try {
    const message: ProjectionRequest = { id, method: req.method, codes: req.codes, n: req.n, d: req.d, seed: req.seed };
    getWorker().postMessage(message);
  } catch (err) {
    dropWorker();
    take(id)?.reject(new Error(`Could not start the projection worker: ${err instanceof Error ? err.message : String(err)}`));
  }
  const cancel = (): void => {
    const p = take(id);
    if (!p) return;
    dropWorker();
    p.reject(new ProjectionCancelledError());
  };
  return { promise, cancel };
}
