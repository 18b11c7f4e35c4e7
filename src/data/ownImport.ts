/**
 * Turning dropped files into an own image set (#17), in the page: folders are walked, zips read
 * (fflate, in zipRead.ts), each image decoded by the browser (createImageBitmap), cropped to its centre
 * square and resized by area averaging to the chosen size and colour (imageOps.ts), then the set is
 * saved to IndexedDB with a seeded train/test split. Nothing leaves the browser. Files that are not
 * images, or that fail to decode, are listed with why and skipped. No React, no tfjs.
 */
import { prepareImage, type RgbaImage } from './imageOps';
import { isZip, readZip } from './zipRead';
import type { OwnSetMeta, OwnSetPixels } from '../storage/imagesDb';
import { MAX_OWN_NAME_CHARS, OWN_NAME_PATTERN } from '../model/spec';

/** A file with the path it had in the dropped folder or zip ("cats/tom.png"). */
export interface InputFile {
  path: string;
  blob: Blob;
}

export const IMAGE_SIZES = [16, 28, 32, 48, 64] as const;
/** Most images one set may hold (10,000 are fine; beyond this the import stops and says so). */
export const MAX_OWN_IMAGES = 20_000;
/** Images above this many pixels are refused rather than decoded (a 6000×6000 photo is 36 million). */
export const MAX_IMAGE_PIXELS = 100_000_000;
/** Share of the images held out for testing (at least one). */
export const OWN_TEST_SHARE = 0.15;
/** Seed of every own set's train/test split. */
export const OWN_SPLIT_SEED = 17;

const IMAGE_EXT = /\.(png|jpe?g|gif|bmp|webp|avif|ico|svg)$/i;
const IGNORED = (path: string): boolean => path.split('/').some((p) => p.startsWith('.') || p === '__MACOSX') || /(^|\/)(thumbs\.db|desktop\.ini)$/i.test(path);

export interface ImportOptions {
  name: string;
  size: number;
  channels: 1 | 3;
  /** Called as the import goes: what it is doing, how far (done of total; total 0 while unknown). */
  onProgress?: (p: { phase: 'reading' | 'decoding' | 'saving'; done: number; total: number }) => void;
  /** Checked between images: true stops the import (nothing is saved). */
  cancelled?: () => boolean;
  save: (meta: OwnSetMeta, data: OwnSetPixels) => Promise<void>;
}

export interface ImportResult {
  meta: OwnSetMeta;
  /** Files left out, with why. */
  skipped: { file: string; reason: string }[];
  /** Images beyond MAX_OWN_IMAGES that were not imported. */
  dropped: number;
}

/** A set name is valid when it matches OWN_NAME_PATTERN; returns why not, or null. */
export function nameProblem(name: string): string | null {
  if (name.length === 0) return 'Give the image set a name.';
  if (name.length > MAX_OWN_NAME_CHARS) return `The name is too long (at most ${MAX_OWN_NAME_CHARS} characters).`;
  if (!OWN_NAME_PATTERN.test(name)) return 'Use letters, digits, spaces and - _ . ( ) only, not starting or ending with a space.';
  return null;
}

/** A name for the set from what was dropped: the folder's or zip's name, made valid; "My images" otherwise. */
export function suggestName(files: readonly InputFile[]): string {
  const first = files[0]?.path ?? '';
  const top = first.includes('/') ? first.split('/')[0] : files.length === 1 && /\.zip$/i.test(first) ? first.replace(/\.zip$/i, '') : '';
  const cleaned = top.replace(/[^\p{L}\p{N} _.()-]/gu, ' ').replace(/\s+/g, ' ').trim().slice(0, MAX_OWN_NAME_CHARS).trim();
  return cleaned && !nameProblem(cleaned) ? cleaned : 'My images';
}

/** `name`, or `name (2)`, `name (3)`… the first not in `taken`. */
export function uniqueName(name: string, taken: readonly string[]): string {
  if (!taken.includes(name)) return name;
  for (let i = 2; ; i++) {
    const suffix = ` (${i})`;
    const candidate = `${name.slice(0, MAX_OWN_NAME_CHARS - suffix.length).trim()}${suffix}`;
    if (!taken.includes(candidate)) return candidate;
  }
}

/**
 * Labels from folder names: each image's label is the folder it sits in (relative to what was dropped).
 * When all images share one folder, there is one class, 'all'. More than 255 folders: one class too.
 */
export function labelsFromPaths(paths: readonly string[]): { labels: Uint8Array; classNames: string[] } {
  const folderOf = (p: string): string => {
    const parts = p.split('/');
    return parts.length >= 2 ? parts[parts.length - 2] : '';
  };
  const folders = [...new Set(paths.map(folderOf))].sort((a, b) => a.localeCompare(b));
  if (folders.length < 2 || folders.length > 255) return { labels: new Uint8Array(paths.length), classNames: ['all'] };
  const index = new Map(folders.map((f, i) => [f, i]));
  return { labels: Uint8Array.from(paths, (p) => index.get(folderOf(p)) ?? 0), classNames: folders.map((f) => f || '(top)') };
}

/** How many of `count` images are held out for testing. */
export function testCountFor(count: number): number {
  return Math.min(count - 1, Math.max(1, Math.round(count * OWN_TEST_SHARE)));
}

