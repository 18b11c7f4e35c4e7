/**
 * The training loop (loop.ts) on the cpu backend: the divergence rule restores exactly the weights
 * the loop snapshot before the bad step (checked against weights this test records itself before
 * every step), with a fresh optimizer and an error naming the step; Resume trains on with finite
 * losses; and the tensor count does not grow, over many steps and across a divergence.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DecodedDataset } from '../../data/decode';
import { epochOrder, mulberry32 } from '../../data/split';
import { VARIANT_DEFAULTS } from '../../model/presets';
import type { ExperimentSpec } from '../../model/spec';
import type { FromWorker } from '../protocol';
import { grantStep, trainFrom, type LoopDeps, type RunState, type StepFn } from './loop';
import { ModelSlot } from './modelSlot';
import { batchTensor, trainStep } from './training';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

const SIDE = 4;

/** `count` random 4×4 grey images (uint8), labels 0-9. */
function dataset(count: number, seed: number): DecodedDataset {
  const rand = mulberry32(seed);
  const pixels = new Uint8Array(count * SIDE * SIDE).map(() => Math.floor(rand() * 256));
  const labels = new Uint8Array(count).map(() => Math.floor(rand() * 10));
  return { count, height: SIDE, width: SIDE, channels: 1, labels, pixels };
}

function specWith(epochs: number): ExperimentSpec {
  return {
    dataset: 'mnist',
    encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 6, activation: 'relu' }],
    decoder: [
      { kind: 'dense', units: SIDE * SIDE, activation: 'sigmoid' },
      { kind: 'reshape', targetShape: [SIDE, SIDE, 1] },
    ],
    loss: 'bce',
    optimizer: 'adam',
    learningRate: 0.01,
    batchSize: 8,
    epochs,
    seed: 5,
    trainSize: TRAIN,
    backend: 'cpu',
    ...VARIANT_DEFAULTS,
  };
}

// 128 steps an epoch at batch 8: losses are read back at least every 64 steps (cadence.ts), so
// snapshots are taken within epochs too, not only at their ends.
const TRAIN = 1024;
const STEPS_PER_EPOCH = TRAIN / 8;

function setup(epochs: number, step: StepFn, train = TRAIN) {
  const data = dataset(train + 64, 11);
  const all = Uint32Array.from({ length: data.count }, (_, i) => i);
  const run: RunState = { id: 7, spec: { ...specWith(epochs), trainSize: train }, stopped: false, paused: false, resume: null };
  const messages: FromWorker[] = [];
  const tensorsAtEpochEnds: number[] = [];
  const listeners: ((msg: FromWorker) => void)[] = [];
  const slot = new ModelSlot();
  const deps: LoopDeps = {
    slot,
    post: (msg) => {
      messages.push(msg);
      listeners.forEach((l) => l(msg));
    },
    yieldToEvents: () => new Promise<void>((r) => setImmediate(r)),
    liveViews: () => true,
    cores: 2,
    helper: null,
    reportMemory: () => tensorsAtEpochEnds.push(tf.memory().numTensors),
    // A stopped clock: losses are read back every 64 steps exactly (cadence.ts), however slow this
    // machine is, so which snapshots exist (and what Resume re-runs) does not depend on timing.
    now: () => 0,
  };
  const loopData = { data, trainIdx: all.subarray(0, train), testIdx: all.subarray(train), displayIdx: all.subarray(train, train + 16), detail: 'test' };
  const next = (pred: (m: FromWorker) => boolean): Promise<FromWorker> =>
    new Promise((resolve) => {
      listeners.push((m) => {
        if (pred(m)) resolve(m);
      });
    });
  const start = () => trainFrom(run, loopData, { epoch: 0, step: 0, weights: null }, deps, { step });
  return { run, messages, tensorsAtEpochEnds, slot, next, start };
}

/**
 * A step that records the weights before each step, and feeds step `badStep` a NaN batch (once);
 * with `blowUpAt`, the weights are multiplied by 20 after that step (large but finite losses follow,
 * as in a real blow-up before the first NaN).
 */
