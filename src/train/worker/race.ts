/**
 * Auto's backend race, the timing half (the decision is src/train/race.ts): a few real training
 * steps of the user's model, on a real batch, on each candidate backend. Leaves no tensor behind and
 * leaves the last candidate active: the caller then starts the winner.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendName, ExperimentSpec, Shape } from '../../model/spec';
import { keepTiming, RACE_WARMUP_LIMIT_MS, RACE_WARMUP_STEPS, type RaceTiming } from '../race';
import { trySet } from './startBackend';
import { buildModel } from './buildModel';
import { FusedTrainer } from './fusedTrainer';
import { makeTrainingOptimizer, trainStep } from './training';

type Spec = Pick<ExperimentSpec, 'encoder' | 'decoder' | 'seed' | 'loss' | 'optimizer' | 'learningRate' | 'variant'>;

/** Times training steps of `spec` on the active backend: warm-up first, then steps until keepTiming says stop. */
export async function timeSteps(spec: Spec, inputShape: Shape, batch: Float32Array, count: number, pause: () => Promise<void>): Promise<RaceTiming> {
  const backend = tf.getBackend() as BackendName;
  const built = buildModel(spec, inputShape);
  const optimizer = makeTrainingOptimizer(spec);
  const x = tf.tensor4d(batch, [count, ...inputShape] as [number, number, number, number]);
  // On WebGPU the run trains with the fused path where it covers the model (#19): time that.
  const { trainer: fused } = FusedTrainer.create(spec, built.model, inputShape);
  const step = (): tf.Scalar => (fused ? fused.step(batch, count, optimizer, spec.learningRate) : trainStep(optimizer, spec, built.model, x));
  try {
    const w0 = performance.now();
    for (let i = 0; i < RACE_WARMUP_STEPS; i++) {
      const loss = step();
      await loss.data();
      loss.dispose();
      await pause();
      const spent = performance.now() - w0;
      if (spent > RACE_WARMUP_LIMIT_MS) return { backend, msPerStep: null, error: `too slow to start (${(spent / 1000).toFixed(0)} s)` };
    }
    const t0 = performance.now();
    let steps = 0;
    let last: tf.Scalar | null = null;
    while (keepTiming(steps, performance.now() - t0)) {
      last?.dispose();
      last = step();
      steps++;
      // On a GPU the steps queue up: wait for one now and then, so the elapsed time means something.
      if (steps % 4 === 0) await last.data();
    }
    if (last) {
      await last.data();
      last.dispose();
    }
    return { backend, msPerStep: (performance.now() - t0) / steps, steps };
  } finally {
    fused?.dispose();
    x.dispose();
    optimizer.dispose();
    built.model.dispose();
  }
}

/** Times each candidate in turn (until cancelled); a candidate that fails is reported as such, never thrown. */
export async function raceBackends(
  candidates: readonly BackendName[],
  spec: Spec,
  inputShape: Shape,
  batch: Float32Array,
  count: number,
  onCandidate: (backend: BackendName, index: number) => void,
  pause: () => Promise<void>,
  cancelled: () => boolean,
): Promise<RaceTiming[]> {
  const timings: RaceTiming[] = [];
  for (let i = 0; i < candidates.length && !cancelled(); i++) {
    const backend = candidates[i];
    onCandidate(backend, i);
    const failure = await trySet(backend);
    if (failure) {
      timings.push({ backend, msPerStep: null, error: 'failed to start' });
      continue;
    }
    try {
      timings.push(await timeSteps(spec, inputShape, batch, count, pause));
    } catch (e) {
      timings.push({ backend, msPerStep: null, error: `failed (${e instanceof Error ? e.message : String(e)})` });
    }
  }
  return timings;
}
