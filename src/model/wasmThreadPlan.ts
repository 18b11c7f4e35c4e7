/**
 * How many threads tfjs-wasm's XNNPACK kernels should get for a model (#19, the CPU path). Pure: no tfjs.
 *
 * Only XNNPACK's kernels run on threads; ours (src/train/worker/simd: one-channel and few-channel
 * convolutions, matrix products, pooling, the loss, Adam) run on the training thread alone. A thread pool
 * pays a hand-over per XNNPACK call, so it wins only where XNNPACK's convolutions carry the step: measured
 * in the browser on 2 cores, the 64-kernel model trains 1.2-1.5× faster on 2 threads than on one, while the
 * default conv AE and the dense AE lost ~25% (their XNNPACK calls are small; bench/wasm-threads.md).
 */
import { inferShapes } from './inferShapes';
import type { ExperimentSpec, Shape } from './spec';

/** The channel counts our SIMD kernels take for a convolution's filter gradient (kernels.ts' rule). */
export function simdCoversConv(ci: number, co: number): boolean {
  return Math.min(ci, co) <= 4 || ci * co <= 256;
}

/**
 * Multiply-adds per image, forward, of the convolutions that XNNPACK computes in every pass (forward,
 * input gradient and filter gradient all have this count): those our SIMD kernels do not cover.
 */
export function xnnpackConvMacs(spec: Pick<ExperimentSpec, 'encoder' | 'decoder'>, inputShape: Shape): number {
  const report = inferShapes(spec, inputShape);
  let macs = 0;
  for (const info of report.layers) {
    const { layer, inputShape: inS, outputShape: outS } = info;
    if ((layer.kind !== 'conv2d' && layer.kind !== 'conv2dTranspose') || !inS || !outS || inS.length !== 3 || outS.length !== 3) continue;
    const ci = inS[2];
    const co = outS[2];
    if (simdCoversConv(ci, co)) continue;
    // A conv visits each output position once; a transposed conv each input position.
    const positions = layer.kind === 'conv2d' ? outS[0] * outS[1] : inS[0] * inS[1];
    macs += positions * layer.kernelSize * layer.kernelSize * ci * co;
  }
  return macs;
}

/** XNNPACK convolution work per image from which a thread pool pays for itself (the 64-kernel model has ~16 M). */
export const THREADS_FROM_MACS = 4e6;

const NOT_ISOLATED =
  'the page is not cross-origin isolated (no SharedArrayBuffer: the host sends no COOP/COEP headers and no service worker could add them, e.g. plain http or a private window), so tfjs-wasm runs its one-thread build';

export interface WasmThreadPlan {
  threads: number;
  /** For the page: why this many. */
  reason: string;
}

/**
 * Threads for this model: one where the page cannot share memory (not cross-origin isolated: tfjs-wasm
 * then loads its one-thread build) or where XNNPACK's share is small; otherwise half the logical cores
 * (tfjs' own rule, for hyper-threads), at least 2 and at most 8 (tfjs-wasm starts 8 pthread workers).
 */
export function wasmThreadPlan(spec: Pick<ExperimentSpec, 'encoder' | 'decoder'>, inputShape: Shape, cores: number, isolated: boolean): WasmThreadPlan {
  if (!isolated) return { threads: 1, reason: NOT_ISOLATED };
  if (cores < 2) return { threads: 1, reason: 'this machine reports one logical core' };
  const macs = xnnpackConvMacs(spec, inputShape);
  const m = (macs / 1e6).toFixed(1);
  if (macs < THREADS_FROM_MACS) {
    return { threads: 1, reason: `XNNPACK's convolutions are small here (${m} M multiply-adds per image), where a thread pool costs more than it gains` };
  }
  const threads = Math.min(8, Math.max(2, Math.floor(cores / 2)));
  return { threads, reason: `XNNPACK's convolutions carry the step (${m} M multiply-adds per image), on ${threads} of ${cores} logical cores` };
}
