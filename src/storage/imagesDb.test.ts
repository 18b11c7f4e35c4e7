import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openImagesDb, ownSetInfo, type ImagesDb, type OwnSetMeta, type OwnSetPixels } from './imagesDb';

let counter = 0;
const opened: ImagesDb[] = [];
function freshDb(): { db: ImagesDb; name: string } {
  const name = `images-test-${process.pid}-${++counter}`;
  const db = openImagesDb(name);
  opened.push(db);
  return { db, name };
}
afterEach(() => {
  vi.restoreAllMocks();
  for (const db of opened.splice(0)) db.close();
});

/** A set of `count` images of side×side×channels with pixel bytes and labels from a simple formula. */
function makeSet(name: string, count: number, side: number, channels: 1 | 3, salt = 0): { meta: OwnSetMeta; data: OwnSetPixels } {
  const per = side * side * channels;
  const pixels = Uint8Array.from({ length: count * per }, (_, i) => (i * 31 + salt * 7) % 256);
  const labels = Uint8Array.from({ length: count }, (_, i) => (i + salt) % 3);
  return {
    meta: {
      name,
      createdAt: 1_700_000_000_000 + salt,
      height: side,
      width: side,
      channels,
      count,
      testCount: 1,
      splitSeed: 17,
      classNames: ['a', 'b', 'c'],
      skipped: [{ file: 'notes.txt', reason: 'not an image' }],
    },
    data: { name, labels, pixels },
  };
}

/** Writes raw rows into the same database, bypassing save(). */
async function writeRaw(dbName: string, table: 'sets' | 'pixels', row: Record<string, unknown>): Promise<void> {
  const raw = new Dexie(dbName);
  raw.version(1).stores({ sets: 'name', pixels: 'name' });
  await raw.table(table).put(row);
  raw.close();
}

const bytes = (a: Uint8Array): number[] => Array.from(a);

describe('openImagesDb', () => {
  it('saves, lists, reads and removes a set; pixels and labels come back byte-equal', async () => {
    const { db } = freshDb();
    expect(await db.list()).toEqual([]);
    const a = makeSet('Cats and dogs', 5, 8, 3, 1);
    const b = makeSet('grey', 4, 16, 1, 2);
    await db.save(a.meta, a.data);
    await db.save(b.meta, b.data);
    const list = await db.list();
    expect(list.map((m) => m.name).sort()).toEqual(['Cats and dogs', 'grey']);
    expect(list.find((m) => m.name === 'grey')).toEqual(b.meta);

    const readA = await db.read('Cats and dogs');
    expect(readA).not.toBeNull();
    expect(readA?.meta).toEqual(a.meta);
    expect(readA?.data.pixels).toBeInstanceOf(Uint8Array);
    expect(readA?.data.pixels.length).toBe(5 * 8 * 8 * 3);
    expect(bytes(readA?.data.pixels ?? new Uint8Array())).toEqual(bytes(a.data.pixels));
    expect(bytes(readA?.data.labels ?? new Uint8Array())).toEqual([1, 2, 0, 1, 2]);

    await db.remove('Cats and dogs');
    expect((await db.list()).map((m) => m.name)).toEqual(['grey']);
    expect(await db.read('Cats and dogs')).toBeNull();
    const readB = await db.read('grey');
    expect(bytes(readB?.data.pixels ?? new Uint8Array())).toEqual(bytes(b.data.pixels));
  });

  it('the data survives closing and reopening the database', async () => {
    const { db, name } = freshDb();
    const a = makeSet('kept', 3, 8, 1, 5);
    await db.save(a.meta, a.data);
    db.close();
    const again = openImagesDb(name);
    opened.push(again);
    const read = await again.read('kept');
    expect(bytes(read?.data.pixels ?? new Uint8Array())).toEqual(bytes(a.data.pixels));
  });

  it('saving a set under a name in use replaces it', async () => {
    const { db } = freshDb();
    const first = makeSet('same', 4, 8, 1, 1);
    const second = makeSet('same', 6, 8, 3, 9);
    await db.save(first.meta, first.data);
    await db.save(second.meta, second.data);
    const list = await db.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toEqual(second.meta);
    const read = await db.read('same');
    expect(read?.meta.count).toBe(6);
    expect(read?.meta.channels).toBe(3);
    expect(bytes(read?.data.pixels ?? new Uint8Array())).toEqual(bytes(second.data.pixels));
    expect(bytes(read?.data.labels ?? new Uint8Array())).toEqual(bytes(second.data.labels));
  });

  it('reading a set that is not stored gives null', async () => {
    const { db } = freshDb();
    expect(await db.read('nothing here')).toBeNull();
    const a = makeSet('there', 3, 8, 1);
    await db.save(a.meta, a.data);
    expect(await db.read('not there')).toBeNull();
  });

  it('list skips a corrupted meta record and keeps the good ones', async () => {
    const { db, name } = freshDb();
    const good = makeSet('good', 3, 8, 1);
    await db.save(good.meta, good.data);
    // Force the database open at version 1 before the raw writes.
    await db.list();
    await writeRaw(name, 'sets', { name: 'broken', height: 'tall', count: -1 });
    await writeRaw(name, 'sets', { ...good.meta, name: 'bad channels', channels: 2 });
    await writeRaw(name, 'sets', { ...good.meta, name: 'bad/name' });
    const list = await db.list();
    expect(list.map((m) => m.name)).toEqual(['good']);
    expect(await db.read('broken')).toBeNull();
  });

  it('a pixels record of the wrong length (or missing) reads as null', async () => {
    const { db, name } = freshDb();
    const a = makeSet('short', 4, 8, 1);
    const b = makeSet('labels', 4, 8, 1);
    const c = makeSet('no pixels', 4, 8, 1);
    await db.save(a.meta, a.data);
    await db.save(b.meta, b.data);
    await db.list();
    await writeRaw(name, 'pixels', { name: 'short', labels: a.data.labels, pixels: a.data.pixels.slice(0, 4 * 64 - 1) });
    await writeRaw(name, 'pixels', { name: 'labels', labels: new Uint8Array(3), pixels: b.data.pixels });
    await writeRaw(name, 'sets', { ...c.meta });
    expect(await db.read('short')).toBeNull();
    expect(await db.read('labels')).toBeNull();
    expect(await db.read('no pixels')).toBeNull();
  });

  it('ownSetInfo gives the catalogue entry: shape H×W×C, counts and the own: id', () => {
    const a = makeSet('Photos 1', 10, 32, 3);
    const info = ownSetInfo({ ...a.meta, testCount: 2 });
    expect(info.id).toBe('own:Photos 1');
    expect(info.kind).toBe('own');
    expect(info.shape).toEqual([32, 32, 3]);
    expect(info.count).toBe(10);
    expect(info.testCount).toBe(2);
    expect(info.classNames).toEqual(['a', 'b', 'c']);
  });
});

