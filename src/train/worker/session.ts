/**
 * The backend session of the training worker: which backend runs (selectBackend, or Auto's race of
 * the fast candidates with its results kept per model), which backends lost their device (never
 * chosen again), watching the active WebGPU device for loss, and the built model and optimizer
 * (ModelSlot). The worker entry creates one; nothing here is module state.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendChoice, BackendName, ExperimentSpec, Shape } from '../../model/spec';
import type { BackendReport } from '../protocol';
import { pickFastest, raceKey, raceSummary } from '../race';
import { autoCandidates, selectBackend } from './backends';
import { DeviceLostError, ModelSlot } from './modelSlot';
import { raceBackends } from './race';
import { applyWasmThreads, wasmRestartNeeded } from './wasmThreads';
import type { WasmThreadPlan } from '../../model/wasmThreadPlan';

/** The GPU device behind the active tfjs backend, if it has one (WebGPU). */
export function activeGpuDevice(): GPUDevice | null {
  return (tf.backend() as { device?: GPUDevice }).device ?? null;
}

interface DeviceWatch {
  /** Rejects when the device is lost, so no await hangs on a dead device. */
  promise: Promise<never>;
  lost: boolean;
  reason: string;
}

/** What Auto's race needs from the run: the model, a batch of its images, progress and cancelling. */
export interface RaceRequest {
  spec: ExperimentSpec;
  inputShape: Shape;
  /** How many training images there are, and the first `count` of them as floats. */
  trainCount: number;
  batch: (count: number) => Float32Array;
  /** Before each candidate is timed (for the progress shown on the page). */
  onCandidate: (backend: BackendName, index: number, of: number) => void;
  yieldToEvents: () => Promise<void>;
  cancelled: () => boolean;
}

export class BackendSession extends ModelSlot {
  /** The backend in use; `raced`: the key of the model Auto timed it for (src/train/race.ts), if it did. */
  private active: { requested: BackendChoice; report: BackendReport; raced?: string } | null = null;
  /** Auto's race results in this worker, per model (raceKey): timing again would only cost time. */
  private readonly raceResults = new Map<string, { winner: BackendName; summary: string }>();
  /** Let Auto race software adapters too (a test hook: on machines without a GPU they are all there is). */
  private softwareAdaptersRace = false;
  /** Backends whose device was lost in this worker: never chosen again. */
  private readonly lostBackends = new Set<BackendName>();
  private device: DeviceWatch | null = null;

  /** The backend running now, if one was chosen. */
  override get backend(): BackendName | null {
    return this.active?.report.name ?? null;
  }

  /** The report of the backend running now, if one was chosen (an import runs on it, #18). */
  get report(): BackendReport | null {
    return this.active?.report ?? null;
  }

  override guard<T>(p: Promise<T>): Promise<T> {
    return this.device ? Promise.race([p, this.device.promise]) : p;
  }

  override get lostReason(): string | null {
    return this.device?.lost ? this.device.reason : null;
  }

  /** Test hook: Auto races software GPU adapters too. */
  includeSoftwareAdapters(): void {
    this.softwareAdaptersRace = true;
  }

  private watchDevice(report: BackendReport): void {
    this.device = null;
    if (report.name !== 'webgpu') return;
    const device = activeGpuDevice();
    if (!device) return;
    let reject: (e: Error) => void = () => undefined;
    const state: DeviceWatch = {
      lost: false,
      reason: '',
      promise: new Promise<never>((_, r) => {
        reject = r;
      }),
    };
    void device.lost.then((info) => {
      state.lost = true;
      state.reason = info.message || info.reason || 'unknown reason';
      this.lostBackends.add('webgpu');
      reject(new DeviceLostError(`The WebGPU device was lost (${state.reason})`));
    });
    state.promise.catch(() => undefined); // observed by guard(); never an unhandled rejection
    this.device = state;
  }

  /** The requested backend (kept when it already runs and its device lives). */
  async choose(requested: BackendChoice): Promise<BackendReport> {
    if (this.active && this.active.requested === requested && !this.lostBackends.has(this.active.report.name)) {
      return this.active.report;
    }
    this.dispose();
    const report = await selectBackend(requested, this.lostBackends);
    this.active = { requested, report };
    this.watchDevice(report);
    return report;
  }

  /**
   * Auto with more than one fast candidate (a hardware GPU and WASM): time a few training steps of this
   * model on each and keep the fastest (src/train/race.ts). One candidate: the plain rule.
   */
  async chooseAuto(req: RaceRequest): Promise<BackendReport> {
    const { spec } = req;
    const candidates = await autoCandidates(this.softwareAdaptersRace, this.lostBackends);
    if (candidates.length < 2) {
      if (this.active?.raced) this.active = null;
      return this.choose('auto');
    }
    const key = `${raceKey(spec)}|${candidates.join(',')}`;
    if (this.active?.raced === key && !this.lostBackends.has(this.active.report.name)) return this.active.report;
    let result = this.raceResults.get(key);
    if (!result) {
      this.dispose();
      this.active = null;
      const count = Math.min(spec.batchSize, req.trainCount);
      const timings = await raceBackends(
        candidates,
        spec,
        req.inputShape,
        req.batch(count),
        count,
        (backend, i) => req.onCandidate(backend, i, candidates.length),
        req.yieldToEvents,
        req.cancelled,
      );
      const winner = pickFastest(timings);
      // Stopped mid-race (the caller returns at once) or nothing could be timed: the plain rule, nothing kept.
      if (!winner || req.cancelled()) return this.choose('auto');
      result = { winner, summary: raceSummary(timings, winner, count) };
      this.raceResults.set(key, result);
    }
    this.dispose();
    const report = await selectBackend(result.winner, this.lostBackends);
    const raced: BackendReport = {
      ...report,
      requested: 'auto',
      reason: report.name === result.winner ? `${result.summary}${report.device ? `\nDevice: ${report.device}` : ''}` : report.reason,
    };
    this.active = { requested: 'auto', report: raced, raced: key };
    this.watchDevice(raced);
    return raced;
  }

  /**
   * After a training attempt failed with `e`: the reason the device was lost, or null when it was not
   * (then `e` is an ordinary error). A failed GPU read-back can arrive before the device's lost event:
   * that event gets a moment. A lost device takes the model, the optimizer and the backend choice with it.
   */
  async deviceLossBehind(e: unknown): Promise<string | null> {
    const device = this.device;
    if (device && !device.lost) {
      await Promise.race([device.promise.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    }
    if (!(e instanceof DeviceLostError) && !device?.lost) return null;
    this.forget(); // its tensors lived on the lost device
    this.active = null;
    return device?.reason ?? (e instanceof Error ? e.message : String(e));
  }

  /**
   * On WASM: the thread count this model's plan asks for (src/model/wasmThreadPlan.ts). A different count
   * restarts the wasm backend (`onRestart` first), so the model built before is dropped. Says whether it restarted.
   */
  async fitWasmThreads(plan: WasmThreadPlan, onRestart: () => void): Promise<boolean> {
    if (this.active?.report.name !== 'wasm' || !wasmRestartNeeded(plan)) return false;
    onRestart();
    this.dispose();
    return applyWasmThreads(plan);
  }

  /** Drops the model and the backend choice: the next training run chooses its backend again (the gradient check). */
  forgetChoice(): void {
    this.dispose();
    this.active = null;
  }

  /** Starts `backend` (or what it falls back to) outside the choice of a run: the gradient check. */
  startExactly(backend: BackendName): Promise<BackendReport> {
    return selectBackend(backend, this.lostBackends);
  }
}
