import { describe, expect, it } from 'vitest';
import { hasBatchNorm, runningLossAt, startingShareLeft } from './batchNormNote';
import { findPreset } from './presets';

describe('batch-norm note numbers', () => {
  it('the running training loss is the mean of the last batches up to the step', () => {
    const points = Array.from({ length: 50 }, (_, i) => ({ step: i + 1, loss: i + 1 }));
    // Steps 21..40: mean 30.5.
    expect(runningLossAt(points, 40)).toBeCloseTo(30.5, 12);
    // Only 3 points up to step 3: (1 + 2 + 3) / 3.
    expect(runningLossAt(points, 3)).toBeCloseTo(2, 12);
    expect(runningLossAt(points, 40, 4)).toBeCloseTo((37 + 38 + 39 + 40) / 4, 12);
    // After the last point: the last 20 (31..50).
    expect(runningLossAt(points, 1000)).toBeCloseTo(40.5, 12);
    expect(runningLossAt(points, 0)).toBeNull();
    expect(runningLossAt([], 5)).toBeNull();
    // A non-finite batch loss is skipped, not averaged in.
    expect(runningLossAt([{ step: 1, loss: 2 }, { step: 2, loss: Number.NaN }, { step: 3, loss: 4 }], 3)).toBeCloseTo(3, 12);
  });

  it('knows which presets have batch norm', () => {
    expect(hasBatchNorm(findPreset('wiki-5-layer')?.spec ?? { encoder: [], decoder: [] })).toBe(true);
    expect(hasBatchNorm(findPreset('default')?.spec ?? { encoder: [{ kind: 'batchNorm' }], decoder: [] })).toBe(false);
  });

  it('the moving averages forget their start as 0.99^steps: 37% left after 100 steps, under 1% after 460', () => {
    expect(startingShareLeft(0)).toBe(1);
    expect(startingShareLeft(100)).toBeCloseTo(Math.exp(100 * Math.log(0.99)), 12);
    expect(startingShareLeft(100)).toBeGreaterThan(0.36);
    expect(startingShareLeft(100)).toBeLessThan(0.37);
    expect(startingShareLeft(460)).toBeLessThan(0.01);
    expect(startingShareLeft(450)).toBeGreaterThan(0.01);
  });
});
