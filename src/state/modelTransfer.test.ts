/**
 * The store's side of model export and import (#18), with a stand-in worker client: an import changes
 * the spec and the run on screen only when the worker has loaded it, a failed one changes nothing, a
 * Train meanwhile gives it up; an export answers the run on screen.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SPEC, findPreset } from '../model/presets';
import type { ExperimentSpec } from '../model/spec';
import type { ExportedModel, ModelFileContents } from '../train/modelFile';
import type { FromWorker } from '../train/protocol';
import { createAppStore, type TrainingPort } from './store';

function setup() {
  let send: ((msg: FromWorker) => void) | null = null;
  let runId = 0;
  const asked: { exports: number[]; imports: ModelFileContents[]; stops: number } = { exports: [], imports: [], stops: 0 };
  const { useStore } = createAppStore((onMessage) => {
    send = onMessage;
    const port: TrainingPort = {
      start: () => ++runId,
      setLiveViews: () => undefined,
      pause: () => undefined,
      resume: () => undefined,
      stop: () => {
        asked.stops++;
      },
      analyze: () => undefined,
      gradCheck: () => undefined,
      debug: () => undefined,
      killSilently: () => undefined,
      exportModel: (id) => {
        asked.exports.push(id);
      },
      importModel: (file) => {
        asked.imports.push(file);
        return ++runId;
      },
      featureMaps: () => undefined,
      step: () => undefined,
      generate: () => undefined,
    latent: () => undefined,
    decode: () => undefined,
    };
    return port;
  });
  const deliver = (msg: FromWorker): void => {
    if (!send) throw new Error('no client yet');
    send(msg);
  };
  return { useStore, deliver, asked };
}

const tiny = findPreset('tiny')?.spec;
if (!tiny) throw new Error('no tiny preset');
const imported: ExperimentSpec = { ...tiny, seed: 77, trainSize: 480 };
const file: ModelFileContents = { modelTopology: {}, weightSpecs: [], weightData: new ArrayBuffer(0), spec: imported, trained: { steps: 30, epochs: 1, backend: 'wasm' } };

describe('importing a model', () => {
  it('replaces the spec and the run on screen only once the worker loaded it', () => {
    const { useStore, deliver, asked } = setup();
    useStore.getState().importModel(file);
    expect(asked.imports).toEqual([file]);
    const importRun = useStore.getState().importingRun;
    expect(importRun).toBe(1);
    // Nothing changes while the worker loads it.
    expect(useStore.getState().spec).toEqual(DEFAULT_SPEC);
    expect(useStore.getState().phase).toBe('idle');
    deliver({ type: 'modelImported', runId: 1, spec: imported, trained: file.trained });
    deliver({ type: 'phase', runId: 1, phase: 'done', detail: 'Imported model (trained 30 steps on WASM)' });
    const s = useStore.getState();
    expect(s.spec).toEqual(imported);
    expect(s.runId).toBe(1);
    expect(s.phase).toBe('done');
    expect(s.imported).toEqual({ steps: 30, epochs: 1, backend: 'wasm' });
    expect(s.importingRun).toBeNull();
    expect(s.resultsStale).toBe(false);
  });

  it('a failed import says why and changes nothing', () => {
    const { useStore, deliver } = setup();
    useStore.getState().importModel(file);
    deliver({ type: 'modelImportError', runId: 1, message: "The model's layers do not match its experiment: layer enc0_conv2d has other settings in the file" });
    const s = useStore.getState();
    expect(s.spec).toEqual(DEFAULT_SPEC);
    expect(s.phase).toBe('idle');
    expect(s.runId).toBe(0);
    expect(s.importingRun).toBeNull();
    expect(s.modelNotice).toEqual({ kind: 'error', text: "The model's layers do not match its experiment: layer enc0_conv2d has other settings in the file. Nothing was changed." });
  });

  it('a Train pressed while the worker loads gives the import up', () => {
    const { useStore, deliver } = setup();
    useStore.getState().importModel(file);
    expect(useStore.getState().train()).toBe(true);
    const trainRun = useStore.getState().runId;
    expect(trainRun).toBe(2);
    deliver({ type: 'modelImported', runId: 1, spec: imported, trained: file.trained });
    expect(useStore.getState().spec).toEqual(DEFAULT_SPEC);
    expect(useStore.getState().runId).toBe(trainRun);
    expect(useStore.getState().phase).toBe('loading');
  });

  it('is refused while a run is active', () => {
    const { useStore, asked } = setup();
    expect(useStore.getState().train()).toBe(true);
    useStore.getState().importModel(file);
    expect(asked.imports).toEqual([]);
    expect(useStore.getState().modelNotice?.kind).toBe('error');
  });
});

describe('exporting a model', () => {
  it('asks for the run on screen when paused or done, and resolves with the worker’s answer', async () => {
    const { useStore, deliver, asked } = setup();
    await expect(useStore.getState().exportModel()).rejects.toThrow(/no model to export/);
    expect(useStore.getState().train()).toBe(true);
    const runId = useStore.getState().runId;
    deliver({ type: 'phase', runId, phase: 'paused', detail: 'Paused' });
    const model: ExportedModel = { modelTopology: {}, weightSpecs: [], weightData: new ArrayBuffer(8), spec: DEFAULT_SPEC, generatedBy: 'test' };
    const answer = useStore.getState().exportModel();
    expect(asked.exports).toEqual([runId]);
    deliver({ type: 'modelExported', runId: runId + 5, model: { ...model, generatedBy: 'another run' } }); // not ours: ignored
    deliver({ type: 'modelExported', runId, model });
    await expect(answer).resolves.toBe(model);
    const failing = useStore.getState().exportModel();
    deliver({ type: 'modelExportError', runId, message: 'The export failed: no' });
    await expect(failing).rejects.toThrow('The export failed: no');
  });
});
