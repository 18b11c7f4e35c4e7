/**
 * The runs store: every finished run is saved (IndexedDB, through Dexie: storage/runsDb.ts) with
 * its spec, curves and figures; sweeps train a list of bottleneck variants one after another. It
 * observes the app store and drives it only through its public actions (train, analyses,
 * replaceSpec), so a sweep obeys the same rules as the Train button: a variant that
 * checkExperiment blocks is refused by train() and logged, never started.
 */
import { create, type StoreApi, type UseBoundStore } from 'zustand';
import { datasetLabel, datasetShape } from '../data/catalogue';
import { inferShapes } from '../model/inferShapes';
import { parseSweep, shapeLabel, type SweepAxis } from '../model/sweep';
import { shapeSize } from '../model/spec';
import { openRunsDb, type RunRecord, type RunsDb } from '../storage/runsDb';
import { isActive } from '../train/protocol';
import { useAppStore, type AppState } from './store';

export interface SweepState {
  running: boolean;
  index: number;
  total: number;
  label: string;
  log: string[];
}

interface RunsState {
  runs: RunRecord[];
  /** Runs whose test-loss curves are overlaid. */
  selected: number[];
  error: string | null;
  sweep: SweepState;
  load: () => Promise<void>;
  remove: (id: number) => Promise<void>;
  open: (id: number) => void;
  toggle: (id: number) => void;
  /** Trains one run per value typed: bottleneck shapes (the default), variants, or a variant setting's values (#16). */
  startSweep: (text: string, axis?: SweepAxis) => Promise<void>;
  stopSweep: () => void;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface RunsDeps {
  /** The app store the runs observe and drive. */
  app: UseBoundStore<StoreApi<AppState>>;
  /** Opens the database; called once, when it is first needed. */
  openDb: () => RunsDb;
}

export interface RunsService {
  useStore: UseBoundStore<StoreApi<RunsState>>;
  /** Saves each finished run, and its copy test and probe when they arrive; returns the stop function. */
  startRecorder: () => () => void;
}

/** The runs store over an app store and a database (the page's: useRunsStore; tests make their own). */
export function createRunsStore({ app, openDb }: RunsDeps): RunsService {
  let db: RunsDb | null = null;
  function getDb(): RunsDb {
    db ??= openDb();
    return db;
  }

  /** The id of the saved record of the run now on screen, so later analyses update it. */
  let currentRecord: { runId: number; id: Promise<number | null> } | null = null;
  let sweepCancelled = false;
  let sweepTag: string | null = null;

  const useStore = create<RunsState>()((set, get) => ({
    runs: [],
    selected: [],
    error: null,
    sweep: { running: false, index: 0, total: 0, label: '', log: [] },
    load: async () => {
      try {
        set({ runs: await getDb().list(), error: null });
      } catch (e) {
        set({ error: message(e) });
      }
    },
    remove: async (id) => {
      try {
        await getDb().remove(id);
        set((s) => ({ selected: s.selected.filter((x) => x !== id) }));
        await get().load();
      } catch (e) {
        set({ error: message(e) });
      }
    },
    open: (id) => {
      const run = get().runs.find((r) => r.id === id);
      if (run) app.getState().replaceSpec(structuredClone(run.spec));
    },
    toggle: (id) => set((s) => ({ selected: s.selected.includes(id) ? s.selected.filter((x) => x !== id) : [...s.selected, id] })),
    stopSweep: () => {
      sweepCancelled = true;
      app.getState().reset();
    },
    startSweep: async (text, axis = 'shape') => {
      if (get().sweep.running) return;
      const base = app.getState().spec;
      const parsed = parseSweep(axis, text, datasetShape(base.dataset));
      if (!parsed.ok) {
        set({ sweep: { running: false, index: 0, total: 0, label: '', log: [parsed.error] } });
        return;
      }
      const sweepId = `sweep-${Date.now().toString(36)}`;
      sweepCancelled = false;
      const log: string[] = [];
      const total = parsed.items.length;
      for (let i = 0; i < total && !sweepCancelled; i++) {
        const item = parsed.items[i];
        const label = item.label;
        set({ sweep: { running: true, index: i + 1, total, label, log: [...log] } });
        const variant = item.make(base);
        if (!variant.ok) {
          log.push(`${label}: skipped, ${variant.error}`);
          continue;
        }
        app.getState().replaceSpec(variant.spec);
        sweepTag = sweepId;
        // train() applies checkExperiment, as the Train button does: a blocked variant does not start.
        if (!app.getState().train()) {
          log.push(`${label}: ${app.getState().error ?? 'Cannot train it'}`);
          continue;
        }
        const end = await waitFor((s) => !isActive(s.phase));
        if (sweepCancelled) break;
        if (end.phase !== 'done') {
          log.push(`${label}: ${end.error ?? end.phaseDetail}`);
          continue;
        }
        for (const what of ['copyTest', 'probe'] as const) {
          app.getState().requestAnalysis(what);
          await waitFor((s) => !s[what].running);
        }
        await currentRecord?.id;
        await saveAnalyses(app.getState());
        log.push(`${label}: done`);
      }
      sweepTag = null;
      set({ sweep: { running: false, index: total, total, label: '', log: sweepCancelled ? [...log, 'Sweep stopped.'] : log } });
      app.getState().replaceSpec(base);
    },
  }));

  function waitFor(predicate: (s: AppState) => boolean): Promise<AppState> {
    return new Promise((resolve) => {
      const now = app.getState();
      if (predicate(now)) {
        resolve(now);
        return;
      }
      const unsubscribe = app.subscribe((s) => {
        if (predicate(s) || sweepCancelled) {
          unsubscribe();
          resolve(s);
        }
      });
    });
  }

  function recordOf(s: AppState): Omit<RunRecord, 'id'> {
    const report = inferShapes(s.spec, datasetShape(s.spec.dataset));
    const bottleneck = report.bottleneck ?? [];
    const last = s.testLoss[s.testLoss.length - 1];
    return {
      createdAt: Date.now(),
      name: `${shapeLabel(bottleneck)} · ${datasetLabel(s.spec.dataset)} · seed ${s.spec.seed}`,
      spec: structuredClone(s.spec),
      bottleneck,
      codeSize: shapeSize(bottleneck),
      params: report.totalParams,
      backend: s.backend?.name ?? 'unknown',
      seconds: s.startedAt ? (Date.now() - s.startedAt) / 1000 : 0,
      trainLoss: last?.trainLoss ?? null,
      testLoss: last?.loss ?? null,
      gap: last ? last.loss - last.trainLoss : null,
      copyTest: null,
      probe: null,
      curves: { train: s.trainLoss, test: s.testLoss.map((t) => ({ epoch: t.epoch, step: t.step, loss: t.loss })) },
      sweepId: sweepTag,
    };
  }

  async function saveAnalyses(s: AppState): Promise<void> {
    if (!currentRecord || currentRecord.runId !== s.runId) return;
    const id = await currentRecord.id;
    if (id === null) return;
    const patch: Partial<RunRecord> = {};
    const ct = s.copyTest.result;
    if (ct) {
      const loss = (c: string): number => ct.find((r) => r.category === c)?.loss ?? Number.NaN;
      patch.copyTest = { noise: loss('noise'), otherDataset: loss('otherDataset'), inverted: loss('inverted') };
    }
    if (s.probe.result) patch.probe = { codeAccuracy: s.probe.result.codeAccuracy, pixelAccuracy: s.probe.result.pixelAccuracy };
    if (Object.keys(patch).length === 0) return;
    try {
      await getDb().update(id, patch);
      await useStore.getState().load();
    } catch (e) {
      useStore.setState({ error: message(e) });
    }
  }

  function startRecorder(): () => void {
    void useStore.getState().load();
    return app.subscribe((s, prev) => {
      // An imported model is not a run trained here: it has no curves to keep.
      if (s.phase === 'done' && prev.phase !== 'done' && s.runId >= 0 && s.imported === null) {
        const runId = s.runId;
        const id = getDb()
          .add(recordOf(s))
          .then(async (newId) => {
            await useStore.getState().load();
            return newId;
          })
          .catch((e: unknown) => {
            useStore.setState({ error: message(e) });
            return null;
          });
        currentRecord = { runId, id };
      }
      if ((s.copyTest.result && s.copyTest.result !== prev.copyTest.result) || (s.probe.result && s.probe.result !== prev.probe.result)) {
        if (!useStore.getState().sweep.running) void saveAnalyses(s);
      }
    });
  }

  return { useStore, startRecorder };
}

const runs = createRunsStore({ app: useAppStore, openDb: () => openRunsDb() });
/** The page's runs store. */
export const useRunsStore = runs.useStore;
/** Saves each finished run, and its copy test and probe when they arrive (started with the app: see startApp). */
export const startRunRecorder = runs.startRecorder;