describe('a save that runs out of storage', () => {
  /** Makes IDBObjectStore.put throw a QuotaExceededError for the store named `store`. */
  function quotaOn(store: 'sets' | 'pixels' | 'both', message = 'no room left'): void {
    const proto = globalThis.IDBObjectStore.prototype;
    const original = proto.put;
    vi.spyOn(proto, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (store === 'both' || this.name === store) throw new DOMException(message, 'QuotaExceededError');
      return original.apply(this, args);
    });
  }

  it.each(['pixels', 'sets', 'both'] as const)('(put on %s fails) rejects with “Browser storage is full” and leaves the earlier sets as they were', async (store) => {
    const { db } = freshDb();
    const a = makeSet('first', 4, 8, 1, 1);
    const b = makeSet('second', 3, 8, 3, 2);
    await db.save(a.meta, a.data);
    await db.save(b.meta, b.data);

    quotaOn(store);
    const c = makeSet('third', 5, 8, 1, 3);
    const err = await db.save(c.meta, c.data).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message.startsWith('Browser storage is full')).toBe(true);
    // Replacing an existing set that fails leaves the old one in place (one transaction).
    const a2 = makeSet('first', 6, 8, 3, 4);
    await expect(db.save(a2.meta, a2.data)).rejects.toThrow(/^Browser storage is full/);
    vi.restoreAllMocks();

    const list = await db.list();
    expect(list.map((m) => m.name).sort()).toEqual(['first', 'second']);
    expect(list.find((m) => m.name === 'first')).toEqual(a.meta);
    const readA = await db.read('first');
    expect(readA?.meta).toEqual(a.meta);
    expect(bytes(readA?.data.pixels ?? new Uint8Array())).toEqual(bytes(a.data.pixels));
    expect(bytes(readA?.data.labels ?? new Uint8Array())).toEqual(bytes(a.data.labels));
    const readB = await db.read('second');
    expect(bytes(readB?.data.pixels ?? new Uint8Array())).toEqual(bytes(b.data.pixels));
    expect(await db.read('third')).toBeNull();
    // And the database still works afterwards.
    await db.save(c.meta, c.data);
    expect((await db.list()).map((m) => m.name).sort()).toEqual(['first', 'second', 'third']);
  });

  it('a failure that is not about quota says storage is unavailable, not full', async () => {
    const { db } = freshDb();
    const a = makeSet('first', 4, 8, 1, 1);
    await db.save(a.meta, a.data);
    vi.spyOn(globalThis.IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('disk broke', 'UnknownError');
    });
    const c = makeSet('third', 5, 8, 1, 3);
    const err = await db.save(c.meta, c.data).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).not.toMatch(/storage is full/);
    vi.restoreAllMocks();
    expect((await db.list()).map((m) => m.name)).toEqual(['first']);
  });
});
