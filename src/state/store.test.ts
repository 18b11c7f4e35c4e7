import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { datasetShape } from '../data/catalogue';
import { inferShapes } from '../model/inferShapes';
import { DEFAULT_SPEC } from '../model/presets';
import type { ExperimentSpec } from '../model/spec';
import { openRunsDb } from '../storage/runsDb';
import type { FromWorker } from '../train/protocol';
import { createRunsStore } from './runs';
import { createAppStore, type ClientFactory, type TrainingPort } from './store';

/**
 * A stand-in for the training worker's client. It records whether the store made it and what it
 * was asked to start; with `finish`, each started run reports 'done' and each analysis an error
 * (the page's handling of both is what a real worker would trigger).
 */
function fakeClient(finish = false): { factory: ClientFactory; made: () => number; started: ExperimentSpec[] } {
  let made = 0;
  const started: ExperimentSpec[] = [];
  const factory: ClientFactory = (onMessage) => {
    made += 1;
    const later = (msg: FromWorker): void => {
      setTimeout(() => onMessage(msg), 0);
    };
    const port: TrainingPort = {
      start: (spec) => {
        started.push(structuredClone(spec));
        const runId = started.length;
        if (finish) later({ type: 'phase', runId, phase: 'done', detail: 'Done' });
        return runId;
      },
      setLiveViews: () => undefined,
      pause: () => undefined,
      resume: () => undefined,
      stop: () => undefined,
      analyze: (runId, what) => later({ type: 'analysisError', runId, what, message: 'not in this test' }),
      gradCheck: () => undefined,
      debug: () => undefined,
      killSilently: () => undefined,
      exportModel: () => undefined,
      importModel: () => 0,
      featureMaps: () => undefined,
      step: () => undefined,
      generate: () => undefined,
    latent: () => undefined,
    decode: () => undefined,
    };
    return port;
  };
  return { factory, made: () => made, started };
}

