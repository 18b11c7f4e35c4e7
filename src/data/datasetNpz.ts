/** A data set in the app's train/test split as a NumPy .npz (#17), for the exported scripts' --data. Pure. */
import type { DecodedDataset } from './decode';
import { npzBytes } from './npz';
import { splitIndices } from './split';

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
