/**
 * Auto's backend race: where more than one fast backend could run (a hardware GPU and WASM), the
 * worker times a few real training steps of the user's model on each and keeps the fastest. A rule
 * like "GPU first" is wrong for small models: on an H100 machine the dense 784-256-32 AE trained
 * 2.2× faster on one WASM thread than on WebGPU, while conv models were 1.7-3.1× faster on WebGPU.
 * Pure: no tfjs (the worker does the timing, src/train/worker/race.ts).
 */
import { BACKEND_LABELS, type BackendName, type ExperimentSpec } from '../model/spec';

/** Warm-up steps (shader compilation, first allocations) before timing. */
export const RACE_WARMUP_STEPS = 2;
/** Timed steps: at least this many... */
export const RACE_MIN_STEPS = 3;
/** ...and more, up to RACE_MAX_STEPS, until this much time has passed (ms). */
export const RACE_MIN_MS = 300;
export const RACE_MAX_STEPS = 20;
/** A candidate whose warm-up takes longer than this (ms) is out: too slow to start. */
export const RACE_WARMUP_LIMIT_MS = 20_000;

export type RaceTiming =
  | { backend: BackendName; msPerStep: number; steps: number }
  | { backend: BackendName; msPerStep: null; error: string };

/** The fastest timed backend, or null when none could be timed. Ties go to the earlier candidate. */
export function pickFastest(timings: readonly RaceTiming[]): BackendName | null {
  let best: { backend: BackendName; msPerStep: number } | null = null;
  for (const t of timings) {
    if (t.msPerStep === null || !Number.isFinite(t.msPerStep)) continue;
    if (!best || t.msPerStep < best.msPerStep) best = { backend: t.backend, msPerStep: t.msPerStep };
  }
  return best?.backend ?? null;
}

function fmtMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/** The reason the page shows: the winner, then every candidate's time per step, one line each. */
export function raceSummary(timings: readonly RaceTiming[], winner: BackendName, batchSize: number): string {
  const lines = timings.map((t) =>
    t.msPerStep === null
      ? `${BACKEND_LABELS[t.backend]} ${t.error}`
      : `${BACKEND_LABELS[t.backend]} ${fmtMs(t.msPerStep)} ms a step${t.backend === winner ? ' (fastest)' : ''}`,
  );
  return [`Auto: ${BACKEND_LABELS[winner]} is the fastest here for this model (training steps of ${batchSize} images timed on each backend):`, ...lines].join('\n');
}

/** What the race's result depends on: the layers, the batch and the images' shape. */
export function raceKey(spec: Pick<ExperimentSpec, 'encoder' | 'decoder' | 'batchSize' | 'dataset' | 'loss'>): string {
  return JSON.stringify([spec.dataset, spec.batchSize, spec.loss, spec.encoder, spec.decoder]);
}

/** Whether to keep timing a candidate: at least RACE_MIN_STEPS, then until RACE_MIN_MS or RACE_MAX_STEPS. */
export function keepTiming(steps: number, elapsedMs: number): boolean {
  if (steps < RACE_MIN_STEPS) return true;
  return steps < RACE_MAX_STEPS && elapsedMs < RACE_MIN_MS;
}
