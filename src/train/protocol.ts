/**
 * Messages between the page and the training worker: discriminated unions, both directions.
 * Metrics travel as small messages; images as transferred typed arrays.
 */
import type { BackendChoice, BackendName, ExperimentSpec } from '../model/spec';
import type { ExportedModel, ModelFileContents, TrainedInfo } from './modelFile';

/**
 * The debug actions, listed once. Faults a test build can inject into the worker: lose the GPU
 * device, hang, crash, crash the live-views helper. They exist only where VITE_TEST_HOOKS is '1'
 * (the e2e build), never in production. (Only the worker may use this list at run time: the page
 * uses the types, so its production bundle holds none of these names.)
 */
export const WORKER_FAULTS = ['loseDevice', 'hang', 'crash', 'crashViews'] as const;
export type WorkerFault = (typeof WORKER_FAULTS)[number];
/** Every fault a test may inject: the worker's, and 'kill' (the page ends the worker without a word, as a browser might). */
export type Fault = WorkerFault | 'kill';
/**
 * The worker's debug actions: report memory now (every build), a fault, or let Auto race software
 * GPU adapters too (on a machine without a GPU, to test the race; test builds only).
 */
export type DebugAction = 'memory' | WorkerFault | 'raceSoftware';

export type ToWorker =
  /** steps: start paused, with this many single steps granted (the page's Step with no run in progress). */
  | { type: 'start'; runId: number; spec: ExperimentSpec; liveViews: boolean; steps?: number }
  /** Live views on: reconstructions and codes several times a second; off: only at each epoch's end (full speed). */
  | { type: 'views'; live: boolean }
  | { type: 'pause'; runId: number }
  | { type: 'resume'; runId: number }
  | { type: 'stop'; runId: number }
  /** Liveness check: the worker answers with a pong between training steps. */
  | { type: 'ping'; id: number }
  /** Test hooks: see DEBUG_ACTIONS. */
  | { type: 'debug'; action: DebugAction }
  /** After a run: reconstruct inputs unlike the data (copy test), or fit a linear probe on the codes. */
  | { type: 'analyze'; runId: number; what: 'copyTest' | 'probe' }
  /** Runs one training step of every layer kind on each backend and compares gradients with finite differences. */
  | { type: 'gradCheck'; backends: BackendName[] }
  /** Export the model of run `runId` (paused or done) in the tfjs layers format (#18). */
  | { type: 'exportModel'; runId: number }
  /** Load a model file (read and checked on the page) as run `runId`: its spec, its weights, its views. */
  | { type: 'importModel'; runId: number; file: ModelFileContents }
  /** "Look inside" (#15): the feature maps of this display image, refreshed while training; null: the panel is closed. */
  | { type: 'featureMaps'; image: number | null }
  /** A paused run trains exactly one batch (loss read back, views refreshed) and stays paused. */
  | { type: 'step'; runId: number }
  /**
   * #16 "Generate": decode `count` codes drawn from the prior N(0, I) with this seed (a VAE's decoder;
   * any run's decoder works). With a 2-value code the answer also holds the decoded manifold grid.
   */
  | { type: 'generate'; runId: number; count: number; seed: number }
  /** #17 the latent map's data (codes, originals, reconstructions of up to `max` test images); again at each epoch's end. */
  | { type: 'latent'; runId: number; max: number }
  /** #17 decode `count` codes (count × code values) with the decoder as it is now. */
  | { type: 'decode'; runId: number; requestId: number; codes: Float32Array; count: number };

/** One layer's output in a feature-maps message: where it sits in the model, its kind, its shape (no batch axis). */
export interface FeatureMapLayer {
  stack: 'encoder' | 'decoder';
  index: number;
  /** The layer kind as the spec names it (conv2d, dense, …). */
  kind: string;
  shape: number[];
}

export interface GradCheckRow {
  backend: BackendName;
  kind: string;
  maxRelError: number;
  ok: boolean;
  detail: string;
}

export type Phase = 'idle' | 'loading' | 'building' | 'training' | 'paused' | 'done' | 'error';

/** The phases of a run in progress (paused included): the one definition of "a run is active". */
export const ACTIVE_PHASES: readonly Phase[] = ['loading', 'building', 'training', 'paused'];
export function isActive(phase: Phase): boolean {
  return ACTIVE_PHASES.includes(phase);
}

export interface BackendReport {
  name: BackendName;
  requested: BackendChoice;
  /** Why this backend runs, in words for the user. */
  reason: string;
  /** WebGPU adapter or WebGL renderer, when known. */
  device: string | null;
}

