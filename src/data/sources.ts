/**
 * One way to get the images of any data set id (#17): asset sets are fetched (load.ts), synthetic sets
 * generated from their fixed seed (synthetic.ts), own sets read from this browser's IndexedDB
 * (storage/imagesDb.ts). Works in the worker and in Node (the bench). No React, no tfjs.
 */
import { DATASET_INFO, registerOwnDataset, type DatasetInfo } from './catalogue';
import type { DecodedDataset } from './decode';
import { loadDataset, type ProgressCallback } from './load';
import { generateShapes, type SyntheticSet } from './synthetic';
import { isBuiltinDataset, type DatasetId } from '../model/spec';
import { openImagesDb, ownSetInfo, type ImagesDb } from '../storage/imagesDb';

const synthetic = new Map<string, SyntheticSet>();

function syntheticSet(info: DatasetInfo): SyntheticSet {
  const cached = synthetic.get(info.id);
  if (cached) return cached;
  const [size, , channels] = info.shape;
  const set = generateShapes({ count: info.count, size, channels: channels === 3 ? 3 : 1, seed: info.splitSeed });
  synthetic.set(info.id, set);
  return set;
}

/** The synthetic set `info` (generated once per context, then cached). */
export function syntheticDataset(info: DatasetInfo): DecodedDataset {
  const set = syntheticSet(info);
  return { count: set.count, height: set.height, width: set.width, channels: set.channels, labels: set.labels, pixels: set.pixels };
}

/** What the latent map can colour by besides the label: each factor's name for people, and its index in the set's factors. */
const FACTOR_LABELS: Record<string, string> = { cx: 'x position', cy: 'y position', size: 'size', hue: 'hue' };

/**
 * A synthetic set's generating factors (but the shape, which is the label) of the images `indices`:
 * names and indices.length × names.length values; hue only for RGB sets. Null for other sets.
 */
export function syntheticFactors(info: DatasetInfo, indices: Uint32Array): { names: string[]; values: Float32Array } | null {
  if (info.kind !== 'synthetic') return null;
  const set = syntheticSet(info);
  const nf = set.factorNames.length;
  const keep = set.factorNames.map((name, j) => ({ name, j })).filter(({ name }) => name in FACTOR_LABELS && (name !== 'hue' || set.channels === 3));
  const values = new Float32Array(indices.length * keep.length);
  indices.forEach((i, k) => keep.forEach(({ j }, f) => (values[k * keep.length + f] = set.factors[i * nf + j])));
  return { names: keep.map(({ name }) => FACTOR_LABELS[name]), values };
}

let imagesDb: ImagesDb | null = null;

/** The pixels and metadata of data set `id`; an own set is registered in the catalogue as it is read. */
export async function loadAnyDataset(id: DatasetId, baseUrl: string, onProgress?: ProgressCallback): Promise<{ info: DatasetInfo; data: DecodedDataset }> {
  if (isBuiltinDataset(id)) {
    const info = DATASET_INFO[id];
    if (info.kind === 'synthetic') return { info, data: syntheticDataset(info) };
    return { info, data: await loadDataset(info, baseUrl, onProgress) };
  }
  const name = id.slice('own:'.length);
  imagesDb ??= openImagesDb();
  const stored = await imagesDb.read(name);
  if (!stored) {
    throw new Error(`The image set “${name}” is not in this browser (own images stay on the computer that imported them). Import images under that name, or choose a built-in data set.`);
  }
  const info = ownSetInfo(stored.meta);
  registerOwnDataset(info);
  const { meta, data } = stored;
  return { info, data: { count: meta.count, height: meta.height, width: meta.width, channels: meta.channels, labels: data.labels, pixels: data.pixels } };
}

/** A built-in set with the same image shape as `info` but other images (for the copy test), or null. */
export function otherDatasetLike(info: DatasetInfo): DatasetInfo | null {
  const same = (d: DatasetInfo): boolean => d.id !== info.id && d.shape.every((v, i) => v === info.shape[i]);
  const order = [DATASET_INFO.mnist, DATASET_INFO['fashion-mnist'], DATASET_INFO['shapes-rgb'], DATASET_INFO.shapes];
  // MNIST and Fashion-MNIST are each other's natural other set.
  if (info.id === 'mnist') return DATASET_INFO['fashion-mnist'];
  return order.find(same) ?? null;
}
