import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SPEC } from '../model/presets';
import { MAX_TRAIN_POINTS, decimateCurve, openRunsDb, parseRunRecord, type RunRecord, type RunsDb } from './runsDb';

let counter = 0;
const opened: RunsDb[] = [];
function freshDb(): { db: RunsDb; name: string } {
  const name = `runs-test-${process.pid}-${++counter}`;
  const db = openRunsDb(name);
  opened.push(db);
  return { db, name };
}
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

function run(overrides: Partial<RunRecord> = {}): Omit<RunRecord, 'id'> {
  return {
    createdAt: 1_700_000_000_000,
    name: '7×7×4 · MNIST · seed 1',
    spec: structuredClone(DEFAULT_SPEC),
    bottleneck: [7, 7, 4],
    codeSize: 196,
    params: 3797,
    backend: 'wasm',
    seconds: 12.5,
    trainLoss: 0.08,
    testLoss: 0.09,
    gap: 0.01,
    copyTest: { noise: 0.2, otherDataset: 0.3, inverted: 0.5 },
    probe: { codeAccuracy: 0.9, pixelAccuracy: 0.85 },
    curves: { train: [{ step: 1, loss: 0.7 }, { step: 2, loss: 0.5 }], test: [{ epoch: 1, step: 2, loss: 0.55 }] },
    sweepId: null,
    ...overrides,
  };
}

/** Writes raw objects into the same database, bypassing the validation of add(). */
async function writeRaw(name: string, rows: Record<string, unknown>[]): Promise<void> {
  const raw = new Dexie(name);
  raw.version(1).stores({ runs: '++id, createdAt, sweepId' });
  await raw.table('runs').bulkAdd(rows);
  raw.close();
}

describe('decimateCurve', () => {
  it('keeps short curves and thins long ones to the limit, first and last kept', () => {
    const short = [{ step: 1, loss: 1 }];
    expect(decimateCurve(short)).toEqual(short);
    const long = Array.from({ length: 5000 }, (_, i) => ({ step: i + 1, loss: 1 / (i + 1) }));
    const d = decimateCurve(long);
    expect(d).toHaveLength(MAX_TRAIN_POINTS);
    expect(d[0]).toBe(long[0]);
    expect(d.at(-1)).toBe(long.at(-1));
    for (let i = 1; i < d.length; i++) expect(d[i].step).toBeGreaterThan(d[i - 1].step);
    expect(decimateCurve(long.slice(0, 401))).toHaveLength(400);
  });
});