/** Files, with zips expanded into their image entries; a zip that cannot be read is listed as skipped. */
export async function expandZips(files: readonly InputFile[], skipped: { file: string; reason: string }[], cancelled?: () => boolean): Promise<InputFile[]> {
  const out: InputFile[] = [];
  for (const f of files) {
    if (cancelled?.()) break;
    if (IGNORED(f.path)) continue;
    const looksZip = /\.zip$/i.test(f.path) || f.blob.type === 'application/zip';
    if (!looksZip) {
      out.push(f);
      continue;
    }
    const bytes = new Uint8Array(await f.blob.arrayBuffer());
    if (!isZip(bytes)) {
      skipped.push({ file: f.path, reason: 'not a readable zip file (it does not start like one)' });
      continue;
    }
    try {
      const entries = await readZip(bytes, { filter: (p) => IMAGE_EXT.test(p), maxEntries: MAX_OWN_IMAGES * 5 });
      const base = f.path.replace(/\.zip$/i, '');
      for (const e of entries) out.push({ path: `${base}/${e.path}`, blob: new Blob([e.bytes.slice().buffer]) });
    } catch (err) {
      skipped.push({ file: f.path, reason: err instanceof Error ? err.message.replace(/^.*?is not a readable zip file/, 'not a readable zip file') : String(err) });
    }
  }
  return out;
}

/** Decodes one image file to RGBA at a size near `target` (the browser downsizes large photos first). */
async function decode(blob: Blob, target: number): Promise<RgbaImage> {
  const bitmap = await createImageBitmap(blob);
  try {
    const { width, height } = bitmap;
    if (width * height > MAX_IMAGE_PIXELS) throw new Error(`too large to decode (${width}×${height} pixels; the most is ${MAX_IMAGE_PIXELS / 1e6} million)`);
    const side = Math.min(width, height);
    // The centre square, drawn by the browser at up to 8× the target (so a 6000×6000 photo costs one
    // draw, not 36 million pixels of JavaScript), then area-averaged exactly by prepareImage.
    const inter = Math.max(target, Math.min(side, target * 8));
    const canvas = new OffscreenCanvas(inter, inter);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('this browser cannot draw images off screen');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, inter, inter);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, Math.floor((width - side) / 2), Math.floor((height - side) / 2), side, side, 0, 0, inter, inter);
    const data = ctx.getImageData(0, 0, inter, inter).data;
    return { width: inter, height: inter, data };
  } finally {
    bitmap.close();
  }
}

/** Reads, resizes and saves an own image set. Throws (nothing saved) when no image could be read or saving fails. */
export async function importImages(files: readonly InputFile[], opts: ImportOptions): Promise<ImportResult> {
  const problem = nameProblem(opts.name);
  if (problem) throw new Error(problem);
  const skipped: { file: string; reason: string }[] = [];
  opts.onProgress?.({ phase: 'reading', done: 0, total: files.length });
  const expanded = await expandZips(files, skipped, opts.cancelled);
  const candidates: InputFile[] = [];
  for (const f of expanded) {
    if (IGNORED(f.path)) continue;
    if (f.blob.type.startsWith('image/') || IMAGE_EXT.test(f.path)) candidates.push(f);
    else skipped.push({ file: f.path, reason: `not an image${f.blob.type ? ` (${f.blob.type})` : ''}` });
  }
  candidates.sort((a, b) => a.path.localeCompare(b.path));
  const dropped = Math.max(0, candidates.length - MAX_OWN_IMAGES);
  const chosen = candidates.slice(0, MAX_OWN_IMAGES);
  if (chosen.length === 0) {
    const why = skipped.length > 0 ? ` ${skipped.length} file${skipped.length === 1 ? ' was' : 's were'} skipped: ${skipped.slice(0, 3).map((s) => `${s.file} (${s.reason})`).join('; ')}${skipped.length > 3 ? '; …' : ''}.` : '';
    throw new Error(files.length === 0 || (expanded.length === 0 && skipped.length === 0) ? 'No images found: the folder or zip is empty.' : `No images found.${why}`);
  }
  const per = opts.size * opts.size * opts.channels;
  const pixels = new Uint8Array(chosen.length * per);
  const paths: string[] = [];
  let count = 0;
  const total = chosen.length;
  // A few decodes in flight at once (the browser decodes on other threads); results kept in order.
  const PARALLEL = 4;
  for (let from = 0; from < total; from += PARALLEL) {
    if (opts.cancelled?.()) throw new Error('Import cancelled: nothing was saved.');
    const group = chosen.slice(from, from + PARALLEL);
    const decoded = await Promise.all(group.map((f) => decode(f.blob, opts.size).then((img) => ({ img }), (err: unknown) => ({ err }))));
    decoded.forEach((d, i) => {
      const f = group[i];
      if ('err' in d) {
        const reason = d.err instanceof Error && /too large/.test(d.err.message) ? d.err.message : 'could not be decoded as an image (damaged, or a format this browser does not read)';
        skipped.push({ file: f.path, reason });
        return;
      }
      pixels.set(prepareImage(d.img, opts.size, opts.channels), count * per);
      paths.push(f.path);
      count++;
    });
    opts.onProgress?.({ phase: 'decoding', done: Math.min(total, from + PARALLEL), total });
  }
  if (count < 2) {
    throw new Error(`Only ${count} image${count === 1 ? '' : 's'} could be read; a set needs at least 2 (one to train on, one to test). ${skipped.length} file${skipped.length === 1 ? '' : 's'} skipped.`);
  }
  const { labels, classNames } = labelsFromPaths(paths);
  const meta: OwnSetMeta = {
    name: opts.name,
    createdAt: Date.now(),
    height: opts.size,
    width: opts.size,
    channels: opts.channels,
    count,
    testCount: testCountFor(count),
    splitSeed: OWN_SPLIT_SEED,
    classNames,
    skipped: skipped.slice(0, 200),
  };
  opts.onProgress?.({ phase: 'saving', done: count, total: count });
  await opts.save(meta, { name: opts.name, labels, pixels: pixels.slice(0, count * per) });
  return { meta, skipped, dropped };
}
