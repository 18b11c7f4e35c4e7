/**
 * Fetches, gunzips and decodes a data set asset. Works in a Web Worker (no DOM, no window):
 * uses only fetch, streams and DecompressionStream. No React, no tfjs.
 */
import type { DatasetInfo } from './catalogue';
import { decodeDataset, isGzip, type DecodedDataset } from './decode';

export type ProgressCallback = (loaded: number, total: number | null) => void;

interface CacheEntry {
  promise: Promise<DecodedDataset>;
  /** Progress listeners of every caller waiting on this load (cleared when it settles). */
  listeners: Set<ProgressCallback>;
}

/** Bytes backed by a plain ArrayBuffer (what fetch yields and DecompressionStream accepts). */
type Bytes = Uint8Array<ArrayBuffer>;

const cache = new Map<string, CacheEntry>();

/** Forgets every cached data set (tests; freeing memory). */
export function clearDatasetCache(): void {
  cache.clear();
}

/**
 * Loads `${baseUrl}${info.file}`, reporting download progress, gunzipping when the bytes are
 * gzip (a server may already have decoded them), decoding and checking them against `info`.
 * Cached by `info.id`: concurrent and later calls share one fetch; a failed load is forgotten
 * so the next call retries.
 */
export function loadDataset(
  info: DatasetInfo,
  baseUrl: string,
  onProgress?: ProgressCallback,
): Promise<DecodedDataset> {
  const existing = cache.get(info.id);
  if (existing) {
    if (onProgress) existing.listeners.add(onProgress);
    return existing.promise;
  }
  const listeners = new Set<ProgressCallback>();
  if (onProgress) listeners.add(onProgress);
  const report: ProgressCallback = (loaded, total) => {
    for (const l of listeners) {
      try {
        l(loaded, total);
      } catch {
        // A failing progress callback must not break the load.
      }
    }
  };
  const promise = fetchAndDecode(info, baseUrl, report);
  const entry: CacheEntry = { promise, listeners };
  cache.set(info.id, entry);
  promise.then(
    () => listeners.clear(),
    () => {
      listeners.clear();
      if (cache.get(info.id) === entry) cache.delete(info.id);
    },
  );
  return promise;
}

function missingHint(): string {
  return 'Run `npm run data` to build the data assets, then reload.';
}

async function fetchAndDecode(info: DatasetInfo, baseUrl: string, report: ProgressCallback): Promise<DecodedDataset> {
  const url = `${baseUrl}${info.file}`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`Could not fetch data set file "${info.file}" from ${url}: ${errorMessage(err)}`, { cause: err });
  }
  if (!response.ok) {
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (response.status === 404) {
      throw new Error(`Data set file "${info.file}" not found at ${url} (${status}). ${missingHint()}`);
    }
    throw new Error(`Could not load data set file "${info.file}" from ${url} (${status}).`);
  }

  let bytes = await readBody(response, report, info.file);

  if (looksLikeHtml(bytes)) {
    // An SPA dev/preview server answers a missing file with index.html and status 200.
    throw new Error(
      `Data set file "${info.file}" not found at ${url}: the server returned an HTML page (HTTP ${response.status}). ${missingHint()}`,
    );
  }
  if (isGzip(bytes)) {
    try {
      bytes = await gunzip(bytes);
    } catch (err) {
      throw new Error(`Data set file "${info.file}" is corrupt (gunzip failed: ${errorMessage(err)}). ${rebuildHint()}`, {
        cause: err,
      });
    }
  }

  let data: DecodedDataset;
  try {
    data = decodeDataset(bytes);
  } catch (err) {
    throw new Error(`Data set file "${info.file}" is invalid: ${errorMessage(err)}. ${rebuildHint()}`, { cause: err });
  }

  const got = [data.height, data.width, data.channels];
  const shapeOk = info.shape.length === 3 && got.every((v, i) => v === info.shape[i]);
  if (data.count !== info.count || !shapeOk) {
    throw new Error(
      `Data set file "${info.file}" holds ${data.count} images of ${got.join('x')}, ` +
        `expected ${info.count} of ${info.shape.join('x')}. ${rebuildHint()}`,
    );
  }
  return data;
}

function rebuildHint(): string {
  return 'Rebuild it with `npm run data -- --force`.';
}

/** Reads the whole body, reporting progress per chunk. `total` is null when unknown. */
async function readBody(response: Response, report: ProgressCallback, file: string): Promise<Bytes> {
  const total = contentLength(response);
  report(0, total);
  try {
    if (!response.body) {
      const whole = new Uint8Array(await response.arrayBuffer());
      report(whole.length, total ?? whole.length);
      return whole;
    }
    const reader = response.body.getReader();
    const chunks: Bytes[] = [];
    let loaded = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      report(loaded, total !== null && loaded <= total ? total : null);
    }
    report(loaded, loaded);
    return concat(chunks, loaded);
  } catch (err) {
    throw new Error(`Download of data set file "${file}" failed: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * The body size in bytes when known. Null when the server applied a content encoding: then the
 * header counts encoded bytes while the stream yields decoded ones.
 */
function contentLength(response: Response): number | null {
  const encoding = response.headers.get('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') return null;
  const raw = response.headers.get('content-length');
  if (raw === null) return null;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function concat(chunks: Bytes[], length: number): Bytes {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

async function gunzip(bytes: Bytes): Promise<Bytes> {
  const input = new ReadableStream<Bytes>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  const output = input.pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(output).arrayBuffer());
}

function looksLikeHtml(bytes: Uint8Array): boolean {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0; // UTF-8 BOM
  const isSpace = (b: number): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
  while (i < bytes.length && i < 256 && isSpace(bytes[i])) i++;
  return bytes[i] === 0x3c; // '<'
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