/** conv 512 at 28×28: at batch 1024 one layer's output is 28·28·512·1024·4 bytes = 1.53 GiB, over the 1 GiB limit. */
const TOO_LARGE: ExperimentSpec = {
  ...DEFAULT_SPEC,
  batchSize: 1024,
  encoder: [{ kind: 'conv2d', filters: 512, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' }],
  decoder: [{ kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' }],
};

describe('the store’s train()', () => {
  it('refuses a spec with a bad setting without making a client (so no worker starts), and says why', () => {
    const fake = fakeClient();
    const { useStore } = createAppStore(fake.factory);
    useStore.getState().setSpec({ learningRate: 0 });
    expect(useStore.getState().train()).toBe(false);
    expect(fake.made()).toBe(0);
    expect(fake.started).toEqual([]);
    expect(useStore.getState().phase).toBe('idle');
    expect(useStore.getState().error).toBe('Cannot train: Learning rate must be between 0.000001 and 10');
  });

  it('refuses a broken architecture and a model too large for memory', () => {
    const fake = fakeClient();
    const { useStore } = createAppStore(fake.factory);
    useStore.getState().replaceSpec({ ...DEFAULT_SPEC, decoder: [] });
    expect(useStore.getState().train()).toBe(false);
    expect(useStore.getState().error).toBe('Cannot train: the decoder is empty: add at least one layer');
    useStore.getState().replaceSpec(TOO_LARGE);
    expect(useStore.getState().train()).toBe(false);
    expect(useStore.getState().error).toMatch(/^Cannot train: one layer's output needs 1\.5 GiB at batch size 1024/);
    expect(fake.made()).toBe(0);
    expect(fake.started).toEqual([]);
  });

  it('starts a valid spec: one client, the spec as shown, phase loading', () => {
    const fake = fakeClient();
    const { useStore } = createAppStore(fake.factory);
    useStore.getState().setSpec({ learningRate: 0 });
    expect(useStore.getState().train()).toBe(false);
    useStore.getState().setSpec({ learningRate: 0.001 });
    expect(useStore.getState().train()).toBe(true);
    expect(fake.made()).toBe(1);
    expect(fake.started).toEqual([{ ...DEFAULT_SPEC, learningRate: 0.001 }]);
    expect(useStore.getState().phase).toBe('loading');
    expect(useStore.getState().error).toBeNull();
  });

  it('keeps what the worker reports without its envelope', () => {
    let send: ((msg: FromWorker) => void) | null = null;
    const base = fakeClient();
    const { useStore } = createAppStore((onMessage, onFailure) => {
      send = onMessage;
      return base.factory(onMessage, onFailure);
    });
    expect(useStore.getState().train()).toBe(true);
    const runId = useStore.getState().runId;
    const deliver = (msg: FromWorker): void => {
      if (!send) throw new Error('no client');
      send(msg);
    };
    deliver({ type: 'memory', numTensors: 12, numBytes: 3456, runsActive: 1, viewsHelperTensors: null });
    deliver({ type: 'testLoss', runId, epoch: 1, step: 10, loss: 0.25, trainLoss: 0.2 });
    deliver({ type: 'testLoss', runId: runId + 1, epoch: 2, step: 20, loss: 0.1, trainLoss: 0.1 }); // another run: ignored
    const pixels = new Float32Array([0, 0.5, 1, 0.25]);
    deliver({ type: 'images', runId, kind: 'reconstructions', step: 10, count: 1, height: 2, width: 2, channels: 1, pixels, renderedBy: 'worker' });
    const s = useStore.getState();
    expect(s.memoryLog).toEqual([{ numTensors: 12, numBytes: 3456, runsActive: 1, viewsHelperTensors: null }]);
    expect(s.testLoss).toEqual([{ epoch: 1, step: 10, loss: 0.25, trainLoss: 0.2 }]);
    expect(s.reconstructions).toEqual({ step: 10, count: 1, height: 2, width: 2, channels: 1, pixels, renderedBy: 'worker' });
    expect(s.originals).toBeNull();
  });
});

describe('a sweep', () => {
  let dbCounter = 0;
  const runsFor = (fake: ReturnType<typeof fakeClient>) => {
    const app = createAppStore(fake.factory).useStore;
    const name = `store-test-${process.pid}-${++dbCounter}`;
    return { app, runs: createRunsStore({ app, openDb: () => openRunsDb(name) }).useStore };
  };

  it('goes through train(): variants with a bad setting are refused and logged, none starts', async () => {
    const fake = fakeClient(true);
    const { app, runs } = runsFor(fake);
    app.getState().setSpec({ learningRate: 0 });
    const base = app.getState().spec;
    await runs.getState().startSweep('7x7x4, 14x14x1');
    expect(fake.made()).toBe(0);
    expect(fake.started).toEqual([]);
    expect(runs.getState().sweep.running).toBe(false);
    expect(runs.getState().sweep.log).toEqual([
      '7×7×4: Cannot train: Learning rate must be between 0.000001 and 10',
      '14×14×1: Cannot train: Learning rate must be between 0.000001 and 10',
    ]);
    expect(app.getState().spec).toEqual(base);
  });

  it('refuses a variant too large for memory and trains the next one', async () => {
    const fake = fakeClient(true);
    const { app, runs } = runsFor(fake);
    app.getState().setSpec({ batchSize: 1024 });
    // 28×28×512: conv 16 then conv 512 at full size, 28·28·512·1024·4 bytes = 1.53 GiB in one output at batch 1024.
    await runs.getState().startSweep('28x28x512, 7x7x4');
    const log = runs.getState().sweep.log;
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(/^28×28×512: Cannot train: one layer's output needs 1\.5 GiB at batch size 1024/);
    expect(log[1]).toBe('7×7×4: done');
    expect(fake.started).toHaveLength(1);
    const trained = fake.started[0];
    expect(inferShapes(trained, datasetShape(trained.dataset)).bottleneck).toEqual([7, 7, 4]);
    expect(trained.batchSize).toBe(1024);
  });
});

describe('the store’s step()', () => {
  /** A client that records what the store asks of it, and lets the test play the worker's phases. */
  function recordingClient() {
    const calls: string[] = [];
    let send: (msg: FromWorker) => void = () => undefined;
    const factory: ClientFactory = (onMessage) => {
      send = onMessage;
      let runId = 0;
      const port: TrainingPort = {
        start: (_spec, _live, steps) => {
          calls.push(`start steps=${steps ?? 0}`);
          return ++runId;
        },
        setLiveViews: () => undefined,
        pause: () => calls.push('pause'),
        resume: () => calls.push('resume'),
        stop: () => calls.push('stop'),
        analyze: () => undefined,
        gradCheck: () => undefined,
        debug: () => undefined,
        killSilently: () => undefined,
        step: () => calls.push('step'),
        exportModel: () => undefined,
        importModel: () => 0,
        featureMaps: () => undefined,
        generate: () => undefined,
    latent: () => undefined,
    decode: () => undefined,
      };
      return port;
    };
    return { factory, calls, phase: (runId: number, phase: 'training' | 'paused' | 'done') => send({ type: 'phase', runId, phase, detail: '' }) };
  }

  it('starts a paused one-step run when none is in progress, steps a paused run, and does nothing while training', () => {
    const c = recordingClient();
    const { useStore } = createAppStore(c.factory);
    const s = () => useStore.getState();
    expect(s().step()).toBe(true);
    expect(c.calls).toEqual(['start steps=1']);
    expect(s().phase).toBe('loading');
    expect(s().step()).toBe(false); // still starting
    c.phase(1, 'paused');
    expect(s().step()).toBe(true);
    expect(c.calls).toEqual(['start steps=1', 'step']);
    c.phase(1, 'training');
    expect(s().step()).toBe(false);
    c.phase(1, 'done');
    expect(s().step()).toBe(true);
    expect(c.calls).toEqual(['start steps=1', 'step', 'start steps=1']);
    // A blocked experiment (the edit stops the run that was starting): no run, and the reason shown.
    s().setSpec({ learningRate: 0 });
    expect(s().phase).toBe('idle');
    expect(s().step()).toBe(false);
    expect(c.calls).toEqual(['start steps=1', 'step', 'start steps=1', 'stop']);
    expect(s().error).toMatch(/^Cannot train: /);
  });
});
