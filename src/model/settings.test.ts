import { describe, expect, it } from 'vitest';
import { DEFAULT_SPEC } from './presets';
import { SETTINGS, SETTING_LIMITS, SETTING_LIST, checkSetting, checkSettings, type NumberSettingDef, variantSummary } from './settings';
import { BACKEND_CHOICES, DATASETS, LOSSES, OPTIMIZERS } from './spec';
import { V3_WIRE } from '../share/codec';
import { normalizeSpec } from './validate';

const numberSettings = SETTING_LIST.filter((d): d is NumberSettingDef => d.type !== 'select');

/** A value just outside a bound: the next whole number for int settings, a relative hair for floats. */
function justBelow(def: NumberSettingDef): number {
  return def.type === 'int' ? def.min - 1 : def.min - Math.max(Math.abs(def.min) * 1e-6, 1e-12);
}
function justAbove(def: NumberSettingDef): number {
  return def.type === 'int' ? def.max + 1 : def.max + Math.max(Math.abs(def.max) * 1e-6, 1e-12);
}

describe('the settings table', () => {
  it('has one entry per setting of the spec (every field but the layer stacks), keyed by its own key', () => {
    const specKeys = Object.keys(DEFAULT_SPEC)
      .filter((k) => k !== 'encoder' && k !== 'decoder')
      .sort();
    expect(SETTING_LIST.map((d) => d.key).sort()).toEqual(specKeys);
    for (const [key, def] of Object.entries(SETTINGS)) expect(def.key).toBe(key);
  });

  it('lists them in the panel order, which is the link v2 settings order', () => {
    expect(SETTING_LIST.map((d) => d.key)).toEqual([
      'dataset',
      'loss',
      'optimizer',
      'learningRate',
      'batchSize',
      'epochs',
      'seed',
      'trainSize',
      'backend',
      'variant',
      'corruption',
      'noise',
      'sparsity',
      'codeDropout',
      'codeNoise',
      'beta',
    ]);
  });

  it('labels are unique (also ignoring case, as warnings write them) and non-empty; every entry has help', () => {
    const labels = SETTING_LIST.map((d) => d.label.toLowerCase());
    expect(new Set(labels).size).toBe(labels.length);
    for (const d of SETTING_LIST) {
      expect(d.label.trim().length, d.key).toBeGreaterThan(0);
      expect(d.help.trim().length, d.key).toBeGreaterThan(0);
    }
  });

  it('select settings offer exactly the spec’s values, each with its own label', () => {
    const want = { dataset: DATASETS, loss: LOSSES, optimizer: OPTIMIZERS, backend: BACKEND_CHOICES };
    for (const [key, values] of Object.entries(want)) {
      const def = SETTING_LIST.find((d) => d.key === key);
      if (def?.type !== 'select') throw new Error(`${key} is not a select setting`);
      expect(def.options.map((o) => o.value)).toEqual([...values]);
      const labels = def.options.map((o) => o.label);
      expect(labels.every((l) => l.trim().length > 0), key).toBe(true);
      expect(new Set(labels).size, key).toBe(labels.length);
    }
  });

  it('the labels the UI tests use', () => {
    expect(SETTINGS.loss.options.map((o) => o.label)).toEqual(['Mean squared error', 'Binary cross-entropy', 'Mean absolute error (L1)']);
    expect(SETTINGS.optimizer.options.find((o) => o.value === 'sgd')?.label).toBe('SGD with momentum 0.9');
    expect(SETTINGS.backend.options.map((o) => o.label)).toEqual(['Auto', 'WebGPU', 'WebGL', 'WASM', 'CPU']);
    expect(SETTING_LIST.map((d) => d.label)).toEqual([
      'Data set',
      'Loss',
      'Optimizer',
      'Learning rate',
      'Batch size',
      'Epochs',
      'Seed',
      'Training images',
      'Backend',
      'Variant',
      'Corruption',
      'Noise',
      'Sparsity',
      'Code dropout',
      'Code σ',
      'Beta',
    ]);
    // #16's test hooks: exactly one label contains "noise" (getByLabel('Noise') must find one field).
    expect(SETTING_LIST.filter((d) => d.label.toLowerCase().includes('noise')).map((d) => d.label)).toEqual(['Noise']);
  });

  it.each(numberSettings.map((d) => [d.key, d] as const))('%s: accepts its min and max, refuses just outside, NaN and ±Infinity', (_key, def) => {
    expect(checkSetting(def, def.min)).toBeNull();
    expect(checkSetting(def, def.max)).toBeNull();
    expect(checkSetting(def, justBelow(def))).toBe(`${def.label} must be between ${def.min} and ${def.max}`);
    expect(checkSetting(def, justAbove(def))).toBe(`${def.label} must be between ${def.min} and ${def.max}`);
    for (const bad of [Number.NaN, Infinity, -Infinity, '3', null]) expect(checkSetting(def, bad)).toBe(`${def.label} must be a number`);
    // The whole spec check agrees, keyed by the setting (for a variant the setting applies to; the others ignore it).
    const variant = def.variants?.[0] ?? 'plain';
    expect(checkSettings({ ...DEFAULT_SPEC, variant, [def.key]: def.max })).toEqual({});
    expect(checkSettings({ ...DEFAULT_SPEC, variant, [def.key]: justAbove(def) })).toEqual({ [def.key]: `${def.label} must be between ${def.min} and ${def.max}` });
    if (def.variants) expect(checkSettings({ ...DEFAULT_SPEC, variant: 'plain', [def.key]: justAbove(def) })).toEqual({});
  });

  it('int settings refuse fractions; the float one takes them', () => {
    for (const def of numberSettings) {
      const half = def.min + 0.5;
      if (def.type === 'int') expect(checkSetting(def, half), def.key).toBe(`${def.label} must be a whole number`);
      else expect(checkSetting(def, half), def.key).toBeNull();
    }
    expect(SETTINGS.learningRate.type).toBe('float');
  });

  it('select settings refuse a value they do not list', () => {
    expect(checkSetting(SETTINGS.loss, 'mae')).toBe('Loss must be one of mse, bce, l1');
    expect(checkSetting(SETTINGS.optimizer, 'sgd')).toBeNull();
  });

  it('SETTING_LIMITS are the table’s ranges', () => {
    for (const def of numberSettings) expect(SETTING_LIMITS[def.key]).toEqual({ min: def.min, max: def.max });
  });

  it('validation repairs with the table’s ranges and its labels (in lower case)', () => {
    for (const def of numberSettings) {
      const r = normalizeSpec({ ...DEFAULT_SPEC, [def.key]: def.max * 10 + 1 });
      if (!r.ok) throw new Error(r.error);
      expect(r.spec[def.key], def.key).toBe(def.max);
      expect(r.warnings).toEqual([`${def.label.toLowerCase()} ${def.max * 10 + 1} clamped to ${def.max}`]);
    }
    const r = normalizeSpec({ ...DEFAULT_SPEC, optimizer: 'lbfgs' });
    if (!r.ok) throw new Error(r.error);
    expect(r.spec.optimizer).toBe(DEFAULT_SPEC.optimizer);
    expect(r.warnings).toEqual([`optimizer "lbfgs" is not a known option; using ${DEFAULT_SPEC.optimizer}`]);
  });

  it('every setting has a field in the frozen link v3 tables, and every option of a select setting a code there', () => {
    expect(V3_WIRE.settings.map((f) => f.key)).toEqual(SETTING_LIST.map((d) => d.key));
    for (const def of SETTING_LIST) {
      const wire = V3_WIRE.settings.find((f) => f.key === def.key);
      // v3 writes the data set as its id (own sets have names): no option table.
      if (def.key === 'dataset') expect(wire?.options).toBeUndefined();
      else if (def.type === 'select') for (const o of def.options) expect(wire?.options, def.key).toContain(o.value);
      else expect(wire?.options, def.key).toBeUndefined();
    }
  });
});

describe('variantSummary (the runs table’s Variant column)', () => {
  it('names the variant and its parameters', () => {
    expect(variantSummary({ ...DEFAULT_SPEC, variant: 'vae', beta: 4 })).toBe('VAE β=4 · BCE');
    expect(variantSummary({ ...DEFAULT_SPEC, variant: 'denoising', corruption: 'saltPepper', noise: 0.2, loss: 'mse' })).toBe('Denoising salt & pepper 0.2 · MSE');
    expect(variantSummary({ ...DEFAULT_SPEC, variant: 'sparse', sparsity: 0.05, codeDropout: 0.1, codeNoise: 0, loss: 'l1' })).toBe('Sparse L1 0.05, dropout 0.1 · L1');
    expect(variantSummary(DEFAULT_SPEC)).toBe('Plain · BCE');
  });
});
