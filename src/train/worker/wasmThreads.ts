/**
 * tfjs-wasm's threads (#19, the CPU path). Worker-side: imports tfjs. Imported for its effect, before any
 * wasm backend starts, by wasmPaths.ts.
 *
 * Where the page is cross-origin isolated (COOP/COEP: `npm start`, `npm run preview`, the bench),
 * tfjs-wasm could load its threaded build (XNNPACK on a pthread pool). That build pays for itself only
 * where XNNPACK's convolutions carry the step (src/model/wasmThreadPlan.ts); on the small models it ran
 * 12-17% slower than the one-thread SIMD build even on one thread (shared memory, locked allocations;
 * bench/wasm-threads.md). So the backend starts on the one-thread build, and `applyWasmThreads` restarts
 * it on the threaded build (or back) when a model's plan asks. tfjs caps the pool at half of
 * navigator.hardwareConcurrency (backend.cc: `emscripten_num_logical_cores() / 2`, read once as the module
 * starts), one on a 2-core machine: the module is shown 2 × threads cores while it starts.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { WasmThreadPlan } from '../../model/wasmThreadPlan';

/** tfjs-wasm's backend priority (its base.ts). */
const WASM_PRIORITY = 2;
const FLAG = 'WASM_HAS_MULTITHREAD_SUPPORT';

export function crossOriginIsolatedHere(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && typeof SharedArrayBuffer !== 'undefined';
}

// Start every wasm backend on the one-thread build; a plan that wants threads restarts it.
tf.env().set(FLAG, false);

/** Threads tfjs-wasm's kernels run on now (1 before the backend started or on its one-thread build). */
export function wasmThreadsNow(): number {
  try {
    return getThreadsCount();
  } catch {
    return 1;
  }
}

/** What the page's kernel line says of the threads: the plan's reason, or why the plan did not hold. */
export function wasmThreadsNote(plan: WasmThreadPlan): { threads: number; note: string } {
  const threads = wasmThreadsNow();
  return { threads, note: threads === plan.threads ? plan.reason : `${plan.reason}; the threaded build did not start, so ${threads === 1 ? 'one thread' : `${threads} threads`}` };
}

/** Whether `applyWasmThreads(plan)` would restart the running wasm backend. */
export function wasmRestartNeeded(plan: WasmThreadPlan): boolean {
  if (tf.getBackend() !== 'wasm' || wasmThreadsNow() === plan.threads) return false;
  return plan.threads === 1 || crossOriginIsolatedHere();
}

/**
 * Makes the running wasm backend run `plan.threads` threads: restarts it (a new module, memory and
 * pthread pool; the old one's workers end) on the threaded build, or on the one-thread build for one
 * thread, when that differs from what runs. Every tensor on the old backend is gone after a restart:
 * call it with no model built. Returns whether it restarted.
 */
export async function applyWasmThreads(plan: WasmThreadPlan): Promise<boolean> {
  const factory = tf.findBackendFactory('wasm');
  if (!wasmRestartNeeded(plan) || factory == null) return false;
  const threaded = plan.threads > 1;
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', factory, WASM_PRIORITY);
  tf.env().set(FLAG, threaded);
  setThreadsCount(threaded ? plan.threads : -1);
  const nav = self.navigator;
  // backend.cc caps the pool at hardwareConcurrency / 2, read as the module starts: show it 2 × threads.
  if (threaded) Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * plan.threads, configurable: true });
  let ok: boolean;
  try {
    ok = await tf.setBackend('wasm');
    await tf.ready();
  } finally {
    if (threaded) Reflect.deleteProperty(nav, 'hardwareConcurrency');
  }
  if (!ok && threaded) {
    // The threaded build did not start (a browser without nested workers, say): the one-thread build
    // (wasmThreadsNote then says so).
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', factory, WASM_PRIORITY);
    tf.env().set(FLAG, false);
    setThreadsCount(-1);
    ok = await tf.setBackend('wasm');
  }
  if (!ok) throw new Error('the WASM backend failed to restart');
  return true;
}
