/// <reference types="node" />
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DATASET_INFO, type DatasetInfo } from './catalogue';
import { DATASET_HEADER_BYTES } from './decode';
import { clearDatasetCache, loadDataset } from './load';

const H = 2;
const W = 3;
const LABELS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1];

/** A small data set in the asset format (mirrors scripts/build-data.mjs). */
function encode(labels: number[]): Uint8Array<ArrayBuffer> {
  const count = labels.length;
  const buf = new Uint8Array(DATASET_HEADER_BYTES + count + count * H * W);
  const view = new DataView(buf.buffer);
  buf.set([0x41, 0x45, 0x44, 0x53], 0);
  buf[4] = 1;
  view.setUint32(8, count, true);
  view.setUint16(12, H, true);
  view.setUint16(14, W, true);
  view.setUint16(16, 1, true);
  buf.set(labels, DATASET_HEADER_BYTES);
  for (let i = 0; i < count * H * W; i++) buf[DATASET_HEADER_BYTES + count + i] = (i * 7) % 256;
  return buf;
}

const RAW = encode(LABELS);
const GZ = new Uint8Array(gzipSync(RAW));

const INFO: DatasetInfo = { ...DATASET_INFO.mnist, count: LABELS.length, testCount: 2, shape: [H, W, 1] };
const BASE = 'http://test.local/data/';

/** A Response whose body arrives in several chunks. */
function chunkedResponse(bytes: Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}, chunk = 7): Response {
  let o = 0;
  const body = new ReadableStream<Uint8Array<ArrayBuffer>>({
    pull(controller) {
      if (o >= bytes.length) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(o, o + chunk));
      o += chunk;
    },
  });
  return new Response(body, { status: 200, headers });
}

const fetchMock = vi.fn<(input: string) => Promise<Response>>();

beforeEach(() => {
  clearDatasetCache();
  fetchMock.mockReset();
  vi.stubGlobal('fetch', fetchMock);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('loadDataset', () => {
  it('fetches, reports progress, gunzips and decodes', async () => {
    fetchMock.mockImplementation(async () => chunkedResponse(GZ, { 'content-length': String(GZ.length) }));
    const progress: [number, number | null][] = [];
    const d = await loadDataset(INFO, BASE, (loaded, total) => progress.push([loaded, total]));
    expect(fetchMock).toHaveBeenCalledWith(`${BASE}mnist.bin.gz`);
    expect(d).toMatchObject({ count: LABELS.length, height: H, width: W, channels: 1 });
    expect([...d.labels]).toEqual(LABELS);
    expect([...d.pixels]).toEqual([...RAW.subarray(DATASET_HEADER_BYTES + LABELS.length)]);
    expect(progress[0]).toEqual([0, GZ.length]);
    expect(progress.at(-1)).toEqual([GZ.length, GZ.length]);
    expect(progress.length).toBeGreaterThan(3);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
  });

  it('accepts a body the server already decoded (not gzipped), with unknown total', async () => {
    fetchMock.mockImplementation(async () => chunkedResponse(RAW, { 'content-encoding': 'gzip', 'content-length': '10' }));
    const totals: (number | null)[] = [];
    const d = await loadDataset(INFO, BASE, (_l, total) => totals.push(total));
    expect([...d.labels]).toEqual(LABELS);
    expect(totals.slice(0, -1).every((t) => t === null)).toBe(true);
    expect(totals.at(-1)).toBe(RAW.length);
  });

  it('caches by id: a second call is served without fetching', async () => {
    fetchMock.mockImplementation(async () => new Response(GZ));
    const a = await loadDataset(INFO, BASE);
    const b = await loadDataset(INFO, BASE);
    expect(b).toBe(a);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('shares one fetch between concurrent calls, and both get progress', async () => {
    fetchMock.mockImplementation(async () => chunkedResponse(GZ, { 'content-length': String(GZ.length) }));
    const seen1: number[] = [];
    const seen2: number[] = [];
    const p1 = loadDataset(INFO, BASE, (l) => seen1.push(l));
    const p2 = loadDataset(INFO, BASE, (l) => seen2.push(l));
    expect(p2).toBe(p1);
    const [a, b] = await Promise.all([p1, p2]);
    expect(b).toBe(a);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    expect(seen1.at(-1)).toBe(GZ.length);
    expect(seen2.at(-1)).toBe(GZ.length);
  });

  it('explains a 404 and forgets the failure so a retry can succeed', async () => {
    fetchMock.mockImplementationOnce(async () => new Response('Not Found', { status: 404, statusText: 'Not Found' }));
    const err = await loadDataset(INFO, BASE).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain('mnist.bin.gz');
    expect(msg).toContain('404');
    expect(msg).toContain('npm run data');

    fetchMock.mockImplementationOnce(async () => new Response(GZ));
    const d = await loadDataset(INFO, BASE);
    expect(d.count).toBe(LABELS.length);
    expect(fetchMock).toHaveBeenCalledTimes(2);
  });

  it('names the file and status for other HTTP errors', async () => {
    fetchMock.mockImplementation(async () => new Response('boom', { status: 500, statusText: 'Internal Server Error' }));
    await expect(loadDataset(INFO, BASE)).rejects.toThrow(/"mnist\.bin\.gz".*HTTP 500 Internal Server Error/);
  });

  it('reports a network failure', async () => {
    fetchMock.mockImplementation(async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(loadDataset(INFO, BASE)).rejects.toThrow(/Could not fetch .*mnist\.bin\.gz.*Failed to fetch/);
  });

  it('treats an SPA index.html fallback (200) as a missing file', async () => {
    fetchMock.mockImplementation(
      async () => new Response('<!doctype html><html></html>', { status: 200, headers: { 'content-type': 'text/html' } }),
    );
    await expect(loadDataset(INFO, BASE)).rejects.toThrow(/not found.*HTML page.*npm run data/);
  });

  it('rejects an asset whose count or shape does not match the catalogue', async () => {
    fetchMock.mockImplementation(async () => new Response(GZ));
    await expect(loadDataset({ ...INFO, count: 99 }, BASE)).rejects.toThrow(/holds 12 images of 2x3x1, expected 99 of 2x3x1/);
    await expect(loadDataset({ ...INFO, shape: [28, 28, 1] }, BASE)).rejects.toThrow(/expected 12 of 28x28x1/);
  });

  it('reports corrupt gzip and invalid contents', async () => {
    const bad = GZ.slice(0, 30);
    fetchMock.mockImplementationOnce(async () => new Response(bad));
    await expect(loadDataset(INFO, BASE)).rejects.toThrow(/corrupt \(gunzip failed/);
    fetchMock.mockImplementationOnce(async () => new Response(new Uint8Array([1, 2, 3, 4, 5])));
    await expect(loadDataset(INFO, BASE)).rejects.toThrow(/invalid: .*truncated header/);
  });
});
