/// <reference types="node" />
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DATASET_INFO } from './catalogue';
import { DATASET_HEADER_BYTES, decodeDataset, isGzip } from './decode';

/** Encodes images in the asset format (mirrors scripts/build-data.mjs). */
function encodeDataset(labels: number[], h: number, w: number, c: number, pixels?: Uint8Array): Uint8Array {
  const count = labels.length;
  const px = pixels ?? Uint8Array.from({ length: count * h * w * c }, (_, i) => i % 256);
  const buf = new Uint8Array(DATASET_HEADER_BYTES + count + px.length);
  const view = new DataView(buf.buffer);
  buf.set([0x41, 0x45, 0x44, 0x53], 0); // "AEDS"
  buf[4] = 1;
  view.setUint32(8, count, true);
  view.setUint16(12, h, true);
  view.setUint16(14, w, true);
  view.setUint16(16, c, true);
  buf.set(labels, DATASET_HEADER_BYTES);
  buf.set(px, DATASET_HEADER_BYTES + count);
  return buf;
}

describe('decodeDataset', () => {
  it('round-trips header, labels and pixels', () => {
    const bytes = encodeDataset([3, 1, 4], 2, 3, 1);
    const d = decodeDataset(bytes);
    expect(d).toMatchObject({ count: 3, height: 2, width: 3, channels: 1 });
    expect([...d.labels]).toEqual([3, 1, 4]);
    expect(d.pixels.length).toBe(18);
    expect([...d.pixels]).toEqual(Array.from({ length: 18 }, (_, i) => i));
  });

  it('handles a view with a non-zero byteOffset', () => {
    const inner = encodeDataset([7, 8], 1, 2, 3);
    const outer = new Uint8Array(inner.length + 10);
    outer.set(inner, 5);
    const d = decodeDataset(outer.subarray(5, 5 + inner.length));
    expect(d).toMatchObject({ count: 2, height: 1, width: 2, channels: 3 });
    expect([...d.labels]).toEqual([7, 8]);
    expect(d.pixels.length).toBe(12);
  });

  it('accepts an empty data set', () => {
    expect(decodeDataset(encodeDataset([], 28, 28, 1)).count).toBe(0);
  });

  it('rejects bad magic', () => {
    const bytes = encodeDataset([1], 1, 1, 1);
    bytes[0] = 0x58;
    expect(() => decodeDataset(bytes)).toThrow(/bad magic "XEDS"/);
  });

  it('rejects an unsupported version', () => {
    const bytes = encodeDataset([1], 1, 1, 1);
    bytes[4] = 2;
    expect(() => decodeDataset(bytes)).toThrow(/unsupported format version 2/);
  });

  it('rejects a truncated header', () => {
    expect(() => decodeDataset(encodeDataset([1], 1, 1, 1).subarray(0, 10))).toThrow(/truncated header/);
  });

  it('rejects truncated data and trailing bytes', () => {
    const bytes = encodeDataset([1, 2], 2, 2, 1);
    expect(() => decodeDataset(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated data/);
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expect(() => decodeDataset(longer)).toThrow(/3 unexpected trailing bytes/);
  });

  it('rejects a zero-sized image shape', () => {
    expect(() => decodeDataset(encodeDataset([], 0, 28, 1))).toThrow(/invalid image shape/);
  });

  it('rejects still-gzipped input with a clear message', () => {
    expect(() => decodeDataset(new Uint8Array(gzipSync(encodeDataset([1], 1, 1, 1))))).toThrow(/gzip/);
  });
});

describe('isGzip', () => {
  it('detects the gzip magic', () => {
    expect(isGzip(new Uint8Array(gzipSync(new Uint8Array([1, 2, 3]))))).toBe(true);
    expect(isGzip(new Uint8Array([0x1f, 0x8b]))).toBe(true);
    expect(isGzip(new Uint8Array([0x1f]))).toBe(false);
    expect(isGzip(new Uint8Array([]))).toBe(false);
    expect(isGzip(encodeDataset([1], 1, 1, 1))).toBe(false);
  });
});

const ASSETS = [
  { info: DATASET_INFO.mnist, meanRange: [25, 40] }, // MNIST mean pixel ≈ 33
  { info: DATASET_INFO['fashion-mnist'], meanRange: [60, 90] }, // Fashion-MNIST mean pixel ≈ 73
] as const;

for (const { info, meanRange } of ASSETS) {
  const path = fileURLToPath(new URL(`../../public/data/${info.file}`, import.meta.url));
  const present = existsSync(path);
  const title = present
    ? `built asset public/data/${info.file}`
    : `built asset public/data/${info.file} (SKIPPED: file absent; run \`npm run data\` to build it)`;
  describe.skipIf(!present)(title, () => {
    it(`decodes ${info.count} images with all 10 labels and plausible pixels`, () => {
      const gz = new Uint8Array(readFileSync(path));
      expect(isGzip(gz)).toBe(true);
      const d = decodeDataset(new Uint8Array(gunzipSync(gz)));
      expect(d.count).toBe(info.count);
      expect([d.height, d.width, d.channels]).toEqual(info.shape);
      const perClass = new Array<number>(10).fill(0);
      let maxLabel = 0;
      for (const l of d.labels) {
        if (l > maxLabel) maxLabel = l;
        if (l < 10) perClass[l]++;
      }
      expect(maxLabel).toBe(9);
      for (const n of perClass) expect(n).toBeGreaterThan(0);
      let sum = 0;
      let max = 0;
      const px = d.pixels;
      for (let i = 0; i < px.length; i++) {
        const v = px[i];
        sum += v;
        if (v > max) max = v;
      }
      const mean = sum / d.pixels.length;
      expect(max).toBe(255);
      expect(mean).toBeGreaterThan(meanRange[0]);
      expect(mean).toBeLessThan(meanRange[1]);
    });
  });
}
