/**
 * One zustand store built from slices: experiment (the spec and its edits), training (what the
 * worker reports), ui (view toggles). Components read it through narrow selectors.
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import { defaultLayer } from '../model/catalogue';
import { experimentCheckOf } from '../model/checkExperiment';
import { DEFAULT_SPEC, findPreset, presetFor } from '../model/presets';
import { adaptToShape } from '../model/adaptShape';
import { datasetShape } from '../data/catalogue';
import type { BackendName, ExperimentSpec, LayerKind, LayerSpec } from '../model/spec';
import type { Stack } from '../model/inferShapes';
import { TrainingClient, type WorkerListener } from '../train/client';
import type { ExportedModel, ModelFileContents, TrainedInfo } from '../train/modelFile';
import {
  isActive,
  type BackendReport,
  type CopyTestResult,
  type DebugAction,
  type Fault,
  type FromWorker,
  type FromWorkerOf,
  type GradCheckRow,
  type KernelPathReport,
  type LossPoint,
  type MemoryReport,
  type Phase,
  type ProbeResult,
  type ProgressInfo,
} from '../train/protocol';

export { isActive } from '../train/protocol';

/** A batch of images as the worker sends it, without the envelope. */
export type ImageBatch = Omit<FromWorkerOf<'images'>, 'type' | 'runId' | 'kind'>;

export type { MemoryReport } from '../train/protocol';

/** An epoch's end: the test loss, and the training loss evaluated the same way (no dropout). */
export type TestPoint = Omit<FromWorkerOf<'testLoss'>, 'type' | 'runId'>;

/** The bottleneck activations of the display images. */
export type CodeBatch = Omit<FromWorkerOf<'codes'>, 'type' | 'runId'>;

/** "Look inside": every layer's output for one display image (values of layer after layer). */
export type FeatureMapsBatch = Omit<FromWorkerOf<'featureMaps'>, 'type' | 'runId'>;

/** #16 the PCA baseline of the run on screen. */
export type PcaResult = Omit<FromWorkerOf<'pca'>, 'type' | 'runId'>;
/** #16 denoising at an epoch's end: corrupted inputs' and reconstructions' error against the clean images. */
export type DenoisePoint = Omit<FromWorkerOf<'denoise'>, 'type' | 'runId'>;
/** #16 the cumulative reconstruction error per code unit. */
export type RankCurve = Omit<FromWorkerOf<'rankCurve'>, 'type' | 'runId'>;
/** #16 decoded prior samples (and the 2-D manifold grid). */
export type GeneratedBatch = Omit<FromWorkerOf<'generated'>, 'type' | 'runId'>;

export interface AnalysisState<T> {
  running: boolean;
  result: T | null;
  error: string | null;
}

interface ExperimentSlice {
  spec: ExperimentSpec;
  setSpec: (patch: Partial<ExperimentSpec>) => void;
  replaceSpec: (spec: ExperimentSpec) => void;
  loadPreset: (id: string) => void;
  addLayer: (stack: Stack, kind: LayerKind) => void;
  removeLayer: (stack: Stack, index: number) => void;
  moveLayer: (stack: Stack, index: number, delta: -1 | 1) => void;
  updateLayer: (stack: Stack, index: number, layer: LayerSpec) => void;
}

