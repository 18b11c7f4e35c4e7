/**
 * The training worker's side of the live-views helper (viewsHelper.ts): starts it, hands it the model
 * and the display images once per (re)build, and a copy of the weights at each views refresh, at most
 * one render in flight. Any failure of the helper (it cannot start, errs, crashes, does not answer for
 * 15 s, or a message to it cannot be posted) turns it off for good in this worker, and the training
 * worker renders the views itself again: nothing is lost.
 */
import type { ExperimentSpec, Shape } from '../../model/spec';
import type { FromViewsHelper, ToViewsHelper } from './viewsProtocol';

/** A render unanswered for this long counts as a hung helper. */
const HELPER_HANG_MS = 15_000;

/** A render as the helper sends it. */
export type RenderedViews = Omit<Extract<FromViewsHelper, { type: 'rendered' }>, 'type'>;

export class ViewsOffload {
  private worker: Worker | null = null;
  private broken: string | null = null;
  private key = 0;
  private busy = false;
  private busySince = 0;
  /** Tensors alive in the helper after its last render (null before the first). */
  helperTensors: number | null = null;
  /** How long the helper's last render took (ms), 0 before the first. */
  lastRenderMs = 0;

  constructor(
    private readonly onRendered: (views: RenderedViews) => void,
    private readonly onBroken: (reason: string) => void,
    /** Starts the helper (a test passes a fake). */
    private readonly spawn: () => Worker = () => new Worker(new URL('./viewsHelper.ts', import.meta.url), { type: 'module', name: 'live views' }),
  ) {}

  /** Whether renders can go to the helper (it has not failed). */
  get usable(): boolean {
    return this.broken === null;
  }

  /** Whether a render is in flight. */
  get pending(): boolean {
    return this.busy;
  }

  private ensure(): Worker | null {
    if (!this.usable) return null;
    if (this.worker) return this.worker;
    try {
      const worker = this.spawn();
      worker.onmessage = (e: MessageEvent<FromViewsHelper>) => this.receive(e.data);
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.fail(e.message || 'the helper failed');
      };
      worker.onmessageerror = () => this.fail('a message from the helper could not be read');
      this.worker = worker;
      return worker;
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e));
      return null;
    }
  }

  private receive(msg: FromViewsHelper): void {
    if (msg.type === 'failed') this.fail(msg.message);
    else if (msg.type === 'rendered') {
      this.helperTensors = msg.numTensors;
      this.lastRenderMs = msg.ms;
      if (msg.key !== this.key) return; // for a model replaced since; prepare() already freed the slot
      this.busy = false;
      this.onRendered(msg);
    }
  }

  private fail(reason: string): void {
    if (this.broken !== null) return;
    this.broken = reason;
    this.busy = false;
    this.worker?.terminate();
    this.worker = null;
    this.onBroken(reason);
  }

  private send(msg: ToViewsHelper, transfer: Transferable[] = []): boolean {
    const worker = this.ensure();
    if (!worker) return false;
    try {
      worker.postMessage(msg, transfer);
      return true;
    } catch (e) {
      this.fail(e instanceof Error ? e.message : String(e));
      return false;
    }
  }

  /** A new model (or the same spec rebuilt): renders for older keys are dropped. Returns the key. */
  prepare(spec: Pick<ExperimentSpec, 'encoder' | 'decoder' | 'seed'>, inputShape: Shape, display: Float32Array, count: number): number {
    this.key++;
    this.busy = false;
    const copy = display.slice();
    this.send({ type: 'model', key: this.key, spec, inputShape, display: copy, count }, [copy.buffer]);
    return this.key;
  }

  /** Asks for a render with these weights (transferred); false when one is in flight or the helper is off. */
  render(step: number, weights: Float32Array[]): boolean {
    if (this.busy && performance.now() - this.busySince > HELPER_HANG_MS) this.fail(`it did not answer for ${HELPER_HANG_MS / 1000} s`);
    if (this.busy || !this.usable) return false;
    const sent = this.send({ type: 'render', key: this.key, step, weights }, weights.map((w) => w.buffer));
    this.busy = sent;
    this.busySince = performance.now();
    return sent;
  }

  /** Test hook: make the helper crash. */
  crash(): void {
    this.send({ type: 'crash' });
  }
}
