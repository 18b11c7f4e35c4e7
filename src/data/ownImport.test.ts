/** The pure parts of importing own images (#17): names, labels, the test split's size, zips. */
import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { MAX_OWN_NAME_CHARS } from '../model/spec';
import { expandZips, labelsFromPaths, nameProblem, suggestName, testCountFor, uniqueName, type InputFile } from './ownImport';

const file = (path: string, content: string | Uint8Array = 'x', type = ''): InputFile => ({
  path,
  blob: new Blob([typeof content === 'string' ? content : content.slice().buffer], { type }),
});

describe('nameProblem', () => {
  it.each(['a', 'My images', 'cats_2024', 'Photos (old)', 'v1.2-final', 'Ünïcödé', '猫', 'a'.repeat(40), 'x y'])('accepts %j', (name) => {
    expect(nameProblem(name)).toBeNull();
  });

  it.each([
    ['', /name/],
    ['a'.repeat(41), /too long/],
    [' leading', /space/],
    ['trailing ', /space/],
    ['a/b', /letters/],
    ['a\\b', /letters/],
    ['cat 🐱', /letters/],
    ['tab\there', /letters/],
    ['colon:', /letters/],
  ])('rejects %j', (name, why) => {
    const p = nameProblem(name);
    expect(p).not.toBeNull();
    expect(p).toMatch(why);
  });
});

describe('uniqueName', () => {
  it('keeps a free name, numbers a taken one from (2)', () => {
    expect(uniqueName('a', [])).toBe('a');
    expect(uniqueName('a', ['b'])).toBe('a');
    expect(uniqueName('a', ['a'])).toBe('a (2)');
    expect(uniqueName('a', ['a', 'a (2)'])).toBe('a (3)');
    expect(uniqueName('a', ['a', 'a (3)'])).toBe('a (2)');
  });

  it('a 40-character name stays within 40 characters and valid', () => {
    const long = 'b'.repeat(40);
    const one = uniqueName(long, [long]);
    expect(one).toBe(`${'b'.repeat(36)} (2)`);
    expect(one.length).toBeLessThanOrEqual(MAX_OWN_NAME_CHARS);
    expect(nameProblem(one)).toBeNull();
    const taken = [long];
    for (let i = 0; i < 12; i++) {
      const next = uniqueName(long, taken);
      expect(taken).not.toContain(next);
      expect(next.length).toBeLessThanOrEqual(MAX_OWN_NAME_CHARS);
      expect(nameProblem(next)).toBeNull();
      taken.push(next);
    }
    expect(taken[taken.length - 1]).toBe(`${'b'.repeat(35)} (13)`);
  });

  it('a cut that ends in a space is trimmed so the name stays valid', () => {
    const name = `${'c'.repeat(35)} dddd`; // 40 chars; the first 36 end in a space
    expect(name.length).toBe(40);
    const next = uniqueName(name, [name]);
    expect(next).toBe(`${'c'.repeat(35)} (2)`);
    expect(nameProblem(next)).toBeNull();
  });
});

describe('suggestName', () => {
  it('a dropped folder gives the folder’s name', () => {
    expect(suggestName([file('holiday/cats/a.png'), file('holiday/dogs/b.png')])).toBe('holiday');
  });
  it('a single zip gives its name without .zip', () => {
    expect(suggestName([file('photos.zip')])).toBe('photos');
    expect(suggestName([file('Photos.ZIP')])).toBe('Photos');
  });
  it('loose files give “My images”', () => {
    expect(suggestName([file('a.png'), file('b.png')])).toBe('My images');
    expect(suggestName([file('a.png')])).toBe('My images');
    expect(suggestName([])).toBe('My images');
  });
  it('a folder name with characters a name may not hold is cleaned into a valid name', () => {
    const s = suggestName([file('my:stuff!/a.png')]);
    expect(s).toBe('my stuff');
    expect(nameProblem(s)).toBeNull();
    const long = suggestName([file(`${'z'.repeat(60)}/a.png`)]);
    expect(long).toBe('z'.repeat(40));
    expect(suggestName([file('🐱🐶/a.png')])).toBe('My images');
  });
});

describe('labelsFromPaths', () => {
  it('two folders: labels by folder, classes sorted by folder name', () => {
    const r = labelsFromPaths(['dogs/a.png', 'cats/b.png', 'dogs/c.png', 'cats/d.png', 'birds/e.png']);
    expect(r.classNames).toEqual(['birds', 'cats', 'dogs']);
    expect(Array.from(r.labels)).toEqual([2, 1, 2, 1, 0]);
  });
  it('labels come from the innermost folder, under a dropped top folder', () => {
    const r = labelsFromPaths(['set/dogs/a.png', 'set/cats/b.png']);
    expect(r.classNames).toEqual(['cats', 'dogs']);
    expect(Array.from(r.labels)).toEqual([1, 0]);
  });
  it('one folder: one class, “all”', () => {
    const r = labelsFromPaths(['cats/a.png', 'cats/b.png', 'cats/c.png']);
    expect(r.classNames).toEqual(['all']);
    expect(Array.from(r.labels)).toEqual([0, 0, 0]);
  });
  it('loose files only: one class, “all”', () => {
    const r = labelsFromPaths(['a.png', 'b.png']);
    expect(r.classNames).toEqual(['all']);
    expect(Array.from(r.labels)).toEqual([0, 0]);
  });
  it('files at the top plus a folder: the top files are a class of their own, “(top)”', () => {
    const r = labelsFromPaths(['a.png', 'cats/b.png', 'c.png']);
    expect(r.classNames).toEqual(['(top)', 'cats']);
    expect(Array.from(r.labels)).toEqual([0, 1, 0]);
  });
  it('more than 255 folders: one class', () => {
    const paths = Array.from({ length: 256 }, (_, i) => `f${i}/a.png`);
    const r = labelsFromPaths(paths);
    expect(r.classNames).toEqual(['all']);
    expect(r.labels.every((v) => v === 0)).toBe(true);
    const r255 = labelsFromPaths(paths.slice(0, 255));
    expect(r255.classNames).toHaveLength(255);
    expect(new Set(r255.labels).size).toBe(255);
  });
});