interface TrainingSlice {
  phase: Phase;
  phaseDetail: string;
  /** How far the phase has got (0-1) before training steps report progress (Auto's race), if known. */
  phaseFraction: number | null;
  runId: number;
  backend: BackendReport | null;
  /** #19: which kernels train the run on WebGPU (the fused path or tfjs' stock kernels, and why). */
  kernels: KernelPathReport | null;
  progress: ProgressInfo | null;
  trainLoss: LossPoint[];
  testLoss: TestPoint[];
  originals: ImageBatch | null;
  reconstructions: ImageBatch | null;
  warning: string | null;
  error: string | null;
  codes: CodeBatch | null;
  /** Which of the 16 display images the code view shows. */
  selectedImage: number;
  selectImage: (i: number) => void;
  copyTest: AnalysisState<CopyTestResult[]>;
  probe: AnalysisState<ProbeResult>;
  requestAnalysis: (what: 'copyTest' | 'probe') => void;
  /** The experiment was edited after the run whose results are on screen. */
  resultsStale: boolean;
  /** When the current run started (ms), for the runs table's time column. */
  startedAt: number;
  /** Tensor counts the worker reported (after each epoch and on request), newest last. */
  memoryLog: MemoryReport[];
  gradCheck: { running: boolean; rows: GradCheckRow[]; errors: string[] };
  runGradCheck: (backends: BackendName[]) => void;
  /**
   * Starts a run of the spec on screen, if checkExperiment allows it; otherwise starts nothing
   * (no worker either), says why in `error`, and returns false.
   */
  train: () => boolean;
  pause: () => void;
  resume: () => void;
  reset: () => void;
  dismissError: () => void;
  /** "Look inside" (#15): the feature maps of every layer for the selected image, while the panel is open. */
  featureMaps: FeatureMapsBatch | null;
  lookInside: boolean;
  setLookInside: (open: boolean) => void;
  /**
   * Trains exactly one batch and leaves the run paused: a paused run takes one more step; with no run
   * in progress (idle, done, failed) a new run starts and pauses after its first step (false when
   * checkExperiment blocks it, as train()). While training (or starting) it does nothing: pause first.
   */
  step: () => boolean;
}

export interface ShareNotice {
  kind: 'info' | 'warning' | 'error';
  text: string;
}

interface UiSlice {
  logScale: boolean;
  setLogScale: (v: boolean) => void;
  /** Live views: the loss chart, reconstructions and codes follow training; off, they update at each epoch's end. */
  liveViews: boolean;
  setLiveViews: (v: boolean) => void;
  shareNotice: ShareNotice | null;
  setShareNotice: (n: ShareNotice | null) => void;
  /** Presenter view (#15): the editors hidden, chart, reconstructions and code large. Not persisted. */
  presenter: boolean;
  setPresenter: (on: boolean) => void;
}

/** Model export and import (#18). */
interface ModelTransferSlice {
  /** What the model on screen was trained on, when it was imported (null: trained here, or none). */
  imported: TrainedInfo | null;
  /** The run id of an import in flight (null: none). */
  importingRun: number | null;
  /** The export's or the import's outcome, for the model transfer bar. */
  modelNotice: ShareNotice | null;
  setModelNotice: (n: ShareNotice | null) => void;
  /** The model of the run on screen (paused or done) in the tfjs layers format, from the worker. */
  exportModel: () => Promise<ExportedModel>;
  /** Loads a model file (read and checked on the page); the spec and the views change only once the worker has loaded it. */
  importModel: (file: ModelFileContents) => void;
}

export type LatentData = Omit<FromWorkerOf<'latent'>, 'type' | 'runId'>;
export type DecodedImages = Omit<FromWorkerOf<'decoded'>, 'type' | 'runId' | 'requestId'>;

/** The latent-space explorer (#17). */
interface LatentSlice {
  latent: AnalysisState<LatentData>;
  /** Asks the worker for the codes of up to `max` test images (then again at each epoch's end). */
  requestLatent: (max?: number) => void;
  /** Decodes count codes (count × code values) with the run on screen's decoder as it is now. */
  decode: (codes: Float32Array, count: number) => Promise<DecodedImages>;
}

/** The autoencoder family's views (#16). */
interface FamilySlice {
  /** denoising: the display images as corrupted (fixed seed), for the grid's middle row. */
  corrupted: ImageBatch | null;
  pca: PcaResult | null;
  pcaError: string | null;
  denoise: DenoisePoint[];
  rankCurve: RankCurve | null;
  generated: AnalysisState<GeneratedBatch>;
  /** Decodes `count` prior samples with the run on screen (paused or done); a new seed each time. */
  generate: (count?: number) => void;
}

