/**
 * "Download images (.npz)" (#17): the train and test images of a synthetic or own data set, with their
 * labels, as NumPy arrays in one .npz, in the app's split, for the exported PyTorch and Keras scripts
 * (`--data FILE.npz`): the path past this browser for data no public mirror has.
 */
import { DATASET_INFO, datasetInfo } from '../data/catalogue';
import { datasetNpz } from '../data/datasetNpz';
import { syntheticDataset } from '../data/sources';
import { isBuiltinDataset, ownDatasetId, type DatasetId } from '../model/spec';
import { openImagesDb } from '../storage/imagesDb';

function save(bytes: Uint8Array, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes.slice().buffer], { type: 'application/zip' }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
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
