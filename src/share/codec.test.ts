import { mulberry32 } from '../data/split';
import { describe, expect, it } from 'vitest';
import { compressToEncodedURIComponent, decompressFromEncodedURIComponent } from 'lz-string';
import { LAYER_KINDS, LAYER_KIND_LIST, defaultLayer, type FieldDef } from '../model/catalogue';
import { datasetShape } from '../data/catalogue';
import { checkLayerFields, inferShapes } from '../model/inferShapes';
import { SETTING_LIMITS, checkSettings } from '../model/settings';
import { MAX_LAYERS_PER_STACK, MAX_WARNINGS, isValidSpec, normalizeSpec, type DecodeResult } from '../model/validate';
import { DEFAULT_SPEC, PRESETS, VARIANT_DEFAULTS } from '../model/presets';
import {
  ACTIVATIONS,
  BACKEND_CHOICES,
  CORRUPTIONS,
  DATASETS,
  INLINE_ACTIVATIONS,
  LOSSES,
  OPTIMIZERS,
  PADDINGS,
  VARIANTS,
  isBuiltinDataset,
  isOwnDataset,
  ownDatasetId,
  type ExperimentSpec,
  type LayerKind,
  type LayerSpec,
} from '../model/spec';
import {
  JSON_APP_ID,
  LINK_VERSION,
  MAX_LINK_CHARS,
  MAX_LINK_JSON_CHARS,
  V1_WIRE,
  V2_WIRE,
  V3_WIRE,
  encodeV2,
  encodeV1,
  decodeExperiment,
  encodeExperiment,
  hashFor,
  readHash,
  specFromJson,
  specToJson,
} from './codec';
import linksV1 from './testdata/links-v1.json';
import linksV2 from './testdata/links-v2.json';
import linksV3 from './testdata/links-v3.json';
import { lzDecompressedLength } from './lzLength';

// ---------------------------------------------------------------------------------------------
// The frozen v1 fixtures (test data, read from JSON; see the file's $comment)
// ---------------------------------------------------------------------------------------------

interface LinkFixture {
  name: string;
  /** The `#x=` value, exactly as encodeExperiment wrote it. */
  link: string;
  spec: ExperimentSpec;
}

/** A stored spec as an ExperimentSpec; a fixture that is not a complete, valid spec fails every test that reads it. */
function fixtureSpec(value: unknown, name: string): ExperimentSpec {
  // A v1 fixture's spec predates the autoencoder family (#16): it means a plain autoencoder.
  const spec = typeof value === 'object' && value !== null && !('variant' in value) ? { ...VARIANT_DEFAULTS, ...value } : value;
  if (!isValidSpec(spec)) throw new Error(`fixture ${name}: its stored spec is not a valid experiment`);
  return spec;
}

const V1_LINK_FIXTURES: readonly LinkFixture[] = linksV1.links.map((f) => ({ name: f.name, link: f.link, spec: fixtureSpec(f.spec, f.name) }));
const V2_LINK_FIXTURES: readonly LinkFixture[] = linksV2.links.map((f) => ({ name: f.name, link: f.link, spec: fixtureSpec(f.spec, f.name) }));
const V3_LINK_FIXTURES: readonly LinkFixture[] = linksV3.links.map((f) => ({ name: f.name, link: f.link, spec: fixtureSpec(f.spec, f.name) }));
const V1_JSON_FIXTURE: { text: string; spec: ExperimentSpec } = { text: linksV1.json.text, spec: fixtureSpec(linksV1.json.spec, 'json file') };

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

type Rng = () => number;
const randInt = (rng: Rng, min: number, max: number): number => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)];

const URI_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-$';
const LINK_PREFIX = 'http://localhost:5173/#x=';

function randomField(rng: Rng, f: FieldDef): unknown {
  switch (f.type) {
    case 'int':
      return rng() < 0.2 ? pick(rng, [f.min, f.max]) : randInt(rng, f.min, f.max);
    case 'float': {
      // Values as the UI makes them (on the step grid), some arbitrary doubles, and the ends.
      const r = rng();
      if (r < 0.15) return pick(rng, [f.min, f.max]);
      if (r < 0.3) return Math.min(f.max, f.min + rng() * (f.max - f.min));
      const steps = Math.round((f.max - f.min) / f.step);
      return Number((f.min + randInt(rng, 0, steps) * f.step).toFixed(6));
    }
    case 'select':
      return pick(rng, f.options);
    case 'shape': {
      const n = randInt(rng, f.minLength, f.maxLength);
      return Array.from({ length: n }, () => randInt(rng, f.min, rng() < 0.5 ? 64 : f.max));
    }
  }
}

function randomLayer(rng: Rng, kind: LayerKind = pick(rng, LAYER_KIND_LIST)): LayerSpec {
  const out: Record<string, unknown> = { kind };
  for (const f of LAYER_KINDS[kind].fields) out[f.key] = randomField(rng, f);
  return out as unknown as LayerSpec;
}

function randomSpec(rng: Rng, maxLayers = 12): ExperimentSpec {
  const lr = SETTING_LIMITS.learningRate;
  return {
    dataset: rng() < 0.2 ? ownDatasetId(`My set ${randInt(rng, 0, 99)}`) : pick(rng, DATASETS),
    encoder: Array.from({ length: randInt(rng, 0, maxLayers) }, () => randomLayer(rng)),
    decoder: Array.from({ length: randInt(rng, 0, maxLayers) }, () => randomLayer(rng)),
    loss: pick(rng, LOSSES),
    optimizer: pick(rng, OPTIMIZERS),
    learningRate:
      rng() < 0.5 ? pick(rng, [lr.min, 0.0001, 0.0005, 0.001, 0.002, 0.01, 0.1, lr.max]) : lr.min + rng() * (lr.max - lr.min),
    batchSize: randInt(rng, SETTING_LIMITS.batchSize.min, SETTING_LIMITS.batchSize.max),
    epochs: randInt(rng, SETTING_LIMITS.epochs.min, SETTING_LIMITS.epochs.max),
    seed: randInt(rng, SETTING_LIMITS.seed.min, SETTING_LIMITS.seed.max),
    trainSize: randInt(rng, SETTING_LIMITS.trainSize.min, SETTING_LIMITS.trainSize.max),
    backend: pick(rng, BACKEND_CHOICES),
    variant: pick(rng, VARIANTS),
    corruption: pick(rng, CORRUPTIONS),
    noise: rng() * SETTING_LIMITS.noise.max,
    sparsity: rng() < 0.5 ? 0 : rng() * SETTING_LIMITS.sparsity.max,
    codeDropout: rng() * SETTING_LIMITS.codeDropout.max,
    codeNoise: rng() * SETTING_LIMITS.codeNoise.max,
    beta: pick(rng, [0, 1, 4, SETTING_LIMITS.beta.max]),
  };
}

const SPEC_KEYS = Object.keys(DEFAULT_SPEC).sort();