export type AppState = ExperimentSlice & TrainingSlice & UiSlice & ModelTransferSlice & FamilySlice & LatentSlice;

const freshTraining = {
  phase: 'idle' as Phase,
  phaseDetail: '',
  phaseFraction: null,
  progress: null,
  kernels: null,
  trainLoss: [] as LossPoint[],
  testLoss: [] as TestPoint[],
  originals: null,
  reconstructions: null,
  warning: null,
  error: null,
  codes: null,
  featureMaps: null,
  resultsStale: false,
  copyTest: { running: false, result: null, error: null },
  probe: { running: false, result: null, error: null },
  imported: null,
  importingRun: null,
  corrupted: null,
  pca: null,
  pcaError: null,
  denoise: [] as DenoisePoint[],
  rankCurve: null,
  generated: { running: false, result: null, error: null },
  latent: { running: false, result: null, error: null },
};

/** What the store needs of the training worker's client (TrainingClient; a fake in unit tests). */
export type TrainingPort = Pick<
  TrainingClient,
  'start' | 'setLiveViews' | 'pause' | 'resume' | 'stop' | 'analyze' | 'gradCheck' | 'debug' | 'killSilently' | 'exportModel' | 'importModel' | 'featureMaps' | 'step' | 'generate' | 'latent' | 'decode'
>;
/** Makes the client; called at most once per store, on the first action that needs the worker. */
export type ClientFactory = (onMessage: WorkerListener, onFailure: (message: string) => void) => TrainingPort;

const workerClient: ClientFactory = (onMessage, onFailure) => new TrainingClient(onMessage, onFailure);

export interface AppStore {
  useStore: UseBoundStore<StoreApi<AppState>>;
  /** Test hooks: the worker's tensor count now; in a test build, also a fault injected (see FAULTS). */
  debugWorker: (action: DebugAction | Fault) => void;
}