/** #19: which kernels train a run on WebGPU, or on WASM whether our SIMD kernels run beside tfjs-wasm's. */
export interface KernelPathReport {
  fused: boolean;
  /** WASM: our SIMD module runs on the backend's heap (false: WebAssembly SIMD missing, tfjs-wasm's kernels alone). */
  wasmSimd?: boolean;
  /** WASM: threads tfjs-wasm's XNNPACK kernels run on, and why that many. */
  wasmThreads?: number;
  wasmThreadsNote?: string;
  /** fused: the fused ops in order; stock: why the fused path does not train this model. */
  detail: string;
  /** fused: compute dispatches per training step. */
  dispatches?: number;
}

export interface LossPoint {
  step: number;
  /** The training objective: reconstruction plus every penalty (what the optimizer minimises). */
  loss: number;
  /** #16: the reconstruction term alone, where the objective has other terms (vae, sparse). */
  recon?: number;
  /** #16 vae: the KL term (per input value, before beta), plotted beside the reconstruction term. */
  kl?: number;
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
  /** Wall time of one training step, recently (ms): the page's watchdog allows for it. */
  stepMs: number;
}

export type FromWorker =
  | { type: 'ready' }
  /** fraction: how far the phase has got (0-1), where known before training steps report progress (Auto's race). */
  | { type: 'phase'; runId: number; phase: Phase; detail: string; fraction?: number }
  | { type: 'backend'; runId: number; report: BackendReport }
  /** #19: which kernels train the run on WebGPU: the fused path (its ops, dispatches per step) or tfjs' stock kernels and why. */
  | { type: 'kernels'; runId: number; report: KernelPathReport }
  /** Losses read back since the last report, with the progress they bring (one message: one page update). */
  | { type: 'trainLoss'; runId: number; points: LossPoint[]; progress: ProgressInfo }
  /** End of an epoch: test loss, and the training loss evaluated the same way (no dropout) on the training images. */
  | {
      type: 'testLoss';
      runId: number;
      epoch: number;
      step: number;
      /** The reconstruction loss (the spec's loss; denoising: of corrupted inputs against the clean ones; vae: decoded from the mean). */
      loss: number;
      trainLoss: number;
      /** #16 vae: the KL term on the test images (per input value, before beta). */
      kl?: number;
    }
  /**
   * #16 PCA baseline, sent once per run before training starts: PCA with k = the code size on the
   * training images. testLoss/trainLoss: the spec's loss of the PCA reconstructions (the chart's
   * reference line); testMse: their mean squared error; pixels: the display images' PCA
   * reconstructions (count×H×W×C, clipped to [0, 1]); eigenvalues: the covariance's top ones.
   */
  | {
      type: 'pca';
      runId: number;
      k: number;
      testLoss: number;
      trainLoss: number;
      testMse: number;
      eigenvalues: Float32Array;
      count: number;
      pixels: Float32Array;
    }
  /** #16 PCA could not be computed (too large a code, say): the reason, for the chart's note. */
  | { type: 'pcaError'; runId: number; message: string }
  /**
   * #16 denoising, at each epoch's end on the test images: the error (spec's loss) of the corrupted
   * inputs against the clean images, and of the reconstructions against the clean images.
   */
  | { type: 'denoise'; runId: number; epoch: number; corruptedLoss: number; reconLoss: number }
  /**
   * #16 the cumulative reconstruction error per code unit, at each epoch's end (rank-ordered runs, and
   * flat codes of up to 64 values): errors[i] is the test error with only each image's ranks[i] largest
   * code values (by magnitude) kept, the rest set to 0.
   */
  | { type: 'rankCurve'; runId: number; step: number; ranks: number[]; errors: Float32Array }
  /** #16 "Generate": count decoded prior samples; manifold: a side×side grid over a 2-value code (null otherwise). */
  | {
      type: 'generated';
      runId: number;
      count: number;
      height: number;
      width: number;
      channels: number;
      pixels: Float32Array;
      manifold: { side: number; pixels: Float32Array } | null;
    }
  | { type: 'generateError'; runId: number; message: string }
  /**
   * #17 the latent map: the codes (count × prod(codeShape), a VAE's mean) of the first `count` test images
   * (test-split `indices`), their labels, originals and reconstructions (count × H × W × C bytes). step -1:
   * asked for by the page; otherwise sent at the end of the epoch that ended at that step.
   */
  | {
      type: 'latent';
      runId: number;
      step: number;
      count: number;
      /** Test images in the split (count is at most LATENT_MAX of them). */
      total: number;
      /** A synthetic set's generating factors of these images (names, count × names values), else null. */
      factors: { names: string[]; values: Float32Array } | null;
      codeShape: number[];
      codes: Float32Array;
      indices: Uint32Array;
      labels: Uint8Array;
      classNames: string[];
      height: number;
      width: number;
      channels: number;
      originals: Uint8Array;
      reconstructions: Uint8Array;
    }
  | { type: 'latentError'; runId: number; message: string }
  /** #17 decoded codes (interpolation, sliders): count images in [0, 1]; ms: the worker's time for it. */
  | { type: 'decoded'; runId: number; requestId: number; count: number; height: number; width: number; channels: number; pixels: Float32Array; ms: number }
  | { type: 'decodeError'; runId: number; requestId: number; message: string }
  /** Bottleneck activations of the display images: count × prod(shape) values, transferred. */
  | { type: 'codes'; runId: number; step: number; count: number; shape: number[]; values: Float32Array }
  | { type: 'copyTest'; runId: number; results: CopyTestResult[] }
  | { type: 'probe'; runId: number; result: ProbeResult }
  | { type: 'analysisError'; runId: number; what: 'copyTest' | 'probe'; message: string }
  | {
      type: 'images';
      runId: number;
      /**
       * Which images: original inputs (sent once), current reconstructions, or (#16 denoising) the
       * display images as corrupted with a fixed seed (sent once, after the originals).
       */
      kind: 'originals' | 'reconstructions' | 'corrupted';
      step: number;
      count: number;
      height: number;
      width: number;
      channels: number;
      /** Values in [0, 1], count×H×W×C, transferred. */
      pixels: Float32Array;
      /** Who computed them: the training worker, or its live-views helper on another core (CPU backends). */
      renderedBy: 'worker' | 'helper';
    }
  | { type: 'warning'; runId: number; code: 'collapse' | 'viewsHelper'; message: string }
  | { type: 'pong'; id: number }
  /**
   * Tensor count and bytes; runsActive counts training loops running now (never more than 1);
   * viewsHelperTensors: tensors alive in the live-views helper after its last render (null: not used).
   */
  | { type: 'memory'; numTensors: number; numBytes: number; runsActive: number; viewsHelperTensors: number | null }
  | { type: 'gradCheck'; backend: BackendName; rows: GradCheckRow[]; error: string | null; done: boolean }
  | { type: 'error'; runId: number; message: string }
  /** The export asked for: tfjs' artifacts of the model and the spec it was built from (#18). */
  | { type: 'modelExported'; runId: number; model: ExportedModel }
  | { type: 'modelExportError'; runId: number; message: string }
  /**
   * An import loaded: run `runId` is now the imported model (its backend, images, codes and 'done'
   * phase follow as after training). Sent before them, so the page takes the spec first.
   */
  | { type: 'modelImported'; runId: number; spec: ExperimentSpec; trained: TrainedInfo }
  /** The import failed: nothing changed (the worker's model included). */
  | { type: 'modelImportError'; runId: number; message: string }
  /** Every layer's output for display image `image`: the layers' values one after another (each prod(shape)), transferred. */
  | { type: 'featureMaps'; runId: number; step: number; image: number; layers: FeatureMapLayer[]; values: Float32Array; computeMs: number };

export interface CopyTestResult {
  /** 'test' is the held-out test split, the baseline. */
  category: 'test' | 'noise' | 'otherDataset' | 'inverted';
  label: string;
  loss: number;
  count: number;
  /** A few examples: originals and reconstructions, n × H × W × C in [0, 1]. */
  samples: { n: number; height: number; width: number; channels: number; originals: Float32Array; reconstructions: Float32Array };
}

export interface ProbeResult {
  codeAccuracy: number;
  pixelAccuracy: number;
  codeSize: number;
  trainCount: number;
  testCount: number;
  seconds: number;
}

/** One message from the worker, by its type. */
export type FromWorkerOf<T extends FromWorker['type']> = Extract<FromWorker, { type: T }>;

/** Tensor counts as the worker reports them, without the envelope. */
export type MemoryReport = Omit<FromWorkerOf<'memory'>, 'type'>;

export function isFromWorker(data: unknown): data is FromWorker {
  return typeof data === 'object' && data !== null && typeof (data as { type?: unknown }).type === 'string';
}
