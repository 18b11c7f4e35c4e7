/**
 * The saved-runs database: one IndexedDB database (through Dexie) with one table of finished runs.
 * No React, no tfjs.
 *
 * Reading is defensive: every record read back is checked, and one written by an older or newer
 * version of the app, or corrupted, is skipped rather than crashing the app (`list()` returns the
 * good ones, `get()` returns undefined). The experiment inside a record goes through normalizeSpec
 * (model/validate.ts), the same path a link, an imported JSON file and a stored design take.
 * Fields this version does not know are dropped from what is returned but kept in the database
 * (`update` merges into the stored object).
 *
 * Failures of IndexedDB itself (missing API, private mode, blocked or closed database) reach the
 * caller as an Error whose message starts "Saved runs are unavailable in this browser: ".
 *
 * Schema history (append a version, never edit one):
 *   1: runs '++id, createdAt, sweepId'
 */
import Dexie, { type Table } from 'dexie';
import { z } from 'zod';
import { isValidSpec, normalizeSpec } from '../model/validate';
import type { ExperimentSpec } from '../model/spec';
import { decimate } from '../model/smoothing';

export const RUNS_DB_NAME = 'ae-playground-runs';
/** Most points of a run's train curve that are stored. */
export const MAX_TRAIN_POINTS = 400;

export interface RunCurves {
  train: { step: number; loss: number }[];
  test: { epoch: number; step: number; loss: number }[];
}

export interface RunRecord {
  /** Auto-increment primary key. */
  id?: number;
  /** Date.now() when the run was saved. */
  createdAt: number;
  /** E.g. "7×7×4 · MNIST · seed 1". */
  name: string;
  spec: ExperimentSpec;
  bottleneck: number[];
  codeSize: number;
  params: number;
  backend: string;
  seconds: number;
  /** Final train loss, evaluated on the training subset. */
  trainLoss: number | null;
  testLoss: number | null;
  /** testLoss - trainLoss. */
  gap: number | null;
  copyTest: { noise: number; otherDataset: number; inverted: number } | null;
  probe: { codeAccuracy: number; pixelAccuracy: number } | null;
  /** The train curve is decimated to at most MAX_TRAIN_POINTS points before saving. */
  curves: RunCurves;
  sweepId: string | null;
}

export interface RunsDb {
  /** Saves a run; returns its new id. */
  add(r: Omit<RunRecord, 'id'>): Promise<number>;
  /** Changes some fields of a saved run (its id cannot change). */
  update(id: number, patch: Partial<RunRecord>): Promise<void>;
  /** Every readable run, newest first. */
  list(): Promise<RunRecord[]>;
  get(id: number): Promise<RunRecord | undefined>;
  remove(id: number): Promise<void>;
  clear(): Promise<void>;
  close(): void;
}

/** Where IndexedDB comes from; only tests pass these (the browser's globals are the default). */
export interface RunsDbOptions {
  indexedDB?: IDBFactory;
  IDBKeyRange?: typeof IDBKeyRange;
}

/** An error of this module's own (a bad record, a missing run), passed on as it is. */
class RunsError extends Error {
  override name = 'RunsError';
}

// ---------------------------------------------------------------------------------------------
// Validation.
// ---------------------------------------------------------------------------------------------

/** Any number, NaN and ±Infinity included: a diverged run's losses are still worth keeping. */
const anyNumber = z.custom<number>((v) => typeof v === 'number', 'expected a number');
const finite = z.number();
const count = z.number().int().nonnegative();

const CurvesSchema = z.object({
  train: z.array(z.object({ step: finite, loss: anyNumber })),
  test: z.array(z.object({ epoch: finite, step: finite, loss: anyNumber })),
});

/** Everything but the id and the experiment (checked by model/validate.ts). */
const RecordFieldsSchema = z.object({
  createdAt: finite,
  name: z.string(),
  bottleneck: z.array(z.number().int().positive()).min(1).max(3),
  codeSize: count,
  params: count,
  backend: z.string(),
  seconds: z.number().nonnegative(),
  trainLoss: anyNumber.nullable(),
  testLoss: anyNumber.nullable(),
  gap: anyNumber.nullable(),
  copyTest: z.object({ noise: anyNumber, otherDataset: anyNumber, inverted: anyNumber }).nullable(),
  probe: z.object({ codeAccuracy: anyNumber, pixelAccuracy: anyNumber }).nullable(),
  curves: CurvesSchema,
  sweepId: z.string().nullable(),
});

const IdSchema = z.number().int().positive();

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid record';
  const path = issue.path.map(String).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/** A stored object as a RunRecord, or null when it cannot be read. Never throws. */
