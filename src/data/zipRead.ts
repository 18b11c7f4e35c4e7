/**
 * Reading zip archives (e.g. a user's folder of images dropped as a .zip).
 *
 * Pure: no DOM, React or tfjs, so it runs in browsers, workers and Node. Built
 * on fflate's asynchronous `unzip`, which inflates large entries in workers.
 */
import { unzip, unzipSync, type UnzipFileInfo, type Unzipped } from 'fflate';

export interface ZipEntry {
  /** Path inside the archive, '/'-separated, e.g. "cats/a.png". */
  path: string;
  bytes: Uint8Array;
}

export interface ReadZipOptions {
  /** Most matching files allowed (default 50,000). Checked before inflating. */
  maxEntries?: number;
  /** Most total uncompressed bytes of matching files (default 1 GiB). Checked before inflating. */
  maxTotalBytes?: number;
  /** Which entries (by path) to inflate and return; the rest are skipped. */
  filter?: (path: string) => boolean;
  /** Name used in error messages, e.g. the file name (default "The file"). */
  name?: string;
}

/** Every failure of `readZip`: unreadable input, or an archive over the limits. */
export class ZipError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ZipError';
  }
}

export const DEFAULT_MAX_ENTRIES = 50_000;
export const DEFAULT_MAX_TOTAL_BYTES = 1024 * 1024 * 1024;

/** True when the bytes start with a zip local-file header (PK\x03\x04) or an empty-archive record (PK\x05\x06). */
export function isZip(bytes: Uint8Array): boolean {
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) return false;
  return (bytes[2] === 0x03 && bytes[3] === 0x04) || (bytes[2] === 0x05 && bytes[3] === 0x06);
}

/** Directories, macOS resource forks and dot-files (".DS_Store", "._a.png") are never returned. */
function isJunk(path: string): boolean {
  if (path.length === 0 || path.endsWith('/')) return true;
  if (path.startsWith('__MACOSX/') || path.includes('/__MACOSX/')) return true;
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.startsWith('.');
}

function normalise(name: string): string {
  return name.replace(/\\/g, '/');
}

function reasonOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function unreadable(label: string, e: unknown): ZipError {
  return new ZipError(`${label} is not a readable zip file: ${reasonOf(e)}`, { cause: e });
}

function unzipAsync(bytes: Uint8Array, filter: (file: UnzipFileInfo) => boolean): Promise<Unzipped> {
  if (typeof unzip !== 'function') return Promise.resolve(unzipSync(bytes, { filter }));
  return new Promise<Unzipped>((resolve, reject) => {
    try {
      unzip(bytes, { filter }, (err, data) => {
        if (err) reject(err);
        else resolve(data);
      });
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
}

/**
 * Reads the files of a zip archive. Directories, `__MACOSX/` entries and
 * dot-files are skipped; `opts.filter` picks which of the rest to inflate.
 * The entry count and declared uncompressed size of the selected files are
 * checked against the limits before anything is inflated (zip-bomb guard).
 * Entries come back in archive order. Throws `ZipError` on any failure.
 */
export async function readZip(bytes: Uint8Array, opts: ReadZipOptions = {}): Promise<ZipEntry[]> {
  const label = opts.name ?? 'The file';
  const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxTotalBytes = opts.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES;
  const userFilter = opts.filter;

  // Pass 1: walk the central directory only (the filter rejects everything, so nothing is inflated).
  const wanted = new Set<string>();
  const order: string[] = [];
  let count = 0;
  let total = 0;
  try {
    unzipSync(bytes, {
      filter: (file) => {
        const path = normalise(file.name);
        if (isJunk(path) || (userFilter !== undefined && !userFilter(path))) return false;
        count += 1;
        total += file.originalSize;
        if (!wanted.has(file.name)) order.push(file.name);
        wanted.add(file.name);
        return false;
      },
    });
  } catch (e) {
    throw unreadable(label, e);
  }
  if (count > maxEntries) {
    throw new ZipError(
      `${label} has ${count.toLocaleString('en-US')} files, more than the limit of ${maxEntries.toLocaleString('en-US')} entries.`,
    );
  }
  if (total > maxTotalBytes) {
    throw new ZipError(
      `${label} would unpack to ${total.toLocaleString('en-US')} bytes, more than the limit of ${maxTotalBytes.toLocaleString('en-US')} bytes.`,
    );
  }
  if (order.length === 0) return [];

  // Pass 2: inflate only the selected entries.
  let files: Unzipped;
  try {
    files = await unzipAsync(bytes, (file) => wanted.has(file.name));
  } catch (e) {
    throw unreadable(label, e);
  }
  const out: ZipEntry[] = [];
  for (const name of order) {
    const data = files[name];
    if (data !== undefined) out.push({ path: normalise(name), bytes: data });
  }
  return out;
}
