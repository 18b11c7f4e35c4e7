import { describe, expect, it } from 'vitest';
import { checkExperiment } from './checkExperiment';
import { MAX_TENSOR_BYTES } from './memory';
import { DEFAULT_SPEC } from './presets';
import type { ExperimentSpec, LayerSpec } from './spec';

const conv = (filters: number, activation: 'relu' | 'sigmoid' = 'relu'): LayerSpec => ({
  kind: 'conv2d',
  filters,
  kernelSize: 3,
  strides: 1,
  padding: 'same',
  activation,
});

/** conv 512 then conv 1 on 28×28 MNIST: the shapes work; memory depends on the batch size only. */
const wide = (batchSize: number): ExperimentSpec => ({ ...DEFAULT_SPEC, encoder: [conv(512)], decoder: [conv(1, 'sigmoid')], batchSize });

describe('checkExperiment', () => {
  it('the default experiment may train, with nothing to say', () => {
    const c = checkExperiment(DEFAULT_SPEC);
    expect(c.canTrain).toBe(true);
    expect(c.reasons).toEqual([]);
    expect(c.report.errors).toEqual([]);
    expect(c.settingErrors).toEqual({});
    expect(c.memory.level).toBe('ok');
  });

  it('a shape error blocks training and is the reason given', () => {
    // flatten → dense 32 → dense 100: the output has 100 values, the input 28×28×1.
    const spec: ExperimentSpec = {
      ...DEFAULT_SPEC,
      encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 32, activation: 'relu' }],
      decoder: [{ kind: 'dense', units: 100, activation: 'sigmoid' }],
    };
    const c = checkExperiment(spec);
    expect(c.canTrain).toBe(false);
    expect(c.reasons).toEqual(['decoder output 100 does not match input 28×28×1']);
    expect(c.settingErrors).toEqual({});
  });

  it('a setting error blocks training and is the reason given', () => {
    const c = checkExperiment({ ...DEFAULT_SPEC, learningRate: 0 });
    expect(c.canTrain).toBe(false);
    expect(c.settingErrors).toEqual({ learningRate: 'Learning rate must be between 0.000001 and 10' });
    expect(c.reasons).toEqual(['Learning rate must be between 0.000001 and 10']);
    expect(c.report.errors).toEqual([]);
  });

  it('a model too large to train is refused by memory; the same model at a small batch trains', () => {
    // The conv-512 output is 28·28·512 floats per image: at batch 1024, 28·28·512·1024·4 bytes = 1.53 GiB > 1 GiB.
    const bytes = 28 * 28 * 512 * 1024 * 4;
    expect(bytes).toBeGreaterThan(MAX_TENSOR_BYTES);
    const big = checkExperiment(wide(1024));
    expect(big.report.errors).toEqual([]);
    expect(big.settingErrors).toEqual({});
    expect(big.memory.level).toBe('refuse');
    expect(big.memory.largestTensorBytes).toBe(bytes);
    expect(big.canTrain).toBe(false);
    expect(big.reasons).toHaveLength(1);
    expect(big.reasons[0]).toMatch(/^one layer's output needs 1\.5 GiB at batch size 1024/);

    // At batch 32 the same output is 28·28·512·32·4 bytes = 49 MiB: fine.
    const small = checkExperiment(wide(32));
    expect(small.memory.level).toBe('ok');
    expect(small.canTrain).toBe(true);
  });

  it('lists every reason, layer errors first, then settings in panel order', () => {
    const spec: ExperimentSpec = { ...DEFAULT_SPEC, decoder: [], epochs: 0, learningRate: 20 };
    const c = checkExperiment(spec);
    expect(c.canTrain).toBe(false);
    expect(c.reasons).toEqual([
      'the decoder is empty: add at least one layer',
      'Learning rate must be between 0.000001 and 10',
      'Epochs must be between 1 and 1000',
    ]);
  });
});
