/**
 * Messages between the page and the training worker: discriminated unions, both directions.
 * Metrics travel as small messages; images as transferred typed arrays.
 */
import type { BackendChoice, BackendName, ExperimentSpec } from '../model/spec';

export type ToWorker =
  | { type: 'start'; runId: number; spec: ExperimentSpec }
  | { type: 'pause'; runId: number }
  | { type: 'resume'; runId: number }
  | { type: 'stop'; runId: number }
  /** Liveness check: the worker answers with a pong between training steps. */
  | { type: 'ping'; id: number }
  /** Test hooks: report memory now, or inject a fault (lose the GPU device, hang, crash). */
  | { type: 'debug'; action: 'memory' | 'loseDevice' | 'hang' | 'crash' }
  /** Runs one training step of every layer kind on each backend and compares gradients with finite differences. */
  | { type: 'gradCheck'; backends: BackendName[] };

export interface GradCheckRow {
  backend: BackendName;
  kind: string;
  maxRelError: number;
  ok: boolean;
  detail: string;
}

export type Phase = 'idle' | 'loading' | 'building' | 'training' | 'paused' | 'done' | 'error';

export interface BackendReport {
  name: BackendName;
  requested: BackendChoice;
  /** Why this backend runs, in words for the user. */
  reason: string;
  /** WebGPU adapter or WebGL renderer, when known. */
  device: string | null;
}

export interface LossPoint {
  step: number;
  loss: number;
}

export interface ProgressInfo {
  epoch: number;
  epochs: number;
  /** Steps done in total. */
  step: number;
  stepsPerEpoch: number;
  totalSteps: number;
  imagesPerSec: number;
  etaSeconds: number;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'phase'; runId: number; phase: Phase; detail: string }
  | { type: 'backend'; runId: number; report: BackendReport }
  | { type: 'progress'; runId: number; progress: ProgressInfo }
  | { type: 'trainLoss'; runId: number; points: LossPoint[] }
  | { type: 'testLoss'; runId: number; epoch: number; step: number; loss: number }
  | {
      type: 'images';
      runId: number;
      /** Which images: original inputs (sent once) or current reconstructions. */
      kind: 'originals' | 'reconstructions';
      step: number;
      count: number;
      height: number;
      width: number;
      channels: number;
      /** Values in [0, 1], count×H×W×C, transferred. */
      pixels: Float32Array;
    }
  | { type: 'warning'; runId: number; code: 'collapse'; message: string }
  | { type: 'pong'; id: number }
  /** Tensor count and bytes; runsActive counts training loops running now (never more than 1). */
  | { type: 'memory'; numTensors: number; numBytes: number; runsActive: number }
  | { type: 'gradCheck'; backend: BackendName; rows: GradCheckRow[]; error: string | null; done: boolean }
  | { type: 'error'; runId: number; message: string };

export function isFromWorker(data: unknown): data is FromWorker {
  return typeof data === 'object' && data !== null && typeof (data as { type?: unknown }).type === 'string';
}
