/** Any data set id to images (#17): synthetic sets from their seed, own sets from IndexedDB; the copy test's other set. */
import 'fake-indexeddb/auto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { checkExperiment } from '../model/checkExperiment';
import { DEFAULT_SPEC, PRESETS } from '../model/presets';
import type { ExperimentSpec } from '../model/spec';
import { IMAGES_DB_NAME, openImagesDb, type OwnSetMeta } from '../storage/imagesDb';
import { DATASET_INFO, datasetInfo, registerOwnDataset, unregisterOwnDataset, type DatasetInfo } from './catalogue';
import { loadAnyDataset, otherDatasetLike } from './sources';
import { generateShapes } from './synthetic';

const db = openImagesDb(IMAGES_DB_NAME);
afterAll(() => db.close());

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

describe('loadAnyDataset: synthetic sets', () => {
  it.each(['shapes', 'shapes-rgb'] as const)('%s: the catalogue’s count and shape, equal to generateShapes with its seed, cached', async (id) => {
    const info = DATASET_INFO[id];
    const first = await loadAnyDataset(id, '');
    expect(first.info === info).toBe(true);
    const [h, w, c] = info.shape;
    expect(first.data.count).toBe(info.count);
    expect([first.data.height, first.data.width, first.data.channels]).toEqual([h, w, c]);
    expect(first.data.pixels.length).toBe(info.count * h * w * c);
    expect(first.data.labels.length).toBe(info.count);

    const again = await loadAnyDataset(id, '');
    // Compared as booleans: a failing toBe would print millions of bytes.
    expect(again.data.pixels === first.data.pixels, 'the second call returns the cached pixels').toBe(true);
    expect(again.data.labels === first.data.labels, 'the second call returns the cached labels').toBe(true);

    const direct = generateShapes({ count: info.count, size: h, channels: c === 3 ? 3 : 1, seed: info.splitSeed });
    expect(direct.height).toBe(h);
    expect(sameBytes(first.data.pixels, direct.pixels)).toBe(true);
    expect(sameBytes(first.data.labels, direct.labels)).toBe(true);
    // Labels are the three shape classes; the images are not blank.
    expect(Math.max(...first.data.labels)).toBe(2);
    expect(first.data.pixels.some((v) => v > 0)).toBe(true);
  });
});

function ownSet(name: string, count: number, side: number, channels: 1 | 3): { meta: OwnSetMeta; labels: Uint8Array; pixels: Uint8Array } {
  const per = side * side * channels;
  return {
    meta: {
      name,
      createdAt: 1_700_000_000_000,
      height: side,
      width: side,
      channels,
      count,
      testCount: 2,
      splitSeed: 17,
      classNames: ['left', 'right'],
      skipped: [],
    },
    labels: Uint8Array.from({ length: count }, (_, i) => i % 2),
    pixels: Uint8Array.from({ length: count * per }, (_, i) => (i * 7 + 3) % 256),
  };
}

describe('loadAnyDataset: own sets', () => {
  afterEach(() => {
    unregisterOwnDataset('own:Holiday pics');
  });

  it('returns the stored pixels and registers the set, so datasetInfo knows its shape', async () => {
    const s = ownSet('Holiday pics', 9, 16, 3);
    await db.save(s.meta, { name: s.meta.name, labels: s.labels, pixels: s.pixels });
    expect(datasetInfo('own:Holiday pics')).toBeNull();

    const { info, data } = await loadAnyDataset('own:Holiday pics', '');
    expect(info.id).toBe('own:Holiday pics');
    expect(info.shape).toEqual([16, 16, 3]);
    expect(info.count).toBe(9);
    expect(info.testCount).toBe(2);
    expect([data.count, data.height, data.width, data.channels]).toEqual([9, 16, 16, 3]);
    expect(sameBytes(data.pixels, s.pixels)).toBe(true);
    expect(sameBytes(data.labels, s.labels)).toBe(true);

    const registered = datasetInfo('own:Holiday pics');
    expect(registered).not.toBeNull();
    expect(registered?.shape).toEqual([16, 16, 3]);
    expect(registered?.kind).toBe('own');
    expect(registered?.classNames).toEqual(['left', 'right']);
  });

  it('a set this browser does not have rejects with “not in this browser”', async () => {
    await expect(loadAnyDataset('own:Nobody saved this', '')).rejects.toThrow(/not in this browser/);
    expect(datasetInfo('own:Nobody saved this')).toBeNull();
  });
});

