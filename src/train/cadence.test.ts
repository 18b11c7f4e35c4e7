import { describe, expect, it } from 'vitest';
import { nextViewsInterval, READ_EVERY_MS, READ_EVERY_STEPS, shouldReadLosses, viewsMinInterval, VIEWS_BUDGET, VIEWS_EVERY_MS, VIEWS_EVERY_MS_FEW_CORES } from './cadence';

describe('training cadence', () => {
  it('refreshes the views every 400 ms while they are cheap', () => {
    expect(nextViewsInterval(0)).toBe(VIEWS_EVERY_MS);
    expect(nextViewsInterval(6.5)).toBe(VIEWS_EVERY_MS); // default model on WASM
  });
  it('keeps expensive views under ~4% of the time', () => {
    expect(nextViewsInterval(40)).toBe(1000); // 64-kernel model on WASM: once a second
    for (const cost of [20, 100, 2500]) expect(cost / nextViewsInterval(cost)).toBeLessThanOrEqual(1 / VIEWS_BUDGET + 1e-12);
  });
  it('refreshes at most once a second on two cores or fewer, where the page shares the training core', () => {
    expect(viewsMinInterval(2)).toBe(VIEWS_EVERY_MS_FEW_CORES);
    expect(viewsMinInterval(1)).toBe(VIEWS_EVERY_MS_FEW_CORES);
    expect(viewsMinInterval(4)).toBe(VIEWS_EVERY_MS);
    expect(viewsMinInterval(undefined)).toBe(VIEWS_EVERY_MS);
    expect(nextViewsInterval(6.5, viewsMinInterval(2))).toBe(1000);
    expect(nextViewsInterval(100, viewsMinInterval(2))).toBe(2500); // the 4% budget still rules above it
  });
  it('treats a nonsense cost as free', () => {
    expect(nextViewsInterval(Number.NaN)).toBe(VIEWS_EVERY_MS);
    expect(nextViewsInterval(-5)).toBe(VIEWS_EVERY_MS);
  });
  it('reads losses back every 250 ms or 64 steps', () => {
    expect(shouldReadLosses(READ_EVERY_MS - 1, 1)).toBe(false);
    expect(shouldReadLosses(READ_EVERY_MS + 1, 1)).toBe(true);
    expect(shouldReadLosses(10, READ_EVERY_STEPS)).toBe(true);
  });
});