/** The app's store (one per page: useAppStore); tests make their own with a fake client. */
export function createAppStore(makeClient: ClientFactory = workerClient): AppStore {
  let client: TrainingPort | null = null;
  let getClient: () => TrainingPort = () => {
    throw new Error('the store is not built yet');
  };
  /** The export waiting for the worker's answer (one at a time). */
  let pendingExport: { runId: number; resolve: (m: ExportedModel) => void; reject: (e: Error) => void } | null = null;
  /** #17 decode requests in flight, by request id. */
  const pendingDecodes = new Map<number, { resolve: (d: DecodedImages) => void; reject: (e: Error) => void }>();
  let nextDecodeId = 1;

  const useStore = create<AppState>()((set, get) => {
    /** The page's one switch over worker messages; a message type not handled here does not compile. */
    const handle = (msg: FromWorker): void => {
      switch (msg.type) {
        case 'ready':
        case 'pong':
          return;
        case 'memory': {
          const { type: _type, ...memory } = msg;
          set((st) => ({ memoryLog: st.memoryLog.concat(memory).slice(-200) }));
          return;
        }
        case 'gradCheck':
          set((st) => ({
            gradCheck: {
              running: !msg.done,
              rows: st.gradCheck.rows.concat(msg.rows),
              errors: msg.error ? st.gradCheck.errors.concat(`${msg.backend}: ${msg.error}`) : st.gradCheck.errors,
            },
          }));
          return;
        case 'modelExported':
        case 'modelExportError':
          if (pendingExport?.runId === msg.runId) {
            if (msg.type === 'modelExported') pendingExport.resolve(msg.model);
            else pendingExport.reject(new Error(msg.message));
            pendingExport = null;
          }
          return;
        case 'modelImported':
          // Only the import still waited for (a Train or Reset meanwhile gave it up): it becomes the run on screen.
          if (msg.runId !== get().importingRun) return;
          set({ ...freshTraining, spec: msg.spec, runId: msg.runId, imported: msg.trained, phase: 'building', phaseDetail: 'Loading the imported model', startedAt: Date.now() });
          return;
        case 'modelImportError':
          if (msg.runId !== get().importingRun) return;
          set({ importingRun: null, modelNotice: { kind: 'error', text: `${msg.message}. Nothing was changed.` } });
          return;
        default:
          break;
      }
      if (msg.type === 'decoded' || msg.type === 'decodeError') {
        const pending = pendingDecodes.get(msg.requestId);
        if (!pending) return;
        pendingDecodes.delete(msg.requestId);
        if (msg.type === 'decodeError') pending.reject(new Error(msg.message));
        else {
          const { type: _type, runId: _runId, requestId: _requestId, ...images } = msg;
          pending.resolve(images);
        }
        return;
      }
      if (msg.runId !== get().runId) return; // a message from a run that was reset or replaced
      switch (msg.type) {
        case 'phase':
          set({ phase: msg.phase, phaseDetail: msg.detail, phaseFraction: msg.fraction ?? null });
          break;
        case 'backend':
          set({ backend: msg.report });
          break;
        case 'kernels':
          set({ kernels: msg.report });
          break;
        case 'trainLoss':
          // A run that resumes from a checkpoint (after a device loss or a divergence) re-sends steps: they replace the old tail.
          set((s) => {
            const first = msg.points[0]?.step ?? Infinity;
            const last = s.trainLoss[s.trainLoss.length - 1];
            const kept = last && last.step >= first ? s.trainLoss.filter((p) => p.step < first) : s.trainLoss;
            return { trainLoss: kept.concat(msg.points), progress: msg.progress };
          });
          break;
        case 'testLoss': {
          const { type: _type, runId: _runId, ...point } = msg;
          set((s) => ({ testLoss: s.testLoss.filter((t) => t.epoch < msg.epoch).concat(point) }));
          break;
        }
        case 'codes': {
          const { type: _type, runId: _runId, ...codes } = msg;
          set({ codes });
          break;
        }
        case 'copyTest':
          set({ copyTest: { running: false, result: msg.results, error: null } });
          break;
        case 'probe':
          set({ probe: { running: false, result: msg.result, error: null } });
          break;
        case 'analysisError':
          set(msg.what === 'probe' ? { probe: { running: false, result: null, error: msg.message } } : { copyTest: { running: false, result: null, error: msg.message } });
          break;
        case 'images': {
          const { type: _type, runId: _runId, kind, ...batch } = msg;
          if (kind === 'originals') set({ originals: batch });
          else if (kind === 'corrupted') set({ corrupted: batch });
          else set({ reconstructions: batch });
          break;
        }
        case 'pca': {
          const { type: _type, runId: _runId, ...pca } = msg;
          set({ pca, pcaError: null });
          break;
        }
        case 'pcaError':
          set({ pca: null, pcaError: msg.message });
          break;
        case 'denoise': {
          const { type: _type, runId: _runId, ...point } = msg;
          set((s) => ({ denoise: s.denoise.filter((d) => d.epoch < msg.epoch).concat(point) }));
          break;
        }
        case 'rankCurve': {
          const { type: _type, runId: _runId, ...curve } = msg;
          set({ rankCurve: curve });
          break;
        }
        case 'generated': {
          const { type: _type, runId: _runId, ...batch } = msg;
          set({ generated: { running: false, result: batch, error: null } });
          break;
        }
        case 'generateError':
          set({ generated: { running: false, result: null, error: msg.message } });
          break;
        case 'latent': {
          const { type: _type, runId: _runId, ...data } = msg;
          set({ latent: { running: false, result: data, error: null } });
          break;
        }
        case 'latentError':
          set((s) => ({ latent: { running: false, result: s.latent.result, error: msg.message } }));
          break;
        case 'warning':
          set({ warning: msg.message });
          break;
        case 'error':
          set({ error: msg.message });
          break;
        case 'featureMaps': {
          const { type: _type, runId: _runId, ...maps } = msg;
          set({ featureMaps: maps });
          break;
        }
        default: {
          const unhandled: never = msg;
          throw new Error(`unhandled worker message ${JSON.stringify(unhandled)}`);
        }
      }
    };

    getClient = (): TrainingPort => {
      // A dead or hung worker: the client already started a new one; keep the spec and the curves.
      client ??= makeClient(handle, (message) => {
        pendingExport?.reject(new Error('the training worker was restarted, and the model with it'));
        pendingExport = null;
        set((s) => ({ error: message, phase: 'idle', phaseDetail: 'The worker was restarted', runId: -1, gradCheck: { ...s.gradCheck, running: false }, importingRun: null }));
      });
      return client;
    };

    /** Any change to the experiment stops a run in progress, so what runs is always what is shown. */
    const editSpec = (next: ExperimentSpec): void => {
      const s = get();
      if (isActive(s.phase)) {
        getClient().stop();
        set({ spec: next, phase: 'idle', phaseDetail: 'Stopped: the experiment changed', runId: -1 });
      } else {
        // Results on screen now belong to an earlier experiment: say so rather than hide them.
        set({ spec: next, resultsStale: s.trainLoss.length > 0 });
      }
    };

    const editStack = (stack: Stack, fn: (layers: LayerSpec[]) => LayerSpec[]): void => {
      const spec = get().spec;
      editSpec({ ...spec, [stack]: fn(spec[stack].slice()) });
    };

    /** train(), or with `steps` the page's Step from no run: a run that starts paused and trains that many batches. */
    const startRun = (steps?: number): boolean => {
      const spec = get().spec;
      const check = experimentCheckOf(spec);
      if (!check.canTrain) {
        set({ error: `Cannot train: ${check.reasons[0]}` });
        return false;
      }
      const runId = getClient().start(structuredClone(spec), get().liveViews, steps);
      if (get().lookInside) client?.featureMaps(get().selectedImage);
      set({ ...freshTraining, runId, phase: 'loading', phaseDetail: 'Starting', startedAt: Date.now() });
      return true;
    };

    return {
      spec: DEFAULT_SPEC,
      setSpec: (patch) => {
        const spec = get().spec;
        const next = { ...spec, ...patch };
        // #17 another data set of another image shape: the layers that name the shape follow it.
        editSpec(patch.dataset && patch.dataset !== spec.dataset ? adaptToShape(next, datasetShape(spec.dataset), datasetShape(patch.dataset)) : next);
      },
      replaceSpec: (spec) => editSpec(spec),
      loadPreset: (id) => {
        const p = findPreset(id);
        // A preset keeps the data set in use (#17) and fits its input and output to that set's images.
        if (p) editSpec(structuredClone(presetFor(p, get().spec.dataset)));
      },
      addLayer: (stack, kind) => editStack(stack, (l) => [...l, defaultLayer(kind)]),
      removeLayer: (stack, index) => editStack(stack, (l) => l.filter((_, i) => i !== index)),
      moveLayer: (stack, index, delta) =>
        editStack(stack, (l) => {
          const j = index + delta;
          if (j < 0 || j >= l.length) return l;
          [l[index], l[j]] = [l[j], l[index]];
          return l;
        }),
      updateLayer: (stack, index, layer) => editStack(stack, (l) => l.map((x, i) => (i === index ? layer : x))),

      ...freshTraining,
      runId: 0,
      backend: null,
      memoryLog: [],
      gradCheck: { running: false, rows: [], errors: [] },
      runGradCheck: (backends) => {
        const s = get();
        if (isActive(s.phase)) s.reset();
        set({ gradCheck: { running: true, rows: [], errors: [] } });
        getClient().gradCheck(backends);
      },
      train: () => startRun(),
      selectedImage: 0,
      selectImage: (i) => {
        set({ selectedImage: i });
        if (get().lookInside) client?.featureMaps(i);
      },
      startedAt: 0,
      requestAnalysis: (what) => {
        const s = get();
        if (s.phase !== 'done') return;
        getClient().analyze(s.runId, what);
        set(what === 'probe' ? { probe: { running: true, result: null, error: null } } : { copyTest: { running: true, result: null, error: null } });
      },
      pause: () => {
        getClient().pause();
      },
      resume: () => {
        getClient().resume();
      },
      reset: () => {
        getClient().stop();
        set({ ...freshTraining, runId: -1 });
      },
      dismissError: () => set({ error: null }),
      lookInside: false,
      setLookInside: (open) => {
        set({ lookInside: open });
        client?.featureMaps(open ? get().selectedImage : null);
      },
      step: () => {
        const s = get();
        if (s.phase === 'paused') {
          getClient().step();
          return true;
        }
        return !isActive(s.phase) && startRun(1);
      },

      logScale: false,
      setLogScale: (v) => set({ logScale: v }),
      liveViews: true,
      setLiveViews: (v) => {
        set({ liveViews: v });
        client?.setLiveViews(v);
      },
      shareNotice: null,
      setShareNotice: (n) => set({ shareNotice: n }),

      generate: (count = 64) => {
        const s = get();
        if (s.phase !== 'paused' && s.phase !== 'done') {
          set({ generated: { running: false, result: null, error: 'Train a model first (or pause the training): there is no decoder to generate with' } });
          return;
        }
        set({ generated: { running: true, result: s.generated.result, error: null } });
        getClient().generate(s.runId, count, Math.floor(Math.random() * 2 ** 31));
      },

      requestLatent: (max = 2000) => {
        const s = get();
        if (s.phase === 'idle' || s.trainLoss.length === 0 && s.phase !== 'done' && s.phase !== 'paused') {
          set({ latent: { running: false, result: null, error: 'Train a model first: the map shows where its encoder puts the test images' } });
          return;
        }
        set({ latent: { running: true, result: s.latent.result, error: null } });
        getClient().latent(s.runId, max);
      },
      decode: (codes, count) =>
        new Promise<DecodedImages>((resolve, reject) => {
          const requestId = nextDecodeId++;
          pendingDecodes.set(requestId, { resolve, reject });
          getClient().decode(get().runId, requestId, codes, count);
        }),

      modelNotice: null,
      setModelNotice: (n) => set({ modelNotice: n }),
      exportModel: () => {
        const s = get();
        if (s.phase !== 'paused' && s.phase !== 'done') return Promise.reject(new Error('Train a model first (or pause the training): there is no model to export'));
        pendingExport?.reject(new Error('another export was asked for'));
        return new Promise<ExportedModel>((resolve, reject) => {
          pendingExport = { runId: s.runId, resolve, reject };
          getClient().exportModel(s.runId);
        });
      },
      importModel: (file) => {
        if (isActive(get().phase)) {
          set({ modelNotice: { kind: 'error', text: 'Stop or finish the training before importing a model. Nothing was changed.' } });
          return;
        }
        set({ importingRun: getClient().importModel(file), modelNotice: null });
      },
      presenter: false,
      setPresenter: (on) => set({ presenter: on }),
    };
  });

  const debugWorker = (action: DebugAction | Fault): void => {
    if (action === 'memory') {
      client?.debug('memory');
      return;
    }
    // Fault injection exists in test builds only: the production build drops this block.
    if (import.meta.env.VITE_TEST_HOOKS === '1') {
      // A setting for runs to come reaches a worker not started yet too; faults only hit a running one.
      const c = action === 'raceSoftware' ? getClient() : client;
      if (!c) return;
      if (action === 'kill') c.killSilently();
      else c.debug(action);
    }
  };

  return { useStore, debugWorker };
}

const app = createAppStore();
/** The page's store. */
export const useAppStore = app.useStore;
/** Test hooks (testHooks.ts): the worker's tensor count; faults in a test build only. */
export const debugWorker = app.debugWorker;