function ownInfo(name: string, shape: [number, number, number]): DatasetInfo & { id: `own:${string}` } {
  return {
    id: `own:${name}`,
    kind: 'own',
    label: name,
    file: '',
    shape,
    count: 10,
    testCount: 2,
    splitSeed: 17,
    classNames: ['all'],
    source: 'test',
  };
}

describe('otherDatasetLike', () => {
  it('MNIST and Fashion-MNIST are each other’s other set', () => {
    expect(otherDatasetLike(DATASET_INFO.mnist)?.id).toBe('fashion-mnist');
    expect(otherDatasetLike(DATASET_INFO['fashion-mnist'])?.id).toBe('mnist');
  });
  it('grey shapes get a 28×28×1 set that is not themselves', () => {
    const other = otherDatasetLike(DATASET_INFO.shapes);
    expect(other?.id).not.toBe('shapes');
    expect(other?.shape).toEqual([28, 28, 1]);
  });
  it('an own 32×32×3 set gets shapes-rgb; an own 28×28×1 set a 28×28×1 built-in set', () => {
    expect(otherDatasetLike(ownInfo('rgb', [32, 32, 3]))?.id).toBe('shapes-rgb');
    expect(otherDatasetLike(ownInfo('grey', [28, 28, 1]))?.shape).toEqual([28, 28, 1]);
  });
  it('no built-in set of the shape: null', () => {
    expect(otherDatasetLike(ownInfo('big', [48, 48, 1]))).toBeNull();
    expect(otherDatasetLike(ownInfo('rgb28', [28, 28, 3]))).toBeNull();
    expect(otherDatasetLike(DATASET_INFO['shapes-rgb'])).toBeNull();
  });
});

describe('checkExperiment with an own data set', () => {
  afterEach(() => unregisterOwnDataset('own:Nope'));
  const spec: ExperimentSpec = { ...DEFAULT_SPEC, dataset: 'own:Nope' };

  it('a set this browser does not have: a dataset setting error, and it may not train', () => {
    const check = checkExperiment(spec);
    expect(check.settingErrors.dataset).toMatch(/not in this browser/);
    expect(check.settingErrors.dataset).toContain('Nope');
    expect(check.canTrain).toBe(false);
    expect(check.reasons.some((r) => /not in this browser/.test(r))).toBe(true);
  });

  it('once a 28×28×1 set of that name is registered, the same spec trains', () => {
    // The default spec trains on MNIST (28×28×1): the baseline the own set is compared with.
    expect(checkExperiment(DEFAULT_SPEC).canTrain).toBe(true);
    registerOwnDataset(ownInfo('Nope', [28, 28, 1]));
    const check = checkExperiment(spec);
    expect(check.settingErrors.dataset).toBeUndefined();
    expect(check.reasons).toEqual([]);
    expect(check.canTrain).toBe(true);
    unregisterOwnDataset('own:Nope');
    expect(checkExperiment(spec).canTrain).toBe(false);
  });

  it('the registered shape is the one checked: 32×32×3 images break a 28×28×1 decoder', () => {
    registerOwnDataset(ownInfo('Nope', [32, 32, 3]));
    const check = checkExperiment(spec);
    expect(check.settingErrors.dataset).toBeUndefined();
    expect(check.report.inputShape).toEqual([32, 32, 3]);
    expect(check.report.outputShape).toEqual([32, 32, 1]);
    expect(check.canTrain).toBe(false);
    // The dense preset names 784 pixels: at 32×32×3 its reshape cannot work.
    const dense = PRESETS.find((p) => p.id === 'dense');
    expect(dense).toBeDefined();
    if (dense) expect(checkExperiment({ ...dense.spec, dataset: 'own:Nope' }).canTrain).toBe(false);
  });
});
