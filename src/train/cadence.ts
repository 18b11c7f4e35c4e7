/**
 * The training loop's cadence (src/train/worker/loop.ts, the one loop that the app's worker and the
 * real-GPU benchmark src/bench/webgpuNode.ts both run). Pure: no tfjs.
 */

/** Pending losses are read back (one transfer, at most one in flight) every this many ms... */
export const READ_EVERY_MS = 250;
/** ...or when this many have piled up. */
export const READ_EVERY_STEPS = 64;
/** The live views (16 reconstructions and their codes) refresh at most this often... */
export const VIEWS_EVERY_MS = 400;
/**
 * ...or this often on a machine with two cores or fewer, where the page's redraws (and, without a GPU,
 * the browser's software compositing) run on the core the training shares with them: on two cores,
 * views every 400 ms cost the dense AE's WASM training 13% (on/off 0.87×), and 15% for the 64-kernel model.
 */
export const VIEWS_EVERY_MS_FEW_CORES = 1000;

/** The shortest wait between views refreshes on a machine with this many logical cores. */
export function viewsMinInterval(cores: number | undefined): number {
  return cores !== undefined && cores > 0 && cores <= 2 ? VIEWS_EVERY_MS_FEW_CORES : VIEWS_EVERY_MS;
}
/** A views refresh may take at most 1/VIEWS_BUDGET of the time (~4%). */
export const VIEWS_BUDGET = 25;

/**
 * The wait before the next views refresh, given what the last one took (ms, from issuing it to its
 * pixels on the CPU: on a GPU that includes waiting for the queued steps). Slow backends refresh less
 * often, so the views never take more than ~4% of the training time.
 */
export function nextViewsInterval(lastCostMs: number, minMs = VIEWS_EVERY_MS): number {
  return Math.max(minMs, VIEWS_BUDGET * (Number.isFinite(lastCostMs) ? Math.max(0, lastCostMs) : 0));
}

/** Whether it is time to read the pending losses back. */
export function shouldReadLosses(msSinceLastRead: number, pending: number): boolean {
  return msSinceLastRead > READ_EVERY_MS || pending >= READ_EVERY_STEPS;
}

