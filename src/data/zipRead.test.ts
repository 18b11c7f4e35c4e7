import { describe, expect, it } from 'vitest';
import { zipSync, type Zippable } from 'fflate';
import { isZip, readZip, ZipError } from './zipRead';

function bytesOf(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Deterministic pseudo-random bytes (poorly compressible). */
function noise(n: number, seed = 1): Uint8Array {
  let s = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 1) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

/** Byte-exact comparison (vitest's deep equality is slow on megabyte arrays). */
function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/** Highly compressible bytes. */
function ramp(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => i % 7);
}

async function expectZipError(p: Promise<unknown>, pattern: RegExp): Promise<ZipError> {
  const e: unknown = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ZipError);
  const ze = e as ZipError;
  expect(ze.message).toMatch(pattern);
  return ze;
}

describe('isZip', () => {
  it('recognises local-file and empty-archive magic', () => {
    expect(isZip(zipSync({ 'a.txt': bytesOf('hi') }))).toBe(true);
    expect(isZip(zipSync({}))).toBe(true);
    expect(isZip(new Uint8Array([0x50, 0x4b, 0x05, 0x06]))).toBe(true);
    expect(isZip(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]))).toBe(false);
    expect(isZip(new Uint8Array([0x50, 0x4b]))).toBe(false);
    expect(isZip(new Uint8Array(0))).toBe(false);
  });
});

describe('readZip', () => {
  it('keeps nested paths and skips directories, __MACOSX and dot-files', async () => {
    const zip = zipSync({
      cats: { 'a.png': bytesOf('cat a'), sub: { 'b.png': bytesOf('cat b') }, '.DS_Store': bytesOf('x') },
      'dogs/': new Uint8Array(0),
      'dogs/c.png': bytesOf('dog c'),
      __MACOSX: { cats: { '._a.png': bytesOf('fork') } },
      '.hidden': bytesOf('h'),
      'top.png': bytesOf('top'),
    });
    const entries = await readZip(zip);
    const byPath = new Map(entries.map((e) => [e.path, new TextDecoder().decode(e.bytes)]));
    expect([...byPath.keys()].sort()).toEqual(['cats/a.png', 'cats/sub/b.png', 'dogs/c.png', 'top.png']);
    expect(byPath.get('cats/a.png')).toBe('cat a');
    expect(byPath.get('cats/sub/b.png')).toBe('cat b');
    expect(byPath.get('dogs/c.png')).toBe('dog c');
  });

  it('respects the filter: non-matching entries are not returned', async () => {
    const zip = zipSync({ 'a.png': bytesOf('a'), 'b.jpg': bytesOf('b'), 'notes.txt': bytesOf('n'), d: { 'c.PNG': bytesOf('c') } });
    const seen: string[] = [];
    const entries = await readZip(zip, {
      filter: (p) => {
        seen.push(p);
        return /\.(png|jpe?g)$/i.test(p);
      },
    });
    expect(entries.map((e) => e.path).sort()).toEqual(['a.png', 'b.jpg', 'd/c.PNG']);
    expect(seen).toContain('notes.txt');
  });

  it('round-trips stored and deflated entries byte-exact', async () => {
    const stored = noise(3000, 7);
    const deflated = ramp(200_000);
    const big = ramp(1_500_000); // above fflate's synchronous threshold: inflated asynchronously
    const zip = zipSync({
      's.bin': [stored, { level: 0 }],
      'd.bin': [deflated, { level: 6 }],
      'big.bin': [big, { level: 9 }],
    });
    expect(zip.length).toBeLessThan(stored.length + deflated.length); // really compressed
    const entries = await readZip(zip);
    const byPath = new Map(entries.map((e) => [e.path, e.bytes]));
    expect(sameBytes(byPath.get('s.bin'), stored)).toBe(true);
    expect(sameBytes(byPath.get('d.bin'), deflated)).toBe(true);
    expect(sameBytes(byPath.get('big.bin'), big)).toBe(true);
  });

  it('returns [] for an empty archive', async () => {
    expect(await readZip(zipSync({}))).toEqual([]);
    expect(await readZip(zipSync({ 'only/': new Uint8Array(0), '.DS_Store': bytesOf('x') }))).toEqual([]);
  });

  it('throws a readable ZipError for truncated and random bytes', async () => {
    const zip = zipSync({ 'a.png': ramp(5000), 'b.png': noise(5000) });
    const e1 = await expectZipError(readZip(zip.slice(0, Math.floor(zip.length / 2))), /is not a readable zip file: \S/);
    expect(e1.name).toBe('ZipError');
    await expectZipError(readZip(noise(10_000, 3)), /^The file is not a readable zip file: \S/);
    await expectZipError(readZip(new Uint8Array(0), { name: 'photos.zip' }), /^photos\.zip is not a readable zip file/);
  });

  it('throws ZipError when a deflated entry is corrupt', async () => {
    const zip = zipSync({ 'a.bin': [ramp(4000), { level: 6 }] });
    const bad = zip.slice();
    const dataStart = 30 + 'a.bin'.length; // local header + name, no extra field
    bad.fill(0xff, dataStart, dataStart + 8);
    await expectZipError(readZip(bad), /is not a readable zip file/);
  });

  it('enforces the entry-count limit before inflating anything', async () => {
    const files: Zippable = {};
    for (let i = 0; i < 20; i += 1) files[`img/${i}.png`] = [ramp(4000), { level: 6 }];
    const zip = zipSync(files);
    // Corrupt every deflate stream: inflating anything would fail with a different message.
    const bad = zip.slice();
    let o = 0;
    while (bad[o] === 0x50 && bad[o + 1] === 0x4b && bad[o + 2] === 0x03 && bad[o + 3] === 0x04) {
      const size = (bad[o + 18] ?? 0) | ((bad[o + 19] ?? 0) << 8) | ((bad[o + 20] ?? 0) << 16) | ((bad[o + 21] ?? 0) << 24);
      const nameLen = (bad[o + 26] ?? 0) | ((bad[o + 27] ?? 0) << 8);
      const extraLen = (bad[o + 28] ?? 0) | ((bad[o + 29] ?? 0) << 8);
      const start = o + 30 + nameLen + extraLen;
      bad.fill(0xff, start, start + Math.min(8, size));
      o = start + size;
    }
    await expectZipError(readZip(bad), /is not a readable zip file/); // sanity: corruption is seen when inflating
    await expectZipError(readZip(bad, { maxEntries: 10 }), /20 files, more than the limit of 10 entries/);
    await expectZipError(readZip(bad, { maxTotalBytes: 50_000 }), /80,000 bytes, more than the limit of 50,000 bytes/);
    // Only entries passing the filter count towards the limits.
    await expectZipError(readZip(bad, { maxEntries: 10, filter: (p) => p === 'img/1.png' || p === 'img/2.png' }), /not a readable zip file/);
    expect(await readZip(zip, { maxEntries: 20, maxTotalBytes: 80_000 })).toHaveLength(20);
  });
});
