/**
 * The own-images store (#17): the image sets kept in this browser (listed at start-up and registered in
 * the data catalogue, so shape inference and the checks know them), the import in progress, and its
 * outcome. It drives the app store only by choosing the data set (setSpec) and by re-checking the
 * experiment when the list of sets changes.
 */
import { create } from 'zustand';
import { registerOwnDataset, unregisterOwnDataset } from '../data/catalogue';
import { importImages, suggestName, uniqueName, type InputFile } from '../data/ownImport';
import { ownDatasetId } from '../model/spec';
import { openImagesDb, ownSetInfo, type ImagesDb, type OwnSetMeta } from '../storage/imagesDb';
import { isActive, useAppStore } from './store';

export interface ImportProgress {
  phase: 'reading' | 'decoding' | 'saving';
  done: number;
  total: number;
}

export interface ImportOutcome {
  ok: boolean;
  /** One sentence for the user: what was imported, or why nothing was. */
  message: string;
  skipped: { file: string; reason: string }[];
}

interface OwnDataState {
  sets: OwnSetMeta[];
  loaded: boolean;
  /** Why the sets could not be listed (IndexedDB unavailable), or null. */
  error: string | null;
  importing: ImportProgress | null;
  outcome: ImportOutcome | null;
  load: () => Promise<void>;
  /** Imports files as a set; `name` defaults to the folder's or zip's name (made unique). Chooses it when done. */
  importFiles: (files: InputFile[], opts: { size: number; channels: 1 | 3; name?: string }) => Promise<void>;
  cancelImport: () => void;
  remove: (name: string) => Promise<void>;
  dismiss: () => void;
}

let db: ImagesDb | null = null;
const getDb = (): ImagesDb => (db ??= openImagesDb());
let cancelRequested = false;

/** The spec object is replaced (same values) so every cached verdict is computed again with the new sets. */
function recheck(): void {
  useAppStore.setState((s) => ({ spec: { ...s.spec } }));
}

function register(sets: OwnSetMeta[], previous: OwnSetMeta[]): void {
  for (const p of previous) if (!sets.some((s) => s.name === p.name)) unregisterOwnDataset(ownDatasetId(p.name));
  for (const s of sets) registerOwnDataset(ownSetInfo(s));
}

export const useOwnData = create<OwnDataState>()((set, get) => ({
  sets: [],
  loaded: false,
  error: null,
  importing: null,
  outcome: null,
  load: async () => {
    try {
      const sets = await getDb().list();
      sets.sort((a, b) => a.name.localeCompare(b.name));
      register(sets, get().sets);
      set({ sets, loaded: true, error: null });
      recheck();
    } catch (e) {
      set({ loaded: true, error: e instanceof Error ? e.message : String(e) });
    }
  },
  importFiles: async (files, opts) => {
    if (get().importing) return;
    cancelRequested = false;
    const taken = get().sets.map((s) => s.name);
    const name = uniqueName(opts.name?.trim() || suggestName(files), taken);
    set({ importing: { phase: 'reading', done: 0, total: files.length }, outcome: null });
    let lastProgress = 0;
    try {
      const result = await importImages(files, {
        name,
        size: opts.size,
        channels: opts.channels,
        cancelled: () => cancelRequested,
        onProgress: (p) => {
          const now = performance.now();
          // At most ~20 updates a second: a 10,000-image folder must not re-render the page 10,000 times.
          if (p.done < p.total && now - lastProgress < 50) return;
          lastProgress = now;
          set({ importing: p });
        },
        save: (meta, data) => getDb().save(meta, data),
      });
      const sets = [...get().sets.filter((s) => s.name !== name), result.meta].sort((a, b) => a.name.localeCompare(b.name));
      register(sets, get().sets);
      const { meta, skipped, dropped } = result;
      // A run in progress goes on: choosing the new set would stop it (any change to the experiment does).
      const training = isActive(useAppStore.getState().phase);
      const classes = meta.classNames.length > 1 ? `, ${meta.classNames.length} labels from folder names` : '';
      const left = [skipped.length > 0 ? `${skipped.length} file${skipped.length === 1 ? '' : 's'} skipped (listed below)` : '', dropped > 0 ? `${dropped.toLocaleString('en-US')} images beyond the first ${meta.count.toLocaleString('en-US')} left out` : ''].filter(Boolean);
      set({
        sets,
        importing: null,
        outcome: {
          ok: true,
          message: `Imported “${name}”: ${meta.count.toLocaleString('en-US')} images, ${meta.height}×${meta.width} ${meta.channels === 3 ? 'RGB' : 'grey'}${classes} (${(meta.count - meta.testCount).toLocaleString('en-US')} train / ${meta.testCount.toLocaleString('en-US')} test).${left.length ? ` ${left.join('; ')}.` : ''}${training ? ' The training in progress goes on: choose the set in the Data set field when it is done.' : ''}`,
          skipped,
        },
      });
      if (!training) useAppStore.getState().setSpec({ dataset: ownDatasetId(name) });
    } catch (e) {
      set({ importing: null, outcome: { ok: false, message: e instanceof Error ? e.message : String(e), skipped: [] } });
    }
  },
  cancelImport: () => {
    cancelRequested = true;
  },
  remove: async (name) => {
    try {
      await getDb().remove(name);
      const sets = get().sets.filter((s) => s.name !== name);
      register(sets, get().sets);
      set({ sets, outcome: { ok: true, message: `Deleted “${name}” from this browser.`, skipped: [] } });
      recheck();
    } catch (e) {
      set({ outcome: { ok: false, message: e instanceof Error ? e.message : String(e), skipped: [] } });
    }
  },
  dismiss: () => set({ outcome: null }),
}));
