/**
 * "Download images (.npz)" (#17): the train and test images of a synthetic or own data set, with their
 * labels, as NumPy arrays in one .npz, in the app's split, for the exported PyTorch and Keras scripts
 * (`--data FILE.npz`): the path past this browser for data no public mirror has.
 */
import { DATASET_INFO, datasetInfo } from '../data/catalogue';
import { npzBytes } from '../data/npz';
import { splitIndices } from '../data/split';
import { syntheticDataset } from '../data/sources';
import type { DecodedDataset } from '../data/decode';
import { isBuiltinDataset, ownDatasetId, type DatasetId } from '../model/spec';
import { openImagesDb } from '../storage/imagesDb';

function save(bytes: Uint8Array, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes.slice().buffer], { type: 'application/zip' }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** The .npz bytes of a data set: train, test (N×H×W×C uint8) and train_labels, test_labels. */
export function datasetNpz(data: DecodedDataset, testCount: number, splitSeed: number): Uint8Array {
  const { train, test } = splitIndices(data.count, testCount, splitSeed);
  const per = data.height * data.width * data.channels;
  const take = (idx: Uint32Array): { data: Uint8Array; shape: number[] } => {
    const out = new Uint8Array(idx.length * per);
    idx.forEach((i, k) => out.set(data.pixels.subarray(i * per, (i + 1) * per), k * per));
    return { data: out, shape: [idx.length, data.height, data.width, data.channels] };
  };
  const labels = (idx: Uint32Array): { data: Uint8Array; shape: number[] } => ({ data: Uint8Array.from(idx, (i) => data.labels[i]), shape: [idx.length] });
  return npzBytes({ train: take(train), test: take(test), train_labels: labels(train), test_labels: labels(test) });
}

const fileName = (label: string): string => `${label.replace(/[^\p{L}\p{N}_.-]+/gu, '-').replace(/^-+|-+$/g, '') || 'images'}.npz`;

/** Downloads a synthetic or own set as .npz; throws with a message when it cannot. */
export async function downloadDatasetNpz(id: DatasetId): Promise<void> {
  if (isBuiltinDataset(id)) {
    const info = DATASET_INFO[id];
    if (info.kind !== 'synthetic') throw new Error(`${info.label} is downloaded by the exported scripts themselves`);
    save(datasetNpz(syntheticDataset(info), info.testCount, info.splitSeed), fileName(id));
    return;
  }
  const info = datasetInfo(id);
  const db = openImagesDb();
  try {
    const stored = await db.read(id.slice('own:'.length));
    if (!stored || !info) throw new Error(`the image set “${id.slice(4)}” is not in this browser`);
    const { meta, data } = stored;
    save(datasetNpz({ count: meta.count, height: meta.height, width: meta.width, channels: meta.channels, labels: data.labels, pixels: data.pixels }, meta.testCount, meta.splitSeed), fileName(meta.name));
  } finally {
    db.close();
  }
}

export function downloadOwnSetNpz(name: string): Promise<void> {
  return downloadDatasetNpz(ownDatasetId(name));
}
