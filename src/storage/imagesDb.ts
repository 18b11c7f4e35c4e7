/**
 * Own image sets (#17): one IndexedDB database (through Dexie) with the sets' metadata in one table and
 * their pixels in another, so that listing the sets never reads the pixels. The page writes a set when
 * the user imports images and lists the sets at start-up; the training worker reads the pixels of the
 * set it trains on (IndexedDB works in a worker). No React, no tfjs.
 *
 * A set is written in one transaction: a full storage quota (or any other failure) leaves the database as
 * it was, and the caller gets an Error whose message says what happened ("Browser storage is full: …").
 *
 * Schema history (append a version, never edit one):
 *   1: sets 'name', pixels 'name'
 */
import Dexie, { type Table } from 'dexie';
import { z } from 'zod';
import { MAX_OWN_NAME_CHARS, OWN_NAME_PATTERN, ownDatasetId, type OwnDatasetId } from '../model/spec';
import type { DatasetInfo } from '../data/catalogue';

export const IMAGES_DB_NAME = 'ae-playground-images';

/** What is known of an own set without reading its pixels. */
export interface OwnSetMeta {
  name: string;
  createdAt: number;
  height: number;
  width: number;
  channels: 1 | 3;
  count: number;
  testCount: number;
  splitSeed: number;
  /** Label names (folder names), in label order; one entry 'all' when the images had no folders. */
  classNames: string[];
  /** Files that could not be read at import, with why (at most 200 kept). */
  skipped: { file: string; reason: string }[];
}

export interface OwnSetPixels {
  name: string;
  /** One label per image. */
  labels: Uint8Array;
  /** count × height × width × channels, row-major HWC per image. */
  pixels: Uint8Array;
}

const MetaSchema = z.object({
  name: z.string().min(1).max(MAX_OWN_NAME_CHARS).regex(OWN_NAME_PATTERN),
  createdAt: z.number(),
  height: z.number().int().min(8).max(128),
  width: z.number().int().min(8).max(128),
  channels: z.union([z.literal(1), z.literal(3)]),
  count: z.number().int().min(2),
  testCount: z.number().int().min(1),
  splitSeed: z.number().int(),
  classNames: z.array(z.string()).min(1).max(256),
  skipped: z.array(z.object({ file: z.string(), reason: z.string() })),
});

class ImagesDatabase extends Dexie {
  sets!: Table<OwnSetMeta, string>;
  pixels!: Table<OwnSetPixels, string>;
  constructor(name: string) {
    super(name);
    this.version(1).stores({ sets: 'name', pixels: 'name' });
  }
}

/** The catalogue entry of an own set. */
export function ownSetInfo(meta: OwnSetMeta): DatasetInfo & { id: OwnDatasetId } {
  return {
    id: ownDatasetId(meta.name),
    kind: 'own',
    label: meta.name,
    file: '',
    shape: [meta.height, meta.width, meta.channels],
    count: meta.count,
    testCount: meta.testCount,
    splitSeed: meta.splitSeed,
    classNames: meta.classNames,
    source: `your ${meta.count.toLocaleString('en-US')} images, kept in this browser`,
  };
}

function isQuotaError(err: unknown): boolean {
  const seen = new Set<unknown>();
  let e: unknown = err;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    const name = (e as { name?: unknown }).name;
    if (name === 'QuotaExceededError' || name === 'QuotaExceeded') return true;
    e = (e as { inner?: unknown; cause?: unknown }).inner ?? (e as { cause?: unknown }).cause;
  }
  return /quota/i.test(err instanceof Error ? err.message : String(err));
}

function storageError(err: unknown, what: string): Error {
  if (isQuotaError(err)) {
    return new Error(`Browser storage is full: ${what} was not saved (nothing else was changed). Delete an image set you no longer need, or import fewer or smaller images.`, { cause: err });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new Error(`Own image sets are unavailable in this browser: ${detail}`, { cause: err });
}

export interface ImagesDb {
  list(): Promise<OwnSetMeta[]>;
  /** Reads one set's pixels, or null when it is not stored. */
  read(name: string): Promise<{ meta: OwnSetMeta; data: OwnSetPixels } | null>;
  /** Saves a set (replacing one of the same name) in one transaction. */
  save(meta: OwnSetMeta, data: OwnSetPixels): Promise<void>;
  remove(name: string): Promise<void>;
  close(): void;
}

export function openImagesDb(name = IMAGES_DB_NAME): ImagesDb {
  let db: ImagesDatabase | null = null;
  const get = (): ImagesDatabase => {
    if (!db) db = new ImagesDatabase(name);
    return db;
  };
  return {
    async list() {
      let rows: unknown[];
      try {
        rows = await get().sets.toArray();
      } catch (err) {
        throw storageError(err, 'the list of image sets');
      }
      return rows.flatMap((r) => {
        const parsed = MetaSchema.safeParse(r);
        return parsed.success ? [parsed.data as OwnSetMeta] : [];
      });
    },
    async read(setName) {
      try {
        const d = get();
        const [meta, data] = await d.transaction('r', d.sets, d.pixels, async () => Promise.all([d.sets.get(setName), d.pixels.get(setName)]));
        const parsed = MetaSchema.safeParse(meta);
        if (!parsed.success || !data) return null;
        const m = parsed.data as OwnSetMeta;
        if (!(data.labels instanceof Uint8Array) || !(data.pixels instanceof Uint8Array)) return null;
        if (data.labels.length !== m.count || data.pixels.length !== m.count * m.height * m.width * m.channels) return null;
        return { meta: m, data };
      } catch (err) {
        throw storageError(err, `image set “${setName}”`);
      }
    },
    async save(meta, data) {
      try {
        const d = get();
        await d.transaction('rw', d.sets, d.pixels, async () => {
          await d.pixels.put(data);
          await d.sets.put(meta);
        });
      } catch (err) {
        throw storageError(err, `image set “${meta.name}”`);
      }
    },
    async remove(setName) {
      try {
        const d = get();
        await d.transaction('rw', d.sets, d.pixels, async () => {
          await d.sets.delete(setName);
          await d.pixels.delete(setName);
        });
      } catch (err) {
        throw storageError(err, `image set “${setName}”`);
      }
    },
    close() {
      db?.close();
      db = null;
    },
  };
}