/**
 * Every ok:true result must pass this, independently of the codec's own schema: all settings and
 * layer fields in the catalogue's ranges (inferShapes' own checks), known enums, exact key sets.
 */
function problemsOf(spec: ExperimentSpec): string[] {
  const problems: string[] = [];
  const keys = Object.keys(spec).sort();
  if (JSON.stringify(keys) !== JSON.stringify(SPEC_KEYS)) problems.push(`keys ${keys.join(',')}`);
  if (!isBuiltinDataset(spec.dataset) && !isOwnDataset(spec.dataset)) problems.push(`dataset ${String(spec.dataset)}`);
  if (!LOSSES.includes(spec.loss)) problems.push(`loss ${String(spec.loss)}`);
  if (!OPTIMIZERS.includes(spec.optimizer)) problems.push(`optimizer ${String(spec.optimizer)}`);
  if (!BACKEND_CHOICES.includes(spec.backend)) problems.push(`backend ${String(spec.backend)}`);
  for (const msg of Object.values(checkSettings(spec))) problems.push(msg);
  for (const stack of ['encoder', 'decoder'] as const) {
    const list = spec[stack];
    if (!Array.isArray(list)) {
      problems.push(`${stack} not a list`);
      continue;
    }
    if (list.length > MAX_LAYERS_PER_STACK) problems.push(`${stack} too long`);
    list.forEach((layer, i) => {
      if (!LAYER_KIND_LIST.includes(layer.kind)) {
        problems.push(`${stack} ${i} kind ${String(layer.kind)}`);
        return;
      }
      const want = ['kind', ...LAYER_KINDS[layer.kind].fields.map((f) => f.key)].sort();
      const got = Object.keys(layer).sort();
      if (JSON.stringify(want) !== JSON.stringify(got)) problems.push(`${stack} ${i} keys ${got.join(',')}`);
      const e = checkLayerFields(layer);
      if (e) problems.push(`${stack} ${i}: ${e}`);
    });
  }
  if (!isValidSpec(spec)) problems.push('isValidSpec says no');
  if (JSON.stringify(spec).includes('null')) problems.push('contains null');
  return problems;
}

/** The result is either a clear error or a valid spec (with warnings as strings). */
function expectSane(r: DecodeResult, input?: string): void {
  if (r.ok) {
    const problems = problemsOf(r.spec);
    if (problems.length > 0) throw new Error(`invalid spec from ${JSON.stringify(input)}: ${problems.join('; ')}`);
    expect(Array.isArray(r.warnings)).toBe(true);
    expect(r.warnings.every((w) => typeof w === 'string' && w.length > 0)).toBe(true);
    expect(r.warnings.length).toBeLessThanOrEqual(MAX_WARNINGS + 1);
  } else {
    expect(typeof r.error).toBe('string');
    expect(r.error.length).toBeGreaterThan(10);
  }
}

function expectOk(r: DecodeResult): { spec: ExperimentSpec; warnings: string[] } {
  if (!r.ok) throw new Error(`expected ok, got error: ${r.error}`);
  expectSane(r);
  return r;
}

function expectError(r: DecodeResult, pattern: RegExp): void {
  if (r.ok) throw new Error(`expected an error matching ${pattern}, got ok with warnings ${JSON.stringify(r.warnings)}`);
  expect(r.error).toMatch(pattern);
}

/** A v1 link built by hand from a raw payload (what an older, newer or hostile writer could make). */
function rawLink(payload: unknown, version = 1): string {
  return `${version}.${compressToEncodedURIComponent(JSON.stringify(payload))}`;
}

/** The v1 payload of a link, for tampering in tests. */
function payloadOf(link: string): unknown[] {
  return JSON.parse(decompressFromEncodedURIComponent(link.slice(2)) ?? 'null') as unknown[];
}

function roundTrip(spec: ExperimentSpec): void {
  const r = expectOk(decodeExperiment(encodeExperiment(spec)));
  expect(r.spec).toEqual(spec);
  expect(r.warnings).toEqual([]);
}

const withLayers = (encoder: LayerSpec[], decoder: LayerSpec[] = []): ExperimentSpec => ({ ...DEFAULT_SPEC, encoder, decoder });

