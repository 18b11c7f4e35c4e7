/** Seeded, deterministic index bookkeeping: PRNG, shuffles, the fixed train/test split. No React, no tfjs. */

/** Mulberry32: a small, fast seeded PRNG returning floats in [0, 1). The seed is taken as a uint32. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of `arr` in place using `rng` (values in [0, 1)). Returns `arr`. */
export function shuffleInPlace(arr: Uint32Array, rng: () => number): Uint32Array {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = arr[i];
    arr[i] = arr[j];
    arr[j] = tmp;
  }
  return arr;
}

/**
 * The fixed train/test split of `count` images: a seeded permutation of 0..count-1 whose first
 * `testCount` entries are the test split and the rest the train split. Both keep the shuffled
 * order, so any prefix of either is a class-balanced random sample. Deterministic in `seed`;
 * the two sets are disjoint and together cover every index.
 */
export function splitIndices(
  count: number,
  testCount: number,
  seed: number,
): { train: Uint32Array; test: Uint32Array } {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`splitIndices: bad count ${count}`);
  if (!Number.isInteger(testCount) || testCount < 0 || testCount > count) {
    throw new RangeError(`splitIndices: testCount ${testCount} must be an integer in [0, ${count}]`);
  }
  const all = new Uint32Array(count);
  for (let i = 0; i < count; i++) all[i] = i;
  shuffleInPlace(all, mulberry32(seed));
  return { test: all.slice(0, testCount), train: all.slice(testCount) };
}

/**
 * A fixed set of up to `n` test-split indices for display: first one per class, in class order
 * (the earliest of each class in `test` order), then filled with the next unused indices in
 * `test` order. Deterministic given its inputs.
 */
export function pickDisplayIndices(test: Uint32Array, labels: Uint8Array, n = 16): Uint32Array {
  const want = Math.max(0, Math.min(Math.floor(n), test.length));
  const firstOfClass = new Map<number, number>(); // label -> position in `test`
  for (let p = 0; p < test.length; p++) {
    const label = labels[test[p]];
    if (label === undefined) throw new RangeError(`pickDisplayIndices: index ${test[p]} has no label`);
    if (!firstOfClass.has(label)) firstOfClass.set(label, p);
  }
  const classes = [...firstOfClass.keys()].sort((a, b) => a - b);
  const out = new Uint32Array(want);
  const used = new Uint8Array(test.length);
  let k = 0;
  for (const c of classes) {
    if (k >= want) break;
    const p = firstOfClass.get(c) ?? 0;
    used[p] = 1;
    out[k++] = test[p];
  }
  for (let p = 0; p < test.length && k < want; p++) {
    if (!used[p]) out[k++] = test[p];
  }
  return out;
}

/** A seeded permutation of `train` for one epoch: deterministic in (seed, epoch), different across epochs. */
export function epochOrder(train: Uint32Array, seed: number, epoch: number): Uint32Array {
  // Mix seed and epoch into one uint32 (golden-ratio multiply + murmur3 finaliser).
  let h = (seed >>> 0) ^ Math.imul((epoch >>> 0) + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return shuffleInPlace(train.slice(), mulberry32(h >>> 0));
}
