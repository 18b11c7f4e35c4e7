/**
 * The live views' forward pass on another core while training on the CPU (WASM, plain JS): the
 * training thread only copies the weights (a fraction of a millisecond), the helper (viewsOffload.ts,
 * viewsHelper.ts) renders, and its renders are posted here as the training worker's own would be.
 * The target says which run and model the helper's renders belong to, and the newest step already shown.
 */
import { datasetShape } from '../../data/catalogue';
import type { BackendName, ExperimentSpec, Shape } from '../../model/spec';
import { detectCollapse } from '../collapse';
import type { FromWorker } from '../protocol';
import { ViewsOffload, type RenderedViews } from './viewsOffload';

/** Where the worker's messages go: the page (postMessage), or a recorder in the bench and the tests. */
export type Post = (msg: FromWorker, transfer?: Transferable[]) => void;

/** The run a helper render belongs to: posted only while that run is not stopped. */
export interface ViewsRun {
  readonly id: number;
  readonly spec: ExperimentSpec;
  readonly stopped: boolean;
}

export class HelperViews {
  private target: { run: ViewsRun; key: number; shownStep: number } | null = null;
  private readonly offload: ViewsOffload;

  constructor(
    private readonly post: Post,
    /** Logical cores of this machine (navigator.hardwareConcurrency). */
    private readonly cores: number | undefined,
    spawn?: () => Worker,
  ) {
    this.offload = new ViewsOffload(
      (views) => this.show(views),
      (reason) => this.broken(reason),
      spawn,
    );
  }

  /** Whether the live views go to the helper: CPU backends, a second core, and a helper that works. */
  wanted(backend: BackendName | null): boolean {
    return (backend === 'wasm' || backend === 'cpu') && (this.cores ?? 1) >= 2 && this.offload.usable;
  }

  /** A (re)built model: the helper gets it and the display images, if it is wanted; else it is left alone. */
  attach(run: ViewsRun, backend: BackendName | null, inputShape: Shape, display: () => Float32Array, count: number): void {
    this.target = null;
    if (!this.wanted(backend)) return;
    const key = this.offload.prepare(run.spec, inputShape, display(), count);
    this.target = { run, key, shownStep: -1 };
  }

  /** Whether the helper renders this run's views now. */
  serves(run: ViewsRun): boolean {
    return this.target?.run === run;
  }

  /** Whether a render is in flight. */
  get busy(): boolean {
    return this.offload.pending;
  }

  /** How long the helper's last render took (ms). */
  get lastRenderMs(): number {
    return this.offload.lastRenderMs;
  }

  /** Tensors alive in the helper after its last render (null: not used). */
  get helperTensors(): number | null {
    return this.offload.helperTensors;
  }

  /** Hands the helper a copy of the weights to render step `step` with. */
  render(step: number, weights: Float32Array[]): void {
    this.offload.render(step, weights);
  }

  /** The training thread showed `step` itself: older helper renders are dropped. */
  shown(run: ViewsRun, step: number): void {
    if (this.target?.run === run) this.target.shownStep = Math.max(this.target.shownStep, step);
  }

  /** Test hook: make the helper crash. */
  crash(): void {
    this.offload.crash();
  }

  private show(views: RenderedViews): void {
    const target = this.target;
    if (!target || target.key !== views.key || target.run.stopped || views.step <= target.shownStep) return;
    target.shownStep = views.step;
    const { run } = target;
    const { count } = views;
    this.post({ type: 'codes', runId: run.id, step: views.step, count, shape: views.codeShape, values: views.codes }, [views.codes.buffer]);
    const [height, width, channels] = datasetShape(run.spec.dataset);
    const copy = views.pixels.slice();
    this.post({ type: 'images', runId: run.id, kind: 'reconstructions', step: views.step, count, height, width, channels, pixels: copy, renderedBy: 'helper' }, [copy.buffer]);
    if (views.step >= 30) {
      const msg = detectCollapse(views.pixels);
      if (msg) this.post({ type: 'warning', runId: run.id, code: 'collapse', message: msg });
    }
  }

  private broken(reason: string): void {
    const run = this.target?.run;
    this.target = null;
    if (run && !run.stopped) {
      this.post({
        type: 'warning',
        runId: run.id,
        code: 'viewsHelper',
        message: `The live-views helper thread failed (${reason}); the training thread draws the live views itself from now on. Training goes on.`,
      });
    }
  }
}