// A realistic 20-layer experiment: a deep conv AE with batch norm and a dense bottleneck.
const twentyLayerSpec: ExperimentSpec = {
  ...DEFAULT_SPEC,
  dataset: 'fashion-mnist',
  learningRate: 0.0005,
  batchSize: 64,
  epochs: 20,
  seed: 20240917,
  trainSize: 50000,
  encoder: [
    { kind: 'conv2d', filters: 32, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
    { kind: 'batchNorm' },
    { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
    { kind: 'maxPool2d', poolSize: 2, strides: 2 },
    { kind: 'conv2d', filters: 64, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
    { kind: 'batchNorm' },
    { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
    { kind: 'maxPool2d', poolSize: 2, strides: 2 },
    { kind: 'flatten' },
    { kind: 'dense', units: 64, activation: 'linear' },
  ],
  decoder: [
    { kind: 'dense', units: 3136, activation: 'relu' },
    { kind: 'reshape', targetShape: [7, 7, 64] },
    { kind: 'conv2dTranspose', filters: 64, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear' },
    { kind: 'batchNorm' },
    { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
    { kind: 'dropout', rate: 0.1 },
    { kind: 'conv2dTranspose', filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear' },
    { kind: 'batchNorm' },
    { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
    { kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' },
  ],
};
// The same size with random (UI-grid) values everywhere: a pessimistic case.
const randomTwentyLayerSpecs = Array.from({ length: 50 }, (_, i) => {
  const rng = mulberry32(1000 + i);
  const spec = randomSpec(rng, 0);
  spec.encoder = Array.from({ length: 10 }, () => randomLayer(rng));
  spec.decoder = Array.from({ length: 10 }, () => randomLayer(rng));
  return spec;
});

const defaultLinkLength = (LINK_PREFIX + encodeExperiment(DEFAULT_SPEC)).length;
const twentyLinkLength = (LINK_PREFIX + encodeExperiment(twentyLayerSpec)).length;
const worstRandomTwentyLength = Math.max(...randomTwentyLayerSpecs.map((s) => (LINK_PREFIX + encodeExperiment(s)).length));

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

describe('round trip', () => {
  it('writes a versioned, URL-safe string', () => {
    const link = encodeExperiment(DEFAULT_SPEC);
    expect(link.startsWith(`${LINK_VERSION}.`)).toBe(true);
    expect(link).toMatch(/^\d+\.[A-Za-z0-9+\-$]+$/);
    expect(encodeURIComponent(link).replace(/%24/g, '$').replace(/%2B/g, '+')).toBe(link);
  });

  it('DEFAULT_SPEC and every preset', () => {
    roundTrip(DEFAULT_SPEC);
    for (const p of PRESETS) roundTrip(p.spec);
  });

  it.each(LAYER_KIND_LIST)('layer kind %s: defaults, and 50 random settings in either stack', (kind) => {
    roundTrip(withLayers([defaultLayer(kind)], [defaultLayer(kind)]));
    const rng = mulberry32(kind.length * 7919);
    for (let i = 0; i < 50; i++) roundTrip(withLayers([randomLayer(rng, kind)], [randomLayer(rng, kind), randomLayer(rng, kind)]));
  });

  it('every option of every select field of every layer kind', () => {
    let count = 0;
    for (const kind of LAYER_KIND_LIST) {
      for (const f of LAYER_KINDS[kind].fields) {
        if (f.type !== 'select') continue;
        for (const option of f.options) {
          const layer = { ...defaultLayer(kind), [f.key]: option } as LayerSpec;
          roundTrip(withLayers([layer], [layer]));
          count++;
        }
      }
    }
    // conv2d and conv2dTranspose: 2 paddings + 7 activations each; activation: 8; dense: 7.
    expect(count).toBe(2 * (PADDINGS.length + INLINE_ACTIVATIONS.length) + ACTIVATIONS.length + INLINE_ACTIVATIONS.length);
  });

  it('every value of every select setting (dataset, loss, optimizer, backend)', () => {
    for (const dataset of DATASETS) roundTrip({ ...DEFAULT_SPEC, dataset });
    for (const name of ['Cats (2)', 'a', 'Ünïcödé-set_1.0', 'x'.repeat(40)]) roundTrip({ ...DEFAULT_SPEC, dataset: ownDatasetId(name) });
    for (const loss of LOSSES) roundTrip({ ...DEFAULT_SPEC, loss });
    for (const optimizer of OPTIMIZERS) roundTrip({ ...DEFAULT_SPEC, optimizer });
    for (const backend of BACKEND_CHOICES) roundTrip({ ...DEFAULT_SPEC, backend });
  });

  it('both ends of every numeric setting, and awkward doubles', () => {
    for (const key of Object.keys(SETTING_LIMITS) as (keyof typeof SETTING_LIMITS)[]) {
      roundTrip({ ...DEFAULT_SPEC, [key]: SETTING_LIMITS[key].min });
      roundTrip({ ...DEFAULT_SPEC, [key]: SETTING_LIMITS[key].max });
    }
    for (const learningRate of [0.1 + 0.2, 1 / 3, 1e-6, 0.000123456789, 9.999999999999998]) roundTrip({ ...DEFAULT_SPEC, learningRate });
    roundTrip(withLayers([{ kind: 'activation', activation: 'leakyRelu', alpha: 1 / 3 }], [{ kind: 'dropout', rate: 0.1 + 0.2 }]));
  });

  it('empty stacks and full (64-layer) stacks', () => {
    roundTrip(withLayers([], []));
    const rng = mulberry32(64);
    roundTrip(
      withLayers(
        Array.from({ length: MAX_LAYERS_PER_STACK }, () => randomLayer(rng)),
        Array.from({ length: MAX_LAYERS_PER_STACK }, () => randomLayer(rng)),
      ),
    );
  });

  it('500 random experiments (seeded)', () => {
    const rng = mulberry32(12345);
    for (let i = 0; i < 500; i++) roundTrip(randomSpec(rng));
  });

  it('decoding does not alias the catalogue defaults', () => {
    const r = expectOk(normalizeSpec({ encoder: [{ kind: 'reshape' }], decoder: [] }));
    const layer = r.spec.encoder[0];
    if (layer.kind !== 'reshape') throw new Error('expected reshape');
    expect(layer.targetShape).not.toBe(LAYER_KINDS.reshape.defaults.targetShape);
  });
});

// ---------------------------------------------------------------------------------------------
// The frozen v1 tables
// ---------------------------------------------------------------------------------------------

describe('v3 wire tables', () => {
  it('give every catalogue kind a code, every catalogue field a slot and every option an index', () => {
    for (const kind of LAYER_KIND_LIST) {
      expect(V3_WIRE.kinds).toContain(kind);
      const wire = V3_WIRE.layerFields[kind];
      const catalogue = LAYER_KINDS[kind].fields;
      // A field added to the catalogue needs a new link version (see codec.ts): fail loudly here.
      expect(wire.map((f) => f.key).sort()).toEqual(catalogue.map((f) => f.key).sort());
      for (const f of catalogue) {
        const w = wire.find((x) => x.key === f.key);
        if (f.type === 'select') {
          expect(w?.options, `${kind}.${f.key}`).toBeDefined();
          for (const option of f.options) expect(w?.options, `${kind}.${f.key}`).toContain(option);
        } else {
          expect(w?.options, `${kind}.${f.key}`).toBeUndefined();
        }
      }
    }
    const settings = (key: string): readonly string[] | undefined => V3_WIRE.settings.find((f) => f.key === key)?.options;
    expect(V3_WIRE.settings.map((f) => f.key).sort()).toEqual(SPEC_KEYS.filter((k) => k !== 'encoder' && k !== 'decoder'));
    // The data set is written as its id (own sets have names), not as an option index.
    expect(settings('dataset')).toBeUndefined();
    for (const v of LOSSES) expect(settings('loss')).toContain(v);
    for (const v of OPTIMIZERS) expect(settings('optimizer')).toContain(v);
    for (const v of BACKEND_CHOICES) expect(settings('backend')).toContain(v);
    for (const v of VARIANTS) expect(settings('variant')).toContain(v);
    for (const v of CORRUPTIONS) expect(settings('corruption')).toContain(v);
  });

  it('are v2’s with the data set written as its id (v2 links keep their meaning)', () => {
    expect(V3_WIRE.kinds).toEqual(V2_WIRE.kinds);
    expect(V3_WIRE.layerFields).toEqual(V2_WIRE.layerFields);
    expect(V3_WIRE.settings.slice(1)).toEqual(V2_WIRE.settings.slice(1));
    expect(V2_WIRE.settings[0].options).toEqual(['mnist', 'fashion-mnist']);
  });

  it('v2 is v1 with the L1 loss and the variant fields appended (v1 links keep their meaning)', () => {
    expect(V2_WIRE.kinds).toEqual(V1_WIRE.kinds);
    expect(V2_WIRE.settings.slice(0, V1_WIRE.settings.length).map((f) => f.key)).toEqual(V1_WIRE.settings.map((f) => f.key));
    V1_WIRE.settings.forEach((f, i) => expect(V2_WIRE.settings[i].options?.slice(0, f.options?.length ?? 0)).toEqual(f.options));
  });
});

describe('v3 fixtures', () => {
  it.each(V3_LINK_FIXTURES.map((f) => [f.name, f] as const))('%s decodes to exactly its stored spec', (_name, fixture) => {
    const r = expectOk(decodeExperiment(fixture.link));
    expect(r.spec).toEqual(fixture.spec);
    expect(r.warnings).toEqual([]);
  });

  it('cover the synthetic sets and an own image set', () => {
    for (const d of ['shapes', 'shapes-rgb']) expect(V3_LINK_FIXTURES.some((f) => f.spec.dataset === d), d).toBe(true);
    expect(V3_LINK_FIXTURES.some((f) => isOwnDataset(f.spec.dataset))).toBe(true);
  });

  it('an own set’s name that is not a valid name falls back to MNIST with a warning', () => {
    for (const bad of ['own:', 'own: lead', 'own:a/b', 'own:' + 'x'.repeat(41), 'cifar10']) {
      const r = expectOk(normalizeSpec({ ...DEFAULT_SPEC, dataset: bad }, 'link'));
      expect(r.spec.dataset, bad).toBe('mnist');
      expect(r.warnings.join(' '), bad).toMatch(/data set .* is not a known option; using mnist/);
    }
  });
});

describe('v2 fixtures', () => {
  it('the v2 writer, kept for this test, still writes these links byte for byte', () => {
    for (const f of V2_LINK_FIXTURES) expect(encodeV2(f.spec), f.name).toBe(f.link);
  });

  it.each(V2_LINK_FIXTURES.map((f) => [f.name, f] as const))('%s decodes to exactly its stored spec', (_name, fixture) => {
    const r = expectOk(decodeExperiment(fixture.link));
    expect(r.spec).toEqual(fixture.spec);
    expect(r.warnings).toEqual([]);
  });

  it('cover every variant, corruption and loss', () => {
    for (const v of VARIANTS) expect(V2_LINK_FIXTURES.some((f) => f.spec.variant === v), v).toBe(true);
    for (const c of CORRUPTIONS) expect(V2_LINK_FIXTURES.some((f) => f.spec.variant === 'denoising' && f.spec.corruption === c), c).toBe(true);
    for (const l of LOSSES) expect(V2_LINK_FIXTURES.some((f) => f.spec.loss === l), l).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------------------------

describe('link size', () => {
  it(`DEFAULT_SPEC's full link is under 200 characters (measured: ${defaultLinkLength})`, () => {
    console.log(`DEFAULT_SPEC link: ${defaultLinkLength} characters: ${LINK_PREFIX}${encodeExperiment(DEFAULT_SPEC)}`);
    expect(defaultLinkLength).toBeLessThan(200);
  });

  it(`a 20-layer experiment's full link is under 1,000 characters (measured: ${twentyLinkLength}; random 20-layer worst of 50: ${worstRandomTwentyLength})`, () => {
    console.log(`20-layer link: ${twentyLinkLength} characters; random 20-layer experiments: at most ${worstRandomTwentyLength}`);
    expect(twentyLinkLength).toBeLessThan(1000);
    expect(worstRandomTwentyLength).toBeLessThan(1000);
    for (const p of PRESETS) expect((LINK_PREFIX + encodeExperiment(p.spec)).length).toBeLessThan(250);
  });

  it('the largest possible experiments fit well inside the safety caps', () => {
    const rng = mulberry32(77);
    let longest = 0;
    let longestJson = 0;
    for (let i = 0; i < 20; i++) {
      const spec = randomSpec(rng, 0);
      spec.encoder = Array.from({ length: MAX_LAYERS_PER_STACK }, () => randomLayer(rng));
      spec.decoder = Array.from({ length: MAX_LAYERS_PER_STACK }, () => randomLayer(rng));
      const link = encodeExperiment(spec);
      longest = Math.max(longest, link.length);
      longestJson = Math.max(longestJson, decompressFromEncodedURIComponent(link.slice(2)).length);
      roundTrip(spec);
    }
    console.log(`128-layer random experiments: links up to ${longest} characters, ${longestJson} unpacked`);
    expect(longest).toBeLessThan(MAX_LINK_CHARS / 2);
    expect(longestJson).toBeLessThan(MAX_LINK_JSON_CHARS / 2);
  });
});

// ---------------------------------------------------------------------------------------------
// Fixtures: links made today must open the same experiment forever
// ---------------------------------------------------------------------------------------------

describe('v1 fixtures', () => {
  it.each(V1_LINK_FIXTURES.map((f) => [f.name, f] as const))('%s decodes to exactly its stored spec', (_name, fixture) => {
    const r = expectOk(decodeExperiment(fixture.link));
    expect(r.spec).toEqual(fixture.spec);
    expect(r.warnings).toEqual([]);
    expectOk(readHash(`#x=${fixture.link}`) ?? { ok: false, error: 'no hash' });
  });

  it('the v1 writer, kept for this test, still writes these links byte for byte', () => {
    for (const f of V1_LINK_FIXTURES) expect(encodeV1(f.spec), f.name).toBe(f.link);
  });

  it('the stored specs are today’s presets, and together use every kind and every option', () => {
    // Every preset a fixture stored is still today's preset of that id (presets added since then have none).
    const stored = V1_LINK_FIXTURES.filter((f) => f.name.startsWith('preset '));
    expect(stored.length).toBeGreaterThanOrEqual(5);
    for (const f of stored) expect(PRESETS.find((p) => `preset ${p.id}` === f.name)?.spec, f.name).toEqual(f.spec);
    const layers = V1_LINK_FIXTURES.flatMap((f) => [...f.spec.encoder, ...f.spec.decoder]);
    for (const kind of LAYER_KIND_LIST) expect(layers.some((l) => l.kind === kind), kind).toBe(true);
    for (const kind of LAYER_KIND_LIST) {
      for (const f of LAYER_KINDS[kind].fields) {
        if (f.type !== 'select') continue;
        for (const option of f.options) {
          const used = layers.some((l) => l.kind === kind && (l as unknown as Record<string, unknown>)[f.key] === option);
          expect(used, `${kind}.${f.key} = ${option}`).toBe(true);
        }
      }
    }
    const specs = V1_LINK_FIXTURES.map((f) => f.spec);
    for (const v of DATASETS.slice(0, 2)) expect(specs.some((s) => s.dataset === v), v).toBe(true); // the synthetic sets came with v3
    for (const v of LOSSES.filter((l) => l !== 'l1')) expect(specs.some((s) => s.loss === v), v).toBe(true); // l1 came with v2
    for (const v of OPTIMIZERS) expect(specs.some((s) => s.optimizer === v), v).toBe(true);
    for (const v of BACKEND_CHOICES) expect(specs.some((s) => s.backend === v), v).toBe(true);
    for (const s of specs) expect(problemsOf(s)).toEqual([]);
  });

  it('the every-kind fixture is a working architecture', () => {
    const f = V1_LINK_FIXTURES.find((x) => x.name.startsWith('every layer kind'));
    if (!f) throw new Error('fixture missing');
    const report = inferShapes(f.spec, datasetShape(f.spec.dataset));
    expect(report.errors).toEqual([]);
  });

  it('the v1 JSON file fixture imports to its stored spec', () => {
    const r = expectOk(specFromJson(V1_JSON_FIXTURE.text));
    expect(r.spec).toEqual(V1_JSON_FIXTURE.spec);
    expect(r.warnings).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Normalisation: clamping, defaults, unknowns
// ---------------------------------------------------------------------------------------------

describe('normalizeSpec', () => {
  const plain = (): Record<string, unknown> => JSON.parse(JSON.stringify(DEFAULT_SPEC)) as Record<string, unknown>;

  it('accepts a valid spec unchanged, with no warnings', () => {
    const r = expectOk(normalizeSpec(plain()));
    expect(r.spec).toEqual(DEFAULT_SPEC);
    expect(r.warnings).toEqual([]);
  });

  it('clamps absurd settings, with a warning each', () => {
    const r = expectOk(
      normalizeSpec({ ...plain(), learningRate: 1e9, batchSize: 0, epochs: -5, seed: -1, trainSize: 1e12 }),
    );
    expect(r.spec).toMatchObject({ learningRate: 10, batchSize: 1, epochs: 1, seed: 0, trainSize: 70000 });
    expect(r.warnings).toEqual([
      'learning rate 1000000000 clamped to 10',
      'batch size 0 clamped to 1',
      'epochs -5 clamped to 1',
      'seed -1 clamped to 0',
      'training images 1000000000000 clamped to 70000',
    ]);
  });

  it('replaces NaN and non-numbers with defaults; clamps infinities; rounds integers', () => {
    const r = expectOk(
      normalizeSpec({ ...plain(), learningRate: Number.NaN, batchSize: 32.5, epochs: Infinity, seed: -Infinity, trainSize: '100' }),
    );
    expect(r.spec).toMatchObject({ learningRate: DEFAULT_SPEC.learningRate, batchSize: 33, epochs: 1000, seed: 0 });
    expect(r.spec.trainSize).toBe(DEFAULT_SPEC.trainSize);
    expect(r.warnings).toEqual([
      `learning rate NaN is not a number; using ${DEFAULT_SPEC.learningRate}`,
      'batch size 32.5 rounded to 33',
      'epochs Infinity clamped to 1000',
      'seed -Infinity clamped to 0',
      `training images "100" is not a number; using ${DEFAULT_SPEC.trainSize}`,
    ]);
  });

  it('clamps absurd layer fields: 10,000 filters, kernel 0, NaN stride, negative units, rate 5, alpha -1, huge shape', () => {
    const r = expectOk(
      normalizeSpec({
        ...plain(),
        encoder: [
          { kind: 'conv2d', filters: 10000, kernelSize: 0, strides: Number.NaN, padding: 'same', activation: 'relu' },
          { kind: 'dense', units: -3, activation: 'relu' },
          { kind: 'dropout', rate: 5 },
          { kind: 'activation', activation: 'leakyRelu', alpha: -1 },
        ],
        decoder: [{ kind: 'reshape', targetShape: [0, 1e9, 3.4] }],
      }),
    );
    expect(r.spec.encoder).toEqual([
      { kind: 'conv2d', filters: 512, kernelSize: 1, strides: 1, padding: 'same', activation: 'relu' },
      { kind: 'dense', units: 1, activation: 'relu' },
      { kind: 'dropout', rate: 0.95 },
      { kind: 'activation', activation: 'leakyRelu', alpha: 0 },
    ]);
    expect(r.spec.decoder).toEqual([{ kind: 'reshape', targetShape: [1, 4096, 3] }]);
    expect(r.warnings).toEqual([
      'encoder layer 1 (Conv2D): filters 10000 clamped to 512',
      'encoder layer 1 (Conv2D): kernel size 0 clamped to 1',
      'encoder layer 1 (Conv2D): stride NaN is not a number; using 1',
      'encoder layer 2 (Dense): units -3 clamped to 1',
      'encoder layer 3 (Dropout): rate 5 clamped to 0.95',
      'encoder layer 4 (Activation): alpha -1 clamped to 0',
      'decoder layer 1 (Reshape): target shape [0, 1000000000, 3.4] changed to [1, 4096, 3]',
    ]);
  });

  it('unknown options fall back to the default with a warning', () => {
    const r = expectOk(
      normalizeSpec({
        ...plain(),
        dataset: 'cifar',
        loss: 'hinge',
        optimizer: 7,
        backend: 'tpu',
        encoder: [{ kind: 'conv2d', filters: 8, kernelSize: 3, strides: 1, padding: 'full', activation: 'gelu' }],
        decoder: [{ kind: 'activation', activation: 'swish', alpha: 0.2 }],
      }),
    );
    expect(r.spec).toMatchObject({ dataset: 'mnist', loss: 'bce', optimizer: 'adam', backend: 'auto' });
    expect(r.spec.encoder[0]).toEqual({ ...LAYER_KINDS.conv2d.defaults, filters: 8 });
    expect(r.spec.decoder[0]).toEqual({ kind: 'activation', activation: 'leakyRelu', alpha: 0.2 });
    expect(r.warnings).toContain('data set "cifar" is not a known option; using mnist');
    expect(r.warnings).toContain('optimizer 7 is not a known option; using adam');
    expect(r.warnings).toContain('encoder layer 1 (Conv2D): activation "gelu" is not a known option; using relu');
    expect(r.warnings).toHaveLength(7);
  });

  it('missing fields take defaults (an older, smaller object still loads)', () => {
    const r = expectOk(normalizeSpec({ encoder: [{ kind: 'conv2d', filters: 4 }], decoder: [{ kind: 'batchNorm' }] }));
    expect(r.spec).toEqual({
      ...DEFAULT_SPEC,
      encoder: [{ ...LAYER_KINDS.conv2d.defaults, filters: 4 }],
      decoder: [{ kind: 'batchNorm' }],
    });
    expect(r.warnings).toContain('learning rate missing; using 0.002');
    expect(r.warnings).toContain('encoder layer 1 (Conv2D): kernel size missing; using 3');
  });

  it('ignores unknown extra fields; drops unknown layer kinds and non-layers with a warning', () => {
    const r = expectOk(
      normalizeSpec({
        ...plain(),
        colour: 'blue',
        encoder: [{ kind: 'flatten', extra: 1 }, { kind: 'attention', heads: 4 }, 5, null, []],
        decoder: [],
      }),
    );
    expect(r.spec.encoder).toEqual([{ kind: 'flatten' }]);
    expect(r.warnings).toEqual([
      'encoder layer 2: unknown layer kind "attention" removed (it may come from a newer version of the app)',
      'encoder layer 3: 5 is not a layer; removed',
      'encoder layer 4: null is not a layer; removed',
      'encoder layer 5: [] is not a layer; removed',
    ]);
  });

  it('refuses things that are not an experiment', () => {
    for (const v of [null, undefined, 5, 'x', [], [1, 2], {}, { learningRate: 0.1 }, true]) {
      expectError(normalizeSpec(v), /has no experiment in it/);
    }
    expectError(normalizeSpec({ encoder: 'conv', decoder: [] }), /encoder is not a list of layers/);
    expectError(normalizeSpec({ encoder: [], decoder: { 0: 1 } }), /decoder is not a list of layers/);
    expectError(normalizeSpec({ encoder: [] }), /decoder is not a list of layers/);
  });

  it('refuses more than 64 layers per stack', () => {
    const many = Array.from({ length: MAX_LAYERS_PER_STACK + 1 }, () => ({ kind: 'flatten' }));
    expectError(normalizeSpec({ ...plain(), encoder: many }), /too many layers \(65 in the encoder; the most is 64\)/);
    expectError(normalizeSpec({ ...plain(), decoder: Array.from({ length: 100000 }, () => 0) }), /too many layers/);
  });

  it('caps the warning list', () => {
    const layers = Array.from({ length: 40 }, () => ({ kind: 'dense', units: -1, activation: 'x' }));
    const r = expectOk(normalizeSpec({ ...plain(), encoder: layers }));
    expect(r.warnings).toHaveLength(MAX_WARNINGS + 1);
    expect(r.warnings[MAX_WARNINGS]).toBe(`…and ${80 - MAX_WARNINGS} more changes`);
  });

  it('never throws, even on hostile objects', () => {
    const circular: Record<string, unknown> = { ...plain() };
    circular.self = circular;
    (circular.encoder as unknown[]).push(circular);
    expectSane(normalizeSpec(circular));
    const hostile = Object.defineProperty({ encoder: [], decoder: [] }, 'learningRate', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expectSane(normalizeSpec(hostile));
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        has() {
          throw new Error('boom');
        },
      },
    );
    expectSane(normalizeSpec(proxy));
    expectSane(normalizeSpec({ encoder: [{ kind: 'reshape', targetShape: [1n] }], decoder: [] }));
    expectSane(normalizeSpec({ encoder: [{ kind: { toString: () => 'conv2d' } }], decoder: [] }));
  });
});

// ---------------------------------------------------------------------------------------------
// Damaged, tampered, future and hostile links
// ---------------------------------------------------------------------------------------------

describe('decodeExperiment on bad links', () => {
  const good = encodeExperiment(DEFAULT_SPEC);

  it('empty and near-empty', () => {
    expectError(decodeExperiment(''), /has no experiment in it/);
    expectError(decodeExperiment('   '), /has no experiment in it/);
    expectError(decodeExperiment('1.'), /has no experiment in it/);
    expectError(decodeExperiment('x='), /has no experiment in it/);
  });

  it('no version marker', () => {
    expectError(decodeExperiment('hello'), /damaged \(it has no version marker\)/);
    expectError(decodeExperiment(good.slice(2)), /no version marker/);
    expectError(decodeExperiment('.abc'), /no version marker/);
  });

  it('future and unknown versions', () => {
    expectError(decodeExperiment(`7.${good.slice(2)}`), /^This link was made by a newer version \(v7\) of the app/);
    expectError(decodeExperiment(rawLink({ anything: true }, 4)), /newer version \(v4\)/);
    expectError(decodeExperiment(`0.${good.slice(2)}`), /unknown format v0/);
  });

  it('characters a link never has', () => {
    expectError(decodeExperiment(`${good}!`), /damaged/);
    expectError(decodeExperiment(`1.${'é'.repeat(10)}`), /damaged/);
  });

  it('could not decompress', () => {
    expectError(decodeExperiment('1.A'), /damaged \(could not decompress it\)/);
    expectError(decodeExperiment('1.$$$$'), /could not decompress it/);
  });

  it('decompresses to something that is not an experiment', () => {
    expectError(decodeExperiment(`1.${compressToEncodedURIComponent('not json')}`), /damaged \(could not read what is in it\)/);
    expectError(decodeExperiment(rawLink('hello')), /not an experiment/);
    expectError(decodeExperiment(rawLink({ encoder: [], decoder: [] })), /not an experiment/);
    expectError(decodeExperiment(rawLink([1, 2, 3])), /not an experiment/);
    expectError(decodeExperiment(rawLink(null)), /not an experiment/);
  });

  it('too long links, too many layers, decompression bombs', () => {
    expectError(decodeExperiment(`1.${'A'.repeat(MAX_LINK_CHARS)}`), /too long to be an experiment \(20002 characters; the most is 20000\)/);
    expectError(decodeExperiment('1.'.repeat(1_000_000)), /too long/);
    const many = Array.from({ length: MAX_LAYERS_PER_STACK + 1 }, () => [8]);
    expectError(decodeExperiment(rawLink([[], many, []])), /too many layers \(65 in the encoder/);
    expectError(decodeExperiment(rawLink([[], [], many])), /too many layers \(65 in the decoder/);
    // A crafted stream of self-referencing LZW codes: 2,000 characters that would unpack to
    // about 2 million, 20,000 that would unpack to 200 million.
    for (const size of [2000, MAX_LINK_CHARS - 10]) {
      const t = performance.now();
      expectError(decodeExperiment(`1.${lzBomb(size)}`), /unpacks to far more than an experiment/);
      expect(performance.now() - t).toBeLessThan(500);
    }
  });

  it('truncated links: every prefix of every fixture is an error or a valid spec', () => {
    let ok = 0;
    let total = 0;
    for (const f of V1_LINK_FIXTURES) {
      for (let n = 0; n < f.link.length; n++) {
        const r = decodeExperiment(f.link.slice(0, n));
        expectSane(r, f.link.slice(0, n));
        total++;
        if (r.ok) ok++;
      }
    }
    expect(total).toBeGreaterThan(500);
    expect(ok).toBeLessThan(total / 10);
  });

  it('tampered payloads: smaller (older) ones decode with defaults and warnings', () => {
    const payload = payloadOf(good);
    // Settings cut down to the data set only; a conv layer with only its filters.
    const smaller = [[1], [[0, 16]], payload[2]];
    const r = expectOk(decodeExperiment(rawLink(smaller)));
    expect(r.spec.dataset).toBe('fashion-mnist');
    expect(r.spec.learningRate).toBe(DEFAULT_SPEC.learningRate);
    expect(r.spec.encoder).toEqual([{ ...LAYER_KINDS.conv2d.defaults, filters: 16 }]);
    expect(r.spec.decoder).toEqual(DEFAULT_SPEC.decoder);
    expect(r.warnings).toContain('loss missing; using bce');
    expect(r.warnings).toContain('encoder layer 1 (Conv2D): padding missing; using same');
  });

  it('tampered payloads: extra trailing values are ignored, unknown codes and indices repaired', () => {
    const payload = payloadOf(good);
    const settings = [...(payload[0] as unknown[]), 'future', 1];
    const r1 = expectOk(decodeExperiment(rawLink([settings, payload[1], payload[2], { more: true }])));
    expect(r1.spec).toEqual(DEFAULT_SPEC);
    expect(r1.warnings).toEqual([]);

    const r2 = expectOk(decodeExperiment(rawLink([[9, 9, 9, 1e9, 0, -5, 1.5, null, 99], [[99, 1], [0, 10000, 3, 1, 5, 9], 'x', []], []])));
    expect(r2.spec).toMatchObject({ dataset: 'mnist', loss: 'bce', optimizer: 'adam', learningRate: 10, batchSize: 1, epochs: 1, seed: 2, backend: 'auto' });
    expect(r2.spec.trainSize).toBe(DEFAULT_SPEC.trainSize);
    expect(r2.spec.encoder).toEqual([{ kind: 'conv2d', filters: 512, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' }]);
    expect(r2.warnings).toContain('learning rate 1000000000 clamped to 10');
    expect(r2.warnings).toContain('training images null is not a number; using 9000');
    expect(r2.warnings).toContain('encoder layer 1: unknown layer kind 99 removed (it may come from a newer version of the app)');
    expect(r2.warnings).toContain('encoder layer 2 (Conv2D): padding 5 is not a known option; using same');
    expect(r2.warnings).toContain('encoder layer 3: "x" is not a layer; removed');
  });

  it('NaN in a spec travels as null and comes back as the default, with a warning', () => {
    const r = expectOk(decodeExperiment(encodeExperiment({ ...DEFAULT_SPEC, learningRate: Number.NaN })));
    expect(r.spec).toEqual(DEFAULT_SPEC);
    expect(r.warnings).toEqual([`learning rate null is not a number; using ${DEFAULT_SPEC.learningRate}`]);
  });

  it('inputs that are not strings', () => {
    for (const v of [undefined, null, 5, {}, []]) expectSane(decodeExperiment(v as unknown as string));
    expect(readHash(undefined as unknown as string)).toBeNull();
    expectSane(specFromJson(null as unknown as string));
  });
});

// ---------------------------------------------------------------------------------------------
// Hash helpers and pasted links
// ---------------------------------------------------------------------------------------------

describe('hash helpers', () => {
  it('hashFor / readHash round trip', () => {
    const hash = hashFor(DEFAULT_SPEC);
    expect(hash).toBe(`#x=${encodeExperiment(DEFAULT_SPEC)}`);
    expect(expectOk(readHash(hash) ?? { ok: false, error: 'null' }).spec).toEqual(DEFAULT_SPEC);
    expect(expectOk(readHash(hash.slice(1)) ?? { ok: false, error: 'null' }).spec).toEqual(DEFAULT_SPEC);
    expect(expectOk(readHash(`#view=3&x=${encodeExperiment(DEFAULT_SPEC)}&y=1`) ?? { ok: false, error: 'null' }).spec).toEqual(DEFAULT_SPEC);
  });

  it('null without an x= part; an error for an empty one', () => {
    for (const h of ['', '#', '#view=1', '#xx=1', 'y=2&z=3']) expect(readHash(h)).toBeNull();
    expectError(readHash('#x=') ?? { ok: true, spec: DEFAULT_SPEC, warnings: [] }, /no experiment/);
  });

  it('whole pasted URLs, %-escapes, wrapped lines and +→space damage still decode', () => {
    const spec = PRESETS[1].spec;
    const link = encodeExperiment(spec);
    const url = `${LINK_PREFIX}${link}`;
    expect(expectOk(decodeExperiment(url)).spec).toEqual(spec);
    expect(expectOk(decodeExperiment(`  ${url}\n`)).spec).toEqual(spec);
    expect(expectOk(decodeExperiment(encodeURIComponent(link))).spec).toEqual(spec);
    expect(expectOk(decodeExperiment(`${link.slice(0, 40)}\r\n${link.slice(40)}`)).spec).toEqual(spec);
    const withPlus = V1_LINK_FIXTURES.map((f) => f.link).find((l) => l.includes('+'));
    if (withPlus) expect(expectOk(decodeExperiment(withPlus.replace(/\+/g, ' '))).warnings).toEqual([]);
    expectSane(decodeExperiment('%E0%A4%A'));
  });
});

// ---------------------------------------------------------------------------------------------
// JSON files
// ---------------------------------------------------------------------------------------------

describe('JSON export / import', () => {
  it('specToJson writes the envelope, pretty', () => {
    const text = specToJson(DEFAULT_SPEC);
    expect(text).toContain('\n  "experiment": {');
    expect(JSON.parse(text)).toEqual({ app: JSON_APP_ID, version: 1, experiment: DEFAULT_SPEC });
  });

  it('round trips every preset and 100 random experiments', () => {
    for (const p of PRESETS) expect(expectOk(specFromJson(specToJson(p.spec))).spec).toEqual(p.spec);
    const rng = mulberry32(99);
    for (let i = 0; i < 100; i++) {
      const spec = randomSpec(rng);
      const r = expectOk(specFromJson(specToJson(spec)));
      expect(r.spec).toEqual(spec);
      expect(r.warnings).toEqual([]);
    }
  });

  it('clear errors for bad files', () => {
    expectError(specFromJson(''), /This file is empty/);
    expectError(specFromJson('{"app":'), /This file is not valid JSON/);
    expectError(specFromJson('[1,2]'), /not an Autoencoder Playground experiment/);
    expectError(specFromJson(JSON.stringify(DEFAULT_SPEC)), /not an Autoencoder Playground experiment/);
    expectError(specFromJson(JSON.stringify({ app: 'other-app', version: 1, experiment: DEFAULT_SPEC })), /not an Autoencoder Playground/);
    expectError(specFromJson(JSON.stringify({ app: JSON_APP_ID, experiment: DEFAULT_SPEC })), /no valid version number/);
    expectError(specFromJson(JSON.stringify({ app: JSON_APP_ID, version: '1', experiment: DEFAULT_SPEC })), /no valid version number/);
    expectError(specFromJson(JSON.stringify({ app: JSON_APP_ID, version: 3, experiment: DEFAULT_SPEC })), /^This file was made by a newer version \(v3\) of the app/);
    expectError(specFromJson(JSON.stringify({ app: JSON_APP_ID, version: 1 })), /^This file has no experiment in it/);
    expectError(specFromJson(JSON.stringify({ app: JSON_APP_ID, version: 1, experiment: 'x' })), /^This file has no experiment in it/);
    expectError(specFromJson(' '.repeat(2_000_000)), /empty/);
    expectError(specFromJson(`{"a":"${'x'.repeat(2_000_000)}"}`), /too big/);
  });

  it('repairs a hand-edited file with warnings', () => {
    const text = JSON.stringify({ app: JSON_APP_ID, version: 1, experiment: { ...DEFAULT_SPEC, epochs: 0, note: 'hi' } });
    const r = expectOk(specFromJson(text));
    expect(r.spec).toEqual({ ...DEFAULT_SPEC, epochs: 1 });
    expect(r.warnings).toEqual(['epochs 0 clamped to 1']);
  });
});

// ---------------------------------------------------------------------------------------------
// The decompression-bomb guard
// ---------------------------------------------------------------------------------------------

/** A hostile link body: self-referencing LZW codes whose output grows quadratically. */
function lzBomb(chars: number): string {
  const bits: number[] = [];
  const put = (v: number, n: number): void => {
    for (let i = 0; i < n; i++) bits.push((v >> i) & 1);
  };
  put(0, 2);
  put(91, 8); // '['
  let numBits = 3;
  let enlargeIn = 4;
  let dictSize = 4;
  while (bits.length / 6 < chars - 4) {
    put(dictSize, numBits);
    dictSize++;
    enlargeIn--;
    if (enlargeIn === 0) {
      enlargeIn = 2 ** numBits;
      numBits++;
    }
  }
  put(2, numBits);
  while (bits.length % 6) bits.push(0);
  let s = '';
  for (let i = 0; i < bits.length; i += 6) {
    let v = 0;
    for (let j = 0; j < 6; j++) v = (v << 1) | bits[i + j];
    s += URI_ALPHABET[v];
  }
  return s;
}

describe('lzDecompressedLength', () => {
  it('agrees with lz-string on real links, bombs and 3,000 random or damaged strings', () => {
    const rng = mulberry32(4242);
    const bomb = lzBomb(300);
    expect(lzDecompressedLength(bomb, 1e9)).toBe(decompressFromEncodedURIComponent(bomb).length);
    expect(lzDecompressedLength(bomb, 1000)).toBe(Infinity);
    const samples: string[] = [];
    for (const f of V1_LINK_FIXTURES) samples.push(f.link.slice(2));
    for (let i = 0; i < 3000; i++) {
      if (i % 2 === 0) {
        const base = pick(rng, V1_LINK_FIXTURES).link.slice(2);
        samples.push([...base].map((ch) => (rng() < 0.03 ? pick(rng, [...URI_ALPHABET]) : ch)).join(''));
      } else {
        samples.push(Array.from({ length: randInt(rng, 1, 200) }, () => pick(rng, [...URI_ALPHABET])).join(''));
      }
    }
    let nonEmpty = 0;
    for (const s of samples) {
      let real: number | null;
      try {
        const out = decompressFromEncodedURIComponent(s);
        real = out ? out.length : null;
      } catch {
        real = null;
      }
      const est = lzDecompressedLength(s, 1e9);
      // A stream whose first code is 3 is something no compressor writes: the guard calls it damaged.
      const firstCodeIsThree = URI_ALPHABET.indexOf(s[0]) >> 4 === 3;
      if (!(firstCodeIsThree && est === null)) expect(est, s).toBe(real);
      if (real !== null) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(500);
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzz (seeded, deterministic)
// ---------------------------------------------------------------------------------------------

describe('fuzz', () => {
  it('1,000 random strings: never throws; every ok result is valid', () => {
    const rng = mulberry32(2024);
    const alphabets = [URI_ALPHABET, `${URI_ALPHABET}.#=&% !é\n\u0000\ud800`, '0123456789.', 'AB'];
    let ok = 0;
    for (let i = 0; i < 1000; i++) {
      const alphabet = pick(rng, alphabets);
      const n = rng() < 0.05 ? randInt(rng, 1000, 30000) : randInt(rng, 0, 120);
      let s = Array.from({ length: n }, () => alphabet[Math.floor(rng() * alphabet.length)]).join('');
      const r0 = rng();
      if (r0 < 0.5) s = `1.${s}`;
      else if (r0 < 0.6) s = `#x=${s}`;
      else if (r0 < 0.65) s = `${randInt(rng, 0, 20)}.${s}`;
      let r: DecodeResult;
      try {
        r = decodeExperiment(s);
      } catch (e) {
        throw new Error(`threw on ${JSON.stringify(s)}: ${String(e)}`, { cause: e });
      }
      expectSane(r, s);
      if (r.ok) ok++;
      expectSane(readHash(s) ?? { ok: false, error: 'no x= part here' }, s);
    }
    console.log(`random strings: ${ok} of 1000 decoded to a (repaired) experiment`);
  });

  it('1,000 mutations of valid links (flip, delete, insert): never throws; every ok result is valid', () => {
    const rng = mulberry32(7);
    const bases = [...V1_LINK_FIXTURES.map((f) => f.link), ...Array.from({ length: 20 }, () => encodeExperiment(randomSpec(rng)))];
    const chars = `${URI_ALPHABET}. %`;
    let ok = 0;
    let same = 0;
    for (let i = 0; i < 1000; i++) {
      const base = pick(rng, bases);
      const s = [...base];
      const edits = randInt(rng, 1, 4);
      for (let e = 0; e < edits; e++) {
        const at = randInt(rng, 0, Math.max(0, s.length - 1));
        const op = rng();
        if (op < 0.4) s[at] = pick(rng, [...chars]);
        else if (op < 0.7) s.splice(at, randInt(rng, 1, 3));
        else s.splice(at, 0, pick(rng, [...chars]));
      }
      const mutated = s.join('');
      let r: DecodeResult;
      try {
        r = decodeExperiment(mutated);
      } catch (e) {
        throw new Error(`threw on ${JSON.stringify(mutated)}: ${String(e)}`, { cause: e });
      }
      expectSane(r, mutated);
      if (r.ok) {
        ok++;
        if (r.warnings.length === 0) same++;
      }
    }
    console.log(`mutated links: ${ok} of 1000 still decode (${same} without warnings), the rest are clear errors`);
  });

  it('1,000 mutations of payloads and spec objects (junk values anywhere): never throws; every ok result is valid', () => {
    const rng = mulberry32(99);
    const junk = (): unknown =>
      pick(rng, [
        null,
        -1,
        0,
        1e308,
        -1e308,
        0.5,
        2 ** 53,
        'x',
        '',
        [],
        [1, 2, 3, 4],
        {},
        { kind: 'conv2d' },
        true,
        randInt(rng, -100, 100),
        Array.from({ length: 200 }, () => 1),
      ]);
    const mutate = (value: unknown, depth: number): unknown => {
      if (rng() < 0.1 || depth > 4) return junk();
      if (Array.isArray(value)) {
        const copy = value.map((v) => (rng() < 0.3 ? mutate(v, depth + 1) : v));
        if (rng() < 0.1) copy.splice(randInt(rng, 0, copy.length), 0, junk());
        if (rng() < 0.1) copy.pop();
        return copy;
      }
      if (typeof value === 'object' && value !== null) {
        const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
        for (const k of Object.keys(copy)) if (rng() < 0.3) copy[k] = mutate(copy[k], depth + 1);
        if (rng() < 0.1) delete copy[pick(rng, Object.keys(copy).concat('x'))];
        return copy;
      }
      return rng() < 0.5 ? junk() : value;
    };
    let ok = 0;
    for (let i = 0; i < 1000; i++) {
      const spec = randomSpec(rng, 6);
      if (i % 2 === 0) {
        const payload = mutate(payloadOf(encodeExperiment(spec)), 0);
        const r = decodeExperiment(rawLink(payload));
        expectSane(r, JSON.stringify(payload));
        if (r.ok) ok++;
      } else {
        const value = mutate(JSON.parse(JSON.stringify(spec)), 0);
        const r = normalizeSpec(value);
        expectSane(r, JSON.stringify(value));
        if (r.ok) ok++;
        expectSane(specFromJson(JSON.stringify({ app: JSON_APP_ID, version: 1, experiment: value })));
      }
    }
    console.log(`mutated payloads and objects: ${ok} of 1000 repaired to a valid experiment`);
    expect(ok).toBeGreaterThan(300);
  });
});