function faultyStep(badStep: number, blowUpAt?: number) {
  const before = new Map<number, Float32Array[]>();
  let calls = 0;
  let optimizerAtBadStep: tf.Optimizer | null = null;
  const step: StepFn = (optimizer, spec, model, x) => {
    calls++;
    if (calls <= badStep) before.set(calls - 1, model.weights.map((w) => (w.read().dataSync() as Float32Array).slice()));
    if (calls === blowUpAt) {
      const loss = trainStep(optimizer, spec, model, x);
      for (const w of model.weights) tf.tidy(() => {
        w.write(tf.mul(w.read(), 20));
      });
      return loss;
    }
    if (calls !== badStep) return trainStep(optimizer, spec, model, x);
    optimizerAtBadStep = optimizer;
    const poisoned = tf.mul(x, Number.NaN);
    try {
      return trainStep(optimizer, spec, model, poisoned);
    } finally {
      poisoned.dispose();
    }
  };
  return { step, before, optimizerAtBadStep: () => optimizerAtBadStep };
}

function lossPoints(messages: readonly FromWorker[]): { step: number; loss: number }[] {
  return messages.flatMap((m) => (m.type === 'trainLoss' ? m.points : []));
}

describe('training loop: the divergence rule', () => {
  it('restores the snapshot from before the bad step exactly, with a fresh optimizer, pauses, and Resume trains on', async () => {
    // In epoch 2 (steps 129-256), between the reads at steps 128 and 192: the snapshot taken at the
    // read of step 192 already holds the poisoned weights and must not be the one restored.
    const BAD = STEPS_PER_EPOCH + 52;
    const fault = faultyStep(BAD);
    const t = setup(3, fault.step);
    const paused = t.next((m) => m.type === 'phase' && m.phase === 'paused');
    const done = t.start();
    await paused;

    const errors = t.messages.filter((m): m is Extract<FromWorker, { type: 'error' }> => m.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toContain(`at step ${BAD}:`);
    const restoredFrom = Number(/weights from step (\d+)/.exec(errors[0].message)?.[1]);
    // The newest snapshot from before the bad step: at least the one taken at the end of epoch 1.
    expect(restoredFrom).toBeLessThan(BAD);
    expect(restoredFrom).toBeGreaterThanOrEqual(STEPS_PER_EPOCH);
    expect(t.run.paused).toBe(true);

    // The model's weights are exactly those this test saw after `restoredFrom` steps (before the next one).
    const expected = fault.before.get(restoredFrom);
    expect(expected).toBeDefined();
    const model = t.slot.built?.model;
    if (!model || !expected) throw new Error('no model');
    const now = model.weights.map((w) => Array.from(w.read().dataSync()));
    expect(now).toEqual(expected.map((w) => Array.from(w)));

    // A fresh optimizer: not the one that took the bad step, and no state yet (Adam: only its step count, 0).
    const optimizer = t.slot.optimizer;
    expect(optimizer).not.toBeNull();
    expect(optimizer).not.toBe(fault.optimizerAtBadStep());
    const state = await (optimizer as tf.Optimizer).getWeights();
    expect(state).toHaveLength(1);
    expect(state[0].tensor.dataSync()[0]).toBe(0);
    state.forEach((s) => s.tensor.dispose());

    // Resume: training goes on to the end, with finite losses only.
    const seenBeforeResume = lossPoints(t.messages).length;
    t.run.paused = false;
    t.run.resume?.();
    const checkpoint = await done;
    const after = lossPoints(t.messages).slice(seenBeforeResume);
    expect(after.length).toBeGreaterThanOrEqual(STEPS_PER_EPOCH);
    expect(after.every((p) => Number.isFinite(p.loss))).toBe(true);
    expect(checkpoint.epoch).toBe(3);
    const last = t.messages[t.messages.length - 1];
    expect(last.type === 'phase' && last.phase).toBe('done');
    t.slot.dispose();
  });

  it('goes back past the snapshots taken during a blow-up, to weights whose loss was sane', async () => {
    // Blow-up after step 140 (large, finite losses), NaN at step 200. Reads (stopped clock): 128 (the
    // epoch's end: the anchor), 192 (a snapshot of blown-up weights), 256 (finds step 200). The rule
    // must skip the snapshot at 192, although it is the newest from before the bad step.
    const BAD = STEPS_PER_EPOCH + 72;
    const fault = faultyStep(BAD, STEPS_PER_EPOCH + 12);
    const t = setup(3, fault.step);
    const paused = t.next((m) => m.type === 'phase' && m.phase === 'paused');
    const done = t.start();
    await paused;
    const losses = new Map(lossPoints(t.messages).map((p) => [p.step, p.loss]));
    const lowest = Math.min(...[...losses.values()].filter(Number.isFinite));
    // The premise: the snapshot at 192 gave a blown-up (finite) loss, the anchor's a sane one.
    expect(losses.get(2 * 64 + 65)).toBeGreaterThan(4 * lowest);
    expect(Number.isFinite(losses.get(2 * 64 + 65))).toBe(true);
    expect(losses.get(STEPS_PER_EPOCH + 1)).toBeLessThanOrEqual(4 * lowest);
    const error = t.messages.find((m) => m.type === 'error');
    expect(error?.type === 'error' && error.message).toContain(`weights from step ${STEPS_PER_EPOCH} `);
    const expected = fault.before.get(STEPS_PER_EPOCH);
    const model = t.slot.built?.model;
    if (!model || !expected) throw new Error('no model');
    expect(model.weights.map((w) => Array.from(w.read().dataSync()))).toEqual(expected.map((w) => Array.from(w)));
    // Resume: the first losses are sane again (the blown-up weights would give > 4× the lowest).
    const seen = lossPoints(t.messages).length;
    t.run.paused = false;
    t.run.resume?.();
    await done;
    const after = lossPoints(t.messages).slice(seen);
    expect(after[0].loss).toBeLessThanOrEqual(4 * lowest);
    expect(after.every((p) => Number.isFinite(p.loss))).toBe(true);
    t.slot.dispose();
  });

  it('keeps the tensor count flat over many steps and across a divergence', async () => {
    const baseline = tf.memory().numTensors;
    // Epochs of 256 steps; the NaN at step 10 of epoch 4 is found by the read at its step 128, mid-epoch,
    // so the fresh optimizer has stepped (and holds its state) before each later epoch end.
    const steps = 2 * STEPS_PER_EPOCH;
    const fault = faultyStep(3 * steps + 10);
    const t = setup(8, fault.step, 2 * TRAIN);
    const unpause = (m: FromWorker): void => {
      if (m.type === 'phase' && m.phase === 'paused') {
        setImmediate(() => {
          t.run.paused = false;
          t.run.resume?.();
        });
      }
    };
    void t.next((m) => {
      unpause(m);
      return false;
    });
    await t.start();
    expect(t.messages.filter((m) => m.type === 'error')).toHaveLength(1);
    // Eight epoch ends, each with the same tensors alive.
    expect(t.tensorsAtEpochEnds).toHaveLength(8);
    expect(new Set(t.tensorsAtEpochEnds).size).toBe(1);
    // Only the model and the optimizer outlive the loop; without them, nothing.
    t.slot.dispose();
    expect(tf.memory().numTensors).toBe(baseline);
  });
});

describe('training loop: Step (one batch at a time)', () => {
  /** The weights of `model` as plain arrays. */
  const weightsOf = (model: tf.LayersModel): number[][] => model.weights.map((w) => Array.from(w.read().dataSync()));

  it('trains exactly one batch per Step, on the batch a run would train next, reads its loss at once and refreshes the views', async () => {
    const N = 5;
    let calls = 0;
    const initial: Float32Array[] = [];
    let pauseAt = -1;
    let resumeDuring = -1;
    // The loop's own step, counted; it records the initial weights, and pauses the run (as the page would) after call `pauseAt`.
    const counted: StepFn = (optimizer, spec, model, x) => {
      if (calls === 0) model.weights.forEach((w) => initial.push((w.read().dataSync() as Float32Array).slice()));
      calls++;
      const loss = trainStep(optimizer, spec, model, x);
      if (calls === pauseAt) t.run.paused = true;
      if (calls === resumeDuring) t.run.paused = false; // the page's Resume, arriving mid-step
      return loss;
    };
    const t = setup(1, counted);
    let pausedCount = 0;
    void t.next((m) => {
      if (m.type === 'phase' && m.phase === 'paused') pausedCount++;
      return false;
    });
    /** Resolves at the n-th 'paused' phase of the run. */
    const pausedNo = (n: number): Promise<FromWorker> => t.next((m) => m.type === 'phase' && m.phase === 'paused' && pausedCount >= n);

    // Idle -> Step: the run starts paused and is granted one step before its first batch.
    t.run.paused = true;
    expect(grantStep(t.run)).toBe(true);
    let seen = 0;
    const since = (): FromWorker[] => t.messages.slice(seen);
    let paused = pausedNo(1);
    const done = t.start();
    await paused;
    expect(calls).toBe(1);
    expect(lossPoints(since()).map((p) => p.step)).toEqual([1]);

    // Resume trains on; the run pauses itself after call N (as the page's Pause).
    pauseAt = N;
    seen = t.messages.length;
    paused = pausedNo(2);
    t.run.paused = false;
    t.run.resume?.();
    await paused;
    expect(calls).toBe(N);
    const model = t.slot.built?.model;
    if (!model) throw new Error('no model');
    const beforeStep = weightsOf(model);

    // The independent truth: the same model by hand (same initial weights, a fresh optimizer of the
    // spec), trained with trainStep on batches 1..N+1 of epoch 0 as the data split orders them.
    const by = new ModelSlot();
    const spec = t.run.spec;
    const hand = by.build(spec, [SIDE, SIDE, 1], initial).model;
    const order = epochOrder(Uint32Array.from({ length: TRAIN }, (_, i) => i), spec.seed, 0);
    const handLosses: number[] = [];
    const handStep = (k: number): void => {
      const x = batchTensor(dataset(TRAIN + 64, 11), order, k * spec.batchSize, (k + 1) * spec.batchSize);
      const loss = trainStep(by.optimizer as tf.Optimizer, spec, hand, x);
      handLosses.push(loss.dataSync()[0]);
      loss.dispose();
      x.dispose();
    };
    for (let k = 0; k < N; k++) handStep(k);
    expect(beforeStep).toEqual(weightsOf(hand)); // the premise: both are at the same N steps

    // Step: exactly one more batch, its loss on the page at once (no cadence read would come: the
    // clock is stopped and 1 < 64 losses are pending), and the views of that step; the run stays paused.
    seen = t.messages.length;
    paused = pausedNo(3);
    expect(grantStep(t.run)).toBe(true);
    await paused;
    expect(calls).toBe(N + 1);
    expect(t.run.paused).toBe(true);
    const stepped = since();
    expect(lossPoints(stepped).map((p) => p.step)).toEqual([N + 1]);
    const report = stepped.find((m) => m.type === 'trainLoss');
    expect(report?.type === 'trainLoss' && report.progress.step).toBe(N + 1);
    expect(stepped.some((m) => m.type === 'phase' && m.phase === 'training')).toBe(false);
    expect(stepped.some((m) => m.type === 'images' && m.kind === 'reconstructions' && m.step === N + 1)).toBe(true);
    expect(stepped.some((m) => m.type === 'codes' && m.step === N + 1)).toBe(true);
    handStep(N);
    const afterStep = weightsOf(model);
    expect(afterStep).not.toEqual(beforeStep);
    expect(afterStep).toEqual(weightsOf(hand)); // exactly one optimizer update on that batch
    expect(lossPoints(stepped)[0].loss).toBe(handLosses[N]);

    // A second Step: one more.
    seen = t.messages.length;
    paused = pausedNo(4);
    grantStep(t.run);
    await paused;
    expect(calls).toBe(N + 2);
    expect(lossPoints(since()).map((p) => p.step)).toEqual([N + 2]);

    // Resume while a Step's batch is in flight (the run never waits then): the page hears 'training' again.
    seen = t.messages.length;
    const resumedAt = N + 3;
    const training = t.next((m) => m.type === 'phase' && m.phase === 'training');
    resumeDuring = resumedAt;
    grantStep(t.run);
    await training;
    expect(calls).toBe(resumedAt);
    expect(t.run.paused).toBe(false);
    expect(since().filter((m) => m.type === 'phase').map((m) => m.type === 'phase' && m.phase)).toEqual(['training']);

    // A running run ignores Step; Stop ends it.
    expect(grantStep(t.run)).toBe(false);
    t.run.stopped = true;
    await done;
    by.dispose();
    t.slot.dispose();
  });
});
