import { describe, expect, it } from 'vitest';
import { PRESETS } from '../model/presets';
import { keepTiming, pickFastest, RACE_MAX_STEPS, RACE_MIN_MS, RACE_MIN_STEPS, raceKey, raceSummary, type RaceTiming } from './race';

describe("Auto's backend race", () => {
  const h100Dense: RaceTiming[] = [
    { backend: 'webgpu', msPerStep: 46.6, steps: 7 },
    { backend: 'wasm', msPerStep: 20.8, steps: 15 },
  ];
  it('keeps the fastest timed backend (the dense AE on an H100 machine: WASM)', () => {
    expect(pickFastest(h100Dense)).toBe('wasm');
    expect(pickFastest([{ backend: 'webgpu', msPerStep: 30, steps: 10 }, { backend: 'wasm', msPerStep: 94, steps: 4 }])).toBe('webgpu');
  });
  it('skips candidates that failed or timed nonsense, and has no winner when none ran', () => {
    const t: RaceTiming[] = [
      { backend: 'webgpu', msPerStep: null, error: 'failed to initialise' },
      { backend: 'webgl', msPerStep: Number.NaN, steps: 3 },
      { backend: 'wasm', msPerStep: 80, steps: 4 },
    ];
    expect(pickFastest(t)).toBe('wasm');
    expect(pickFastest([{ backend: 'webgpu', msPerStep: null, error: 'x' }])).toBeNull();
    expect(pickFastest([])).toBeNull();
  });
  it('gives ties to the earlier candidate', () => {
    expect(pickFastest([{ backend: 'webgpu', msPerStep: 10, steps: 3 }, { backend: 'wasm', msPerStep: 10, steps: 3 }])).toBe('webgpu');
  });
  it('says what it timed and what won', () => {
    const text = raceSummary([...h100Dense, { backend: 'webgl', msPerStep: null, error: 'too slow to start (20 s)' }], 'wasm', 32);
    expect(text.split('\n')).toEqual([
      'Auto: WASM is the fastest here for this model (training steps of 32 images timed on each backend):',
      'WebGPU 46.6 ms a step',
      'WASM 20.8 ms a step (fastest)',
      'WebGL too slow to start (20 s)',
    ]);
  });
  it('times at least 3 steps, then until 300 ms or 20 steps', () => {
    expect(keepTiming(0, 5000)).toBe(true);
    expect(keepTiming(RACE_MIN_STEPS - 1, 5000)).toBe(true);
    expect(keepTiming(RACE_MIN_STEPS, RACE_MIN_MS + 1)).toBe(false);
    expect(keepTiming(RACE_MIN_STEPS, 10)).toBe(true);
    expect(keepTiming(RACE_MAX_STEPS, 10)).toBe(false);
  });
  it('races again when the layers or batch change, not when the learning rate does', () => {
    const spec = PRESETS[0].spec;
    expect(raceKey({ ...spec, learningRate: 0.5 } as typeof spec)).toBe(raceKey(spec));
    expect(raceKey({ ...spec, batchSize: spec.batchSize * 2 })).not.toBe(raceKey(spec));
    expect(raceKey({ ...spec, decoder: spec.decoder.slice(1) })).not.toBe(raceKey(spec));
  });
});