describe('runs db', () => {
  it('adds, gets and lists newest first', async () => {
    const { db } = freshDb();
    const a = await db.add(run({ createdAt: 1000, name: 'a' }));
    const b = await db.add(run({ createdAt: 3000, name: 'b', sweepId: 'sweep-1' }));
    const c = await db.add(run({ createdAt: 2000, name: 'c' }));
    expect([a, b, c].every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect((await db.list()).map((r) => r.name)).toEqual(['b', 'c', 'a']);
    const got = await db.get(a);
    expect(got).toEqual({ ...run({ createdAt: 1000, name: 'a' }), id: a });
    expect(await db.get(9999)).toBeUndefined();
    expect(await db.get(Number.NaN)).toBeUndefined();
  });

  it('decimates the train curve to at most 400 points when saving', async () => {
    const { db } = freshDb();
    const train = Array.from({ length: 3000 }, (_, i) => ({ step: i + 1, loss: 1 / (i + 1) }));
    const id = await db.add(run({ curves: { train, test: [] } }));
    const r = await db.get(id);
    expect(r?.curves.train).toHaveLength(MAX_TRAIN_POINTS);
    expect(r?.curves.train.at(-1)).toEqual({ step: 3000, loss: 1 / 3000 });
    await db.update(id, { curves: { train, test: [{ epoch: 1, step: 3000, loss: 0.1 }] } });
    expect((await db.get(id))?.curves.train).toHaveLength(MAX_TRAIN_POINTS);
  });

  it('keeps the losses of a diverged run', async () => {
    const { db } = freshDb();
    const id = await db.add(run({ trainLoss: Number.NaN, testLoss: Number.POSITIVE_INFINITY, gap: null, copyTest: null, probe: null }));
    const r = await db.get(id);
    expect(r?.trainLoss).toBeNaN();
    expect(r?.testLoss).toBe(Number.POSITIVE_INFINITY);
    expect(r?.copyTest).toBeNull();
  });

  it('updates some fields and keeps the rest', async () => {
    const { db } = freshDb();
    const id = await db.add(run({ copyTest: null }));
    await db.update(id, { copyTest: { noise: 1, otherDataset: 2, inverted: 3 }, id: 777 });
    const r = await db.get(id);
    expect(r?.id).toBe(id);
    expect(r?.copyTest).toEqual({ noise: 1, otherDataset: 2, inverted: 3 });
    expect(r?.name).toBe(run().name);
    expect(await db.get(777)).toBeUndefined();
    await expect(db.update(4242, { name: 'x' })).rejects.toThrow('No saved run with id 4242');
    await expect(db.update(id, { codeSize: -1 })).rejects.toThrow(/Cannot update run .*codeSize/);
    expect((await db.get(id))?.codeSize).toBe(196);
  });

  it('refuses to save an invalid record', async () => {
    const { db } = freshDb();
    await expect(db.add(run({ seconds: -1 }))).rejects.toThrow(/Cannot save this run: seconds/);
    const badSpec = { ...run(), spec: { ...DEFAULT_SPEC, epochs: -3 } };
    await expect(db.add(badSpec)).rejects.toThrow(/spec is not a valid experiment/);
    expect(await db.list()).toEqual([]);
  });

  it('removes and clears', async () => {
    const { db } = freshDb();
    const a = await db.add(run({ name: 'a' }));
    await db.add(run({ name: 'b' }));
    await db.remove(a);
    expect((await db.list()).map((r) => r.name)).toEqual(['b']);
    await db.remove(a);
    await db.clear();
    expect(await db.list()).toEqual([]);
  });

  it('skips records it cannot read and returns the good ones', async () => {
    const { db, name } = freshDb();
    await db.add(run({ name: 'good', createdAt: 5 }));
    const { spec: _s, ...noSpec } = run({ name: 'no spec' });
    await writeRaw(name, [
      { ...run({ name: 'missing curves' }), curves: undefined },
      { ...run({ name: 'string loss' }), trainLoss: '0.1' },
      noSpec,
      { ...run({ name: 'broken spec' }), spec: { encoder: 'nope' } },
      { name: 'older version', createdAt: 1 },
      { ...run({ name: 'newer version', createdAt: 10 }), extraField: { future: true } },
      { ...run({ name: 'bad bottleneck' }), bottleneck: [0] },
    ]);
    const list = await db.list();
    expect(list.map((r) => r.name)).toEqual(['newer version', 'good']);
    expect(list[0]).not.toHaveProperty('extraField');
    const all = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((id) => db.get(id)));
    expect(all.filter((r) => r !== undefined)).toHaveLength(2);
    // Updating a record from a newer version keeps the fields this version does not know.
    const newer = list[0];
    await db.update(newer.id ?? -1, { name: 'renamed' });
    const raw = new Dexie(name);
    raw.version(1).stores({ runs: '++id, createdAt, sweepId' });
    const stored = (await raw.table('runs').get(newer.id ?? -1)) as Record<string, unknown>;
    raw.close();
    expect(stored.name).toBe('renamed');
    expect(stored.extraField).toEqual({ future: true });
  });

  it('parseRunRecord never throws', () => {
    for (const v of [null, undefined, 1, 'x', [], { id: 1 }, { id: -1, ...run() }]) expect(parseRunRecord(v)).toBeNull();
    expect(parseRunRecord({ id: 1, ...run() })?.name).toBe(run().name);
  });

  it('reports an unavailable IndexedDB with a clear message', async () => {
    const broken = {
      open: () => {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      },
    } as unknown as IDBFactory;
    const db = openRunsDb('runs-broken', { indexedDB: broken, IDBKeyRange });
    opened.push(db);
    await expect(db.list()).rejects.toThrow(/^Saved runs are unavailable in this browser: .*insecure/);
    await expect(db.add(run())).rejects.toThrow(/^Saved runs are unavailable in this browser/);
  });

  it('reports a closed database', async () => {
    const { db } = freshDb();
    await db.add(run());
    db.close();
    await expect(db.list()).rejects.toThrow(/^Saved runs are unavailable in this browser/);
  });

  it('uses its default name', async () => {
    const db = openRunsDb();
    opened.push(db);
    await db.clear();
    await db.add(run());
    expect(await Dexie.exists('ae-playground-runs')).toBe(true);
    await db.clear();
  });
});