export function parseRunRecord(raw: unknown): RunRecord | null {
  try {
    if (typeof raw !== 'object' || raw === null) return null;
    const obj = raw as Record<string, unknown>;
    const id = IdSchema.safeParse(obj.id);
    const fields = RecordFieldsSchema.safeParse(obj);
    if (!id.success || !fields.success) return null;
    const spec = normalizeSpec(obj.spec, 'data');
    if (!spec.ok) return null;
    return { id: id.data, ...fields.data, spec: spec.spec };
  } catch {
    return null;
  }
}

/** Checks a record before it is written; throws a RunsError naming the first bad field. */
function checkForWrite(r: Record<string, unknown>, what: string): void {
  const fields = RecordFieldsSchema.safeParse(r);
  if (!fields.success) throw new RunsError(`${what}: ${firstIssue(fields.error)}`);
  if (!isValidSpec(r.spec)) throw new RunsError(`${what}: spec is not a valid experiment`);
}

/** At most `max` points of a curve, evenly spread, keeping the first and the last. */
export function decimateCurve<T>(points: readonly T[], max: number = MAX_TRAIN_POINTS): T[] {
  return decimate(points, max);
}

function withDecimatedCurves(curves: RunCurves): RunCurves {
  return { train: decimateCurve(curves.train), test: curves.test.slice() };
}

// ---------------------------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------------------------

function errorChain(e: unknown): { names: string[]; message: string } {
  const names: string[] = [];
  let message = '';
  let cur: unknown = e;
  for (let depth = 0; depth < 5 && cur; depth++) {
    if (cur instanceof Error || (typeof cur === 'object' && cur !== null && 'name' in cur)) {
      const err = cur as { name?: unknown; message?: unknown; inner?: unknown };
      if (typeof err.name === 'string') names.push(err.name);
      if (!message && typeof err.message === 'string' && err.message) message = err.message;
      cur = err.inner;
    } else {
      if (!message) message = String(cur);
      break;
    }
  }
  return { names, message: message || 'unknown error' };
}

function storageError(e: unknown): Error {
  if (e instanceof RunsError) return e;
  const { names, message } = errorChain(e);
  if (names.includes('QuotaExceededError')) {
    return new Error(`Saved runs: the browser's storage is full; delete some runs and try again (${message})`);
  }
  return new Error(`Saved runs are unavailable in this browser: ${message}`);
}

async function guard<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw storageError(e);
  }
}

// ---------------------------------------------------------------------------------------------
// The store.
// ---------------------------------------------------------------------------------------------

type Stored = { [key: string]: unknown };

export function openRunsDb(name: string = RUNS_DB_NAME, options: RunsDbOptions = {}): RunsDb {
  let db: Dexie;
  try {
    db = new Dexie(name, {
      ...(options.indexedDB ? { indexedDB: options.indexedDB } : {}),
      ...(options.IDBKeyRange ? { IDBKeyRange: options.IDBKeyRange } : {}),
    });
    db.version(1).stores({ runs: '++id, createdAt, sweepId' });
  } catch (e) {
    throw storageError(e);
  }
  const runs: Table<Stored, number> = db.table('runs');

  return {
    add: (r) =>
      guard(async () => {
        const { id: _ignored, ...rest } = r as RunRecord;
        const record: Stored = { ...rest, curves: rest.curves ? withDecimatedCurves(rest.curves) : rest.curves };
        checkForWrite(record, 'Cannot save this run');
        return runs.add(record);
      }),

    update: (id, patch) =>
      guard(async () => {
        if (!IdSchema.safeParse(id).success) throw new RunsError(`No saved run with id ${String(id)}`);
        const { id: _ignored, ...changes } = patch;
        const next: Stored = { ...changes };
        if (changes.curves) next.curves = withDecimatedCurves(changes.curves);
        await db.transaction('rw', runs, async () => {
          const current = await runs.get(id);
          if (current === undefined) throw new RunsError(`No saved run with id ${id}`);
          const merged: Stored = { ...current, ...next, id };
          checkForWrite(merged, `Cannot update run ${id}`);
          await runs.put(merged);
        });
      }),

    list: () =>
      guard(async () => {
        const rows = await runs.toArray();
        const good: RunRecord[] = [];
        for (const row of rows) {
          const r = parseRunRecord(row);
          if (r) good.push(r);
        }
        return good.sort((a, b) => b.createdAt - a.createdAt || (b.id ?? 0) - (a.id ?? 0));
      }),

    get: (id) =>
      guard(async () => {
        if (!IdSchema.safeParse(id).success) return undefined;
        return parseRunRecord(await runs.get(id)) ?? undefined;
      }),

    remove: (id) =>
      guard(async () => {
        if (!IdSchema.safeParse(id).success) return;
        await runs.delete(id);
      }),

    clear: () =>
      guard(async () => {
        await runs.clear();
      }),

    close: () => db.close(),
  };
}
