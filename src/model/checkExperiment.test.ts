import { describe, expect, it } from 'vitest';
import { checkExperiment } from './checkExperiment';
import { MAX_TENSOR_BYTES } from './memory';
import { DEFAULT_SPEC, PRESETS } from './presets';
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

describe('the autoencoder family’s rules (#16)', () => {
  const dense = PRESETS.find((p) => p.id === 'dense')?.spec ?? DEFAULT_SPEC;
  it('binary cross-entropy is refused at the Loss field when the output can leave [0, 1], with the layer that ends the decoder', () => {
    const linearEnd: ExperimentSpec = { ...dense, loss: 'bce', decoder: [{ kind: 'dense', units: 784, activation: 'relu' }, { kind: 'reshape', targetShape: [28, 28, 1] }] };
    const c = checkExperiment(linearEnd);
    expect(c.canTrain).toBe(false);
    expect(c.settingErrors.loss).toMatch(/^Binary cross-entropy needs outputs in \[0, 1\], but the decoder ends in decoder layer 1 \(dense with relu activation\)/);
    // The reshape after it does not count; a sigmoid, or another loss, is fine.
    expect(checkExperiment({ ...linearEnd, loss: 'mse' }).canTrain).toBe(true);
    expect(checkExperiment({ ...linearEnd, loss: 'l1' }).canTrain).toBe(true);
    const sigmoidLayer: ExperimentSpec = { ...linearEnd, decoder: [...linearEnd.decoder, { kind: 'activation', activation: 'sigmoid', alpha: 0.2 }] };
    expect(checkExperiment(sigmoidLayer).settingErrors.loss).toBeUndefined();
    // Every preset trains as it is.
    for (const p of PRESETS) expect(checkExperiment(p.spec).reasons, p.id).toEqual([]);
  });

  it('a VAE needs a dense or conv2d last encoder layer, says so at that layer, and doubles its parameters', () => {
    const vae: ExperimentSpec = { ...dense, variant: 'vae' };
    const ok = checkExperiment(vae);
    expect(ok.canTrain).toBe(true);
    const last = ok.report.layers.find((l) => l.stack === 'encoder' && l.index === 2);
    expect(last?.params).toBe(2 * (256 * 32 + 32));
    expect(last?.note).toMatch(/mean and the log-variance heads/);
    expect(ok.report.totalParams).toBe(checkExperiment(dense).report.totalParams + 256 * 32 + 32);
    const pooled: ExperimentSpec = { ...DEFAULT_SPEC, variant: 'vae' }; // ends in max pooling
    const bad = checkExperiment(pooled);
    expect(bad.canTrain).toBe(false);
    const at = bad.report.layers.find((l) => l.stack === 'encoder' && l.index === DEFAULT_SPEC.encoder.length - 1);
    expect(at?.error).toMatch(/needs the encoder to end in a dense or conv2d layer/);
    expect(bad.reasons[0]).toMatch(/^encoder layer 6 \(.*\): a variational autoencoder needs/);
  });
});