describe('testCountFor', () => {
  it('is round(0.15 · n), at least 1 and at most n − 1 (hand values)', () => {
    // n: expected (0.15 n)
    const cases: [number, number][] = [
      [2, 1], // 0.3 → 0 → at least 1
      [3, 1], // 0.45 → 0 → 1
      [4, 1], // 0.6 → 1
      [7, 1], // 1.05 → 1
      [10, 2], // 1.5 → 2
      [13, 2], // 1.95 → 2
      [20, 3], // 3
      [100, 15],
      [1000, 150],
      [20000, 3000],
    ];
    for (const [n, t] of cases) expect([n, testCountFor(n)]).toEqual([n, t]);
  });
  it('always leaves at least one image to train on and one to test, for n from 2 to 2000', () => {
    for (let n = 2; n <= 2000; n++) {
      const t = testCountFor(n);
      expect(t).toBeGreaterThanOrEqual(1);
      expect(t).toBeLessThanOrEqual(n - 1);
      expect(Math.abs(t - 0.15 * n)).toBeLessThanOrEqual(n < 7 ? 1 : 0.5);
    }
  });
});

describe('expandZips', () => {
  const png = (n: number): Uint8Array => Uint8Array.from({ length: 20 + n }, (_, i) => (i * 13 + n) % 256);

  it('returns the image entries of a zip, prefixed by the zip’s name; junk and non-images are left out', async () => {
    const zip = zipSync({
      'cats/a.png': png(1),
      'dogs/b.png': png(2),
      'notes.txt': strToU8('hello'),
      '__MACOSX/x.png': png(3),
      'cats/.hidden.png': png(4),
    });
    const skipped: { file: string; reason: string }[] = [];
    const out = await expandZips([file('pets.zip', zip)], skipped);
    expect(skipped).toEqual([]);
    expect(out.map((f) => f.path).sort()).toEqual(['pets/cats/a.png', 'pets/dogs/b.png']);
    const a = out.find((f) => f.path === 'pets/cats/a.png');
    const b = out.find((f) => f.path === 'pets/dogs/b.png');
    expect(Array.from(new Uint8Array(await (a?.blob ?? new Blob()).arrayBuffer()))).toEqual(Array.from(png(1)));
    expect(Array.from(new Uint8Array(await (b?.blob ?? new Blob()).arrayBuffer()))).toEqual(Array.from(png(2)));
  });

  it('passes other files through unchanged and drops ignored paths', async () => {
    const skipped: { file: string; reason: string }[] = [];
    const img = file('top/a.png', 'abc');
    const txt = file('top/readme.txt', 'hi');
    const out = await expandZips([img, txt, file('top/.DS_Store'), file('__MACOSX/top/a.png'), file('top/Thumbs.db')], skipped);
    expect(out).toEqual([img, txt]);
    expect(skipped).toEqual([]);
  });

  it('a corrupt zip (starts with PK\\x03\\x04, then garbage) is skipped as not a readable zip file', async () => {
    const bytes = new Uint8Array(200);
    bytes.set([0x50, 0x4b, 0x03, 0x04]);
    let s = 12345;
    for (let i = 4; i < bytes.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      bytes[i] = s >>> 24;
    }
    const skipped: { file: string; reason: string }[] = [];
    const good = zipSync({ 'a.png': png(5) });
    const out = await expandZips([file('broken.zip', bytes), file('ok.zip', good)], skipped);
    expect(skipped).toHaveLength(1);
    expect(skipped[0].file).toBe('broken.zip');
    expect(skipped[0].reason).toMatch(/^not a readable zip file/);
    // The other zip still comes through.
    expect(out.map((f) => f.path)).toEqual(['ok/a.png']);
  });

  it('a file named .zip that is not a zip is skipped likewise', async () => {
    const skipped: { file: string; reason: string }[] = [];
    const out = await expandZips([file('x.zip', 'this is plain text, not a zip')], skipped);
    expect(out).toEqual([]);
    expect(skipped).toEqual([{ file: 'x.zip', reason: expect.stringContaining('not a readable zip file') as unknown as string }]);
  });

  it('a blob of type application/zip without the .zip name is expanded too', async () => {
    const skipped: { file: string; reason: string }[] = [];
    const zip = zipSync({ 'd/q.jpg': png(6) });
    const out = await expandZips([file('download', zip, 'application/zip')], skipped);
    expect(out.map((f) => f.path)).toEqual(['download/d/q.jpg']);
  });

  it('stops when cancelled', async () => {
    const skipped: { file: string; reason: string }[] = [];
    const out = await expandZips([file('a.png'), file('b.png')], skipped, () => true);
    expect(out).toEqual([]);
  });
});
