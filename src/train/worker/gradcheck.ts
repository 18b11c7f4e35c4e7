/**
 * Gradient check of every layer kind in the catalogue, on whichever backend is active.
 *
 * For each kind we build one or more tiny cases around a single layer made by `makeLayer` (batch 3,
 * so batch-stride bugs show), with a fixed pseudo-random input x and target t and the loss
 *   L = ½ Σ w ⊙ (layer(x) − t)²   (w: fixed random weights in [0.5, 1.5], so no two outputs are alike).
 * Analytic gradients w.r.t. the input and every trainable weight come from tf.variableGrads; numeric
 * ones from central finite differences on up to 12 stratified coordinates per tensor (so every image
 * of the batch is sampled), with the loss summed in float64 from the float32 layer outputs.
 *
 * - error per coordinate: |a − n| / max(|a|, |n|, 0.1·rms(analytic tensor), 1e-4): relative for
 *   ordinary gradients, absolute-ish for gradients that are tiny compared with the rest of the tensor.
 * - maxPool uses inputs whose values are spaced 4·eps apart, so no perturbation changes an argmax.
 * - upSampling2d includes a 22-row input checked at every pixel: the stock webgpu kernel sends one
 *   row's gradient to its neighbour at that size (see kernels.ts).
 * - activation kinds with kinks (relu, leakyRelu, selu) get inputs with |x| ≥ 0.1 > eps.
 * - batchNorm runs with training=true (batch statistics: the path used while training).
 * - dropout runs with training=true and its fixed seed: tfjs draws the same mask for the same seed on
 *   every call, which the check verifies (two forward passes must agree) before comparing gradients;
 *   if they do not, it falls back to training=false (identity) and says so in `detail`.
 *
 * Each kind also gets two real training steps (adam, mse: the app's trainStep and optimizer, on a
 * tf.model wrapping the layer) whose losses must be finite. Everything created is disposed.
 *
 * Worker-side only (imports tfjs).
 */
import * as tf from '@tensorflow/tfjs';
import { LAYER_KIND_LIST } from '../../model/catalogue';
import { ACTIVATIONS, type ExperimentSpec, type LayerKind, type LayerSpec, type Shape } from '../../model/spec';
import { buildModel, makeLayer } from './buildModel';
import { lossFn, makeTrainingOptimizer, trainStep, variantObjective, variantStep } from './training';
import { corrupt } from './variants';
import { VARIANT_DEFAULTS } from '../../model/presets';
import { mulberry32 } from '../../data/split';

export interface GradCheckResult {
  kind: string;
  backend: string;
  maxRelError: number;
  ok: boolean;
  detail: string;
}

export interface GradCheckOptions {
  /** Only these kinds (default: all of the catalogue). */
  kinds?: readonly LayerKind[];
  /** Coordinates checked per tensor (default 12). */
  samplesPerTensor?: number;
  /** Pass threshold on the error metric (default 2e-2). */
  tolerance?: number;
  /** Skip the adam step (default false). */
  skipTrainStep?: boolean;
}

type InputKind = 'signed' | 'awayFromZero' | 'separated';

interface GradCase {
  kind: LayerKind;
  label: string;
  layer: LayerSpec;
  /** Per-example input shape (no batch axis). */
  inputShape: Shape;
  input: InputKind;
  training: boolean;
  eps: number;
  /** Coordinates per tensor for this case, if not the default. */
  samples?: number;
}

const BATCH = 3;
const EPS = 1e-2;

function casesFor(kind: LayerKind): GradCase[] {
  const c = (
    label: string,
    layer: LayerSpec,
    inputShape: Shape,
    input: InputKind = 'signed',
    training = false,
  ): GradCase => ({ kind, label, layer, inputShape, input, training, eps: EPS });
  switch (kind) {
    case 'conv2d':
      return [
        // elu goes through tf.fused.conv2d; tanh and linear through conv2d (+ activation)
        c('3×3 s1 same elu, 3→2 ch', { kind, filters: 2, kernelSize: 3, strides: 1, padding: 'same', activation: 'elu' }, [6, 6, 3]),
        c('3×3 s2 valid tanh, 7×7', { kind, filters: 2, kernelSize: 3, strides: 2, padding: 'valid', activation: 'tanh' }, [7, 7, 2]),
        c('2×2 s2 same linear, 5×5', { kind, filters: 3, kernelSize: 2, strides: 2, padding: 'same', activation: 'linear' }, [5, 5, 2]),
      ];
    case 'conv2dTranspose':
      return [
        c('3×3 s2 same linear', { kind, filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear' }, [3, 3, 2]),
        c('3×3 s1 valid sigmoid', { kind, filters: 2, kernelSize: 3, strides: 1, padding: 'valid', activation: 'sigmoid' }, [4, 4, 3]),
      ];
    case 'maxPool2d':
      return [
        c('2×2 s2', { kind, poolSize: 2, strides: 2 }, [6, 6, 2], 'separated'),
        c('3×3 s2, 7×7', { kind, poolSize: 3, strides: 2 }, [7, 7, 2], 'separated'),
      ];
    case 'avgPool2d':
      return [
        c('2×2 s2', { kind, poolSize: 2, strides: 2 }, [6, 6, 2]),
        c('3×3 s1', { kind, poolSize: 3, strides: 1 }, [5, 5, 2]),
      ];
    case 'upSampling2d':
      return [
        c('×2', { kind, size: 2 }, [3, 3, 2]),
        c('×3', { kind, size: 3 }, [2, 3, 2]),
        // 22 rows: stock webgl/webgpu kernels can send row 13's gradient to row 12; check every pixel
        { ...c('×2, 22 rows', { kind, size: 2 }, [22, 1, 1]), samples: 66 },
      ];
    case 'batchNorm':
      return [c('training', { kind }, [4, 4, 3], 'signed', true), c('training, dense-shaped', { kind }, [5], 'signed', true)];
    case 'activation':
      return ACTIVATIONS.map((a) =>
        c(a === 'leakyRelu' ? 'leakyRelu α=0.2' : a, { kind, activation: a, alpha: 0.2 }, [4, 4, 2], 'awayFromZero'),
      );
    case 'dense':
      return [
        c('5 units elu (fused)', { kind, units: 5, activation: 'elu' }, [12]),
        c('4 units sigmoid', { kind, units: 4, activation: 'sigmoid' }, [12]),
      ];
    case 'flatten':
      return [c('4×4×2', { kind }, [4, 4, 2])];
    case 'reshape':
      return [c('→ 2×8×3', { kind, targetShape: [2, 8, 3] }, [4, 4, 3]), c('→ 48', { kind, targetShape: [48] }, [4, 4, 3])];
    case 'dropout':
      return [c('rate 0.3, training', { kind, rate: 0.3 }, [4, 4, 2], 'signed', true)];
  }
}

// ---------------------------------------------------------------------------------------------


function makeInput(n: number, kind: InputKind, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  if (kind === 'separated') {
    // a random permutation of evenly spaced values 4·eps apart
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    for (let i = 0; i < n; i++) out[i] = (perm[i] - n / 2) * 4 * EPS;
    return out;
  }
  for (let i = 0; i < n; i++) {
    const u = rand();
    out[i] = kind === 'signed' ? 2 * u - 1 : (u < 0.5 ? -1 : 1) * (0.1 + 0.9 * rand());
  }
  return out;
}

/** Up to m indices spread over [0, n): one random index in each of m equal strata. */
function stratified(n: number, m: number, rand: () => number): number[] {
  if (n <= m) return Array.from({ length: n }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < m; k++) {
    const lo = Math.floor((k * n) / m);
    const hi = Math.floor(((k + 1) * n) / m);
    out.push(lo + Math.floor(rand() * (hi - lo)));
  }
  return out;
}

function isFloat32(v: unknown): v is Float32Array {
  return v instanceof Float32Array;
}

async function readFloat(t: tf.Tensor): Promise<Float32Array> {
  const d = await t.data();
  return isFloat32(d) ? d : Float32Array.from(d);
}

function fmt(v: number): string {
  return Number.isFinite(v) ? v.toExponential(3) : String(v);
}

interface CaseOutcome {
  maxErr: number;
  worst: string;
  trainLoss: number | null;
  note: string;
}

/**
 * Compares analytic gradients with central differences (±eps) on `samples` stratified coordinates of each
 * variable; returns the worst error, |a − n| / max(|a|, |n|, 0.1·rms(analytic), floor), and where it was.
 * Every variable is restored; the gradients are disposed.
 */
async function compareWithDifferences(
  vars: { name: string; v: tf.Variable }[],
  grads: tf.NamedTensorMap,
  evalLoss: () => Promise<number>,
  opts: { eps: number; samples: number; rand: () => number; floor: number },
): Promise<{ maxErr: number; worst: string }> {
  let maxErr = 0;
  let worst = '';
  try {
    for (const { name, v } of vars) {
      const g = grads[v.name];
      if (g == null) throw new Error(`no gradient for ${name}`);
      const analytic = await readFloat(g);
      let rms = 0;
      for (const a of analytic) rms += a * a;
      rms = Math.sqrt(rms / Math.max(1, analytic.length));
      const orig = await readFloat(v);
      const work = orig.slice();
      const setTo = (vals: Float32Array): void => {
        const t = tf.tensor(vals, v.shape, 'float32');
        v.assign(t);
        t.dispose();
      };
      for (const i of stratified(orig.length, opts.samples, opts.rand)) {
        const plus = Math.fround(orig[i] + opts.eps);
        const minus = Math.fround(orig[i] - opts.eps);
        work[i] = plus;
        setTo(work);
        const lp = await evalLoss();
        work[i] = minus;
        setTo(work);
        const lm = await evalLoss();
        work[i] = orig[i];
        const numeric = (lp - lm) / (plus - minus);
        const a = analytic[i];
        const err = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), 0.1 * rms, opts.floor);
        if (!(err <= maxErr)) {
          maxErr = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
          worst = `${name}[${i}]: analytic ${fmt(a)} vs numeric ${fmt(numeric)}`;
        }
      }
      setTo(orig);
    }
  } finally {
    for (const g of Object.values(grads)) g.dispose();
  }
  return { maxErr, worst };
}

let uid = 0;

async function checkCase(gc: GradCase, seed: number, samples: number, trainStep: boolean): Promise<CaseOutcome> {
  const rand = mulberry32(seed); // inputs do not depend on any backend's random ops
  const inShape = [BATCH, ...gc.inputShape];
  const nIn = inShape.reduce((a, b) => a * b, 1);
  const xVals = makeInput(nIn, gc.input, rand);
  const layer = makeLayer(gc.layer, 1000 + seed, `gradcheck_${gc.kind}_${uid++}`);
  const xVar = tf.tidy(() => tf.variable(tf.tensor(xVals, inShape), true));
  const disposables: tf.Tensor[] = [xVar];
  let training = gc.training;
  let note = '';
  try {
    const forward = (): tf.Tensor => {
      const y = layer.apply(xVar, { training });
      if (Array.isArray(y) || !(y instanceof tf.Tensor)) throw new Error('expected one output tensor');
      return y;
    };
    // First pass builds the layer and tells us the output shape.
    const y0 = tf.tidy(forward);
    const outShape = y0.shape;
    const y0Vals = await readFloat(y0);
    y0.dispose();
    if (training) {
      const y1 = tf.tidy(forward);
      const y1Vals = await readFloat(y1);
      y1.dispose();
      if (!y0Vals.every((v, i) => v === y1Vals[i])) {
        training = false;
        note = 'training pass not repeatable; checked with training=false';
      }
    }
    const nOut = y0Vals.length;
    const target = makeInput(nOut, 'signed', rand);
    const w = new Float32Array(nOut);
    for (let i = 0; i < nOut; i++) w[i] = 0.5 + rand();
    const tT = tf.tensor(target, outShape);
    const wT = tf.tensor(w, outShape);
    disposables.push(tT, wT);

    const lossOf = (y: Float32Array): number => {
      let s = 0;
      for (let i = 0; i < y.length; i++) {
        const d = y[i] - target[i];
        s += w[i] * d * d;
      }
      return 0.5 * s;
    };
    const evalLoss = async (): Promise<number> => {
      const y = tf.tidy(forward);
      try {
        return lossOf(await readFloat(y));
      } finally {
        y.dispose();
      }
    };

    const vars: { name: string; v: tf.Variable }[] = [{ name: 'input', v: xVar }];
    for (const lw of layer.trainableWeights) {
      const v = lw.read();
      if (!(v instanceof tf.Variable)) throw new Error(`weight ${lw.name} is not a variable`);
      vars.push({ name: lw.originalName.split('/').pop() ?? lw.name, v });
    }

    const { value, grads } = tf.variableGrads(
      () => tf.tidy(() => tf.mul(0.5, tf.sum(tf.mul(wT, tf.squaredDifference(forward(), tT))))),
      vars.map((e) => e.v),
    );
    value.dispose();
    const { maxErr, worst } = await compareWithDifferences(vars, grads, evalLoss, { eps: gc.eps, samples: gc.samples ?? samples, rand, floor: 1e-4 });

    let trainLoss: number | null = null;
    if (trainStep) trainLoss = await adamStep(gc, seed, xVals, inShape, tT);
    return { maxErr, worst, trainLoss, note };
  } finally {
    for (const t of disposables) t.dispose();
    layer.dispose();
  }
}

/**
 * Two adam steps with mse, written as the app trains: trainStep (training.ts) with the app's
 * optimizer. Layers with weights: a tf.model wrapping a fresh copy of the layer, so the second step
 * runs with adam's slots in place. Weightless layers: the same loss minimised over a trainable copy
 * of the input (nothing else to train). Returns the first step's loss, or NaN if any step's loss is
 * not finite.
 */
async function adamStep(gc: GradCase, seed: number, xVals: Float32Array, inShape: number[], target: tf.Tensor): Promise<number> {
  const inp = tf.input({ shape: gc.inputShape });
  const layer = makeLayer(gc.layer, 2000 + seed, `gradcheck_train_${gc.kind}_${uid++}`);
  const out = layer.apply(inp);
  if (Array.isArray(out) || !(out instanceof tf.SymbolicTensor)) throw new Error('expected one symbolic output');
  const model = tf.model({ inputs: inp, outputs: out });
  const spec = { loss: 'mse', optimizer: 'adam', learningRate: 1e-2 } as const;
  const optimizer = makeTrainingOptimizer(spec);
  const x = tf.tensor(xVals, inShape);
  const xVar = tf.tidy(() => tf.variable(x, true));
  const losses: number[] = [];
  try {
    for (let step = 0; step < 2; step++) {
      const loss =
        model.trainableWeights.length > 0
          ? trainStep(optimizer, spec, model, x, target)
          : optimizer.minimize(
              () => {
                const y = model.apply(xVar, { training: gc.training });
                if (Array.isArray(y) || !(y instanceof tf.Tensor)) throw new Error('expected one output tensor');
                return lossFn(spec, target, y);
              },
              true,
              [xVar],
            );
      if (loss == null) throw new Error('minimize returned no loss');
      losses.push((await loss.data())[0]);
      loss.dispose();
    }
    return losses.every(Number.isFinite) ? losses[0] : Number.NaN;
  } finally {
    x.dispose();
    xVar.dispose();
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * Checks every layer kind of the catalogue (or `options.kinds`) on the active backend; one result
 * per kind (its cases' worst error, all case details in `detail`). Run it after
 * registerTrainingKernels() to check the kernels training will use.
 */
export async function gradientCheck(options: GradCheckOptions = {}): Promise<GradCheckResult[]> {
  const backend = tf.getBackend();
  const samples = options.samplesPerTensor ?? 12;
  const tol = options.tolerance ?? 2e-2;
  const kinds = options.kinds ?? LAYER_KIND_LIST;
  const results: GradCheckResult[] = [];
  for (const kind of kinds) {
    const cases = casesFor(kind);
    let maxErr = 0;
    let ok = true;
    const parts: string[] = [];
    for (let ci = 0; ci < cases.length; ci++) {
      const gc = cases[ci];
      const seed = 17 + 101 * LAYER_KIND_LIST.indexOf(kind) + ci;
      try {
        const o = await checkCase(gc, seed, samples, options.skipTrainStep !== true);
        const trainOk = o.trainLoss === null || Number.isFinite(o.trainLoss);
        const caseOk = o.maxErr <= tol && trainOk;
        ok &&= caseOk;
        maxErr = Math.max(maxErr, o.maxErr);
        let s = `${gc.label}: err ${fmt(o.maxErr)}`;
        if (!caseOk || o.maxErr > tol / 4) s += ` (${o.worst})`;
        if (o.trainLoss !== null) s += trainOk ? `, adam loss ${fmt(o.trainLoss)}` : ', adam loss NOT finite';
        if (o.note) s += `, ${o.note}`;
        parts.push(caseOk ? s : `FAIL ${s}`);
      } catch (e) {
        ok = false;
        maxErr = Number.POSITIVE_INFINITY;
        parts.push(`FAIL ${gc.label}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    results.push({ kind, backend, maxRelError: maxErr, ok, detail: parts.join('; ') });
  }
  return results;
}

/**
 * The autoencoder family's objectives (#16) through the same check: a tiny dense autoencoder (2×2×1
 * input, a 3-value code) built by buildModel with each variant's layers, its whole training objective
 * (variantObjective: reconstruction plus L1 penalty or beta · KL, through the sampling, TReLU and rank
 * mask layers) differentiated by tfjs and by central differences over every weight. The random parts
 * repeat exactly: Math.random, which tfjs' unseeded random ops draw their seeds from, is reset before
 * every forward pass (and restored after). The code layer's bias spreads the codes over (0, 1) so the
 * rank-ordered TReLU is not saturated (where the notes' derivative is not the function's, by design)
 * and no perturbation reorders the ranks. Then two real training steps (variantStep) must give finite losses.
 */
export async function variantGradientCheck(options: { samplesPerTensor?: number; tolerance?: number } = {}): Promise<GradCheckResult[]> {
  const backend = tf.getBackend();
  const samples = options.samplesPerTensor ?? 12;
  const tol = options.tolerance ?? 2e-2;
  const cases: { label: string; spec: ExperimentSpec }[] = [
    { label: 'L1 loss', spec: { ...GRAD_SPEC, loss: 'l1' } },
    { label: 'denoising (masking 0.3)', spec: { ...GRAD_SPEC, variant: 'denoising', corruption: 'mask', noise: 0.3 } },
    { label: 'sparse (L1 0.5 on the code)', spec: { ...GRAD_SPEC, variant: 'sparse', sparsity: 0.5 } },
    { label: 'VAE (beta 2, sampled code)', spec: { ...GRAD_SPEC, variant: 'vae', beta: 2, loss: 'bce' } },
    { label: 'rank-ordered (TReLU, top-r mask)', spec: { ...GRAD_SPEC, variant: 'rankOrdered' } },
  ];
  const results: GradCheckResult[] = [];
  for (let ci = 0; ci < cases.length; ci++) {
    const { label, spec } = cases[ci];
    const kind = `variant: ${label}`;
    try {
      const o = await checkVariant(spec, 500 + ci, samples);
      const ok = o.maxErr <= tol && Number.isFinite(o.trainLoss);
      let detail = `err ${fmt(o.maxErr)}`;
      if (!ok || o.maxErr > tol / 4) detail += ` (${o.worst})`;
      detail += Number.isFinite(o.trainLoss) ? `, adam loss ${fmt(o.trainLoss)}` : ', adam loss NOT finite';
      results.push({ kind, backend, maxRelError: o.maxErr, ok, detail: ok ? detail : `FAIL ${detail}` });
    } catch (e) {
      results.push({ kind, backend, maxRelError: Number.POSITIVE_INFINITY, ok: false, detail: `FAIL ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  return results;
}

const GRAD_SPEC: ExperimentSpec = {
  dataset: 'mnist',
  encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 3, activation: 'linear' }],
  decoder: [{ kind: 'dense', units: 4, activation: 'sigmoid' }, { kind: 'reshape', targetShape: [2, 2, 1] }],
  loss: 'mse',
  optimizer: 'adam',
  learningRate: 0.01,
  batchSize: BATCH,
  epochs: 1,
  seed: 3,
  trainSize: 16,
  backend: 'cpu',
  ...VARIANT_DEFAULTS,
};

async function checkVariant(spec: ExperimentSpec, seed: number, samples: number): Promise<{ maxErr: number; worst: string; trainLoss: number }> {
  const rand = mulberry32(seed);
  const built = buildModel(spec, [2, 2, 1]);
  const savedRandom = Math.random;
  const x = tf.tensor4d(Float32Array.from({ length: BATCH * 4 }, () => 0.1 + 0.8 * rand()), [BATCH, 2, 2, 1]);
  // Denoising: one fixed corrupted input (the corruption is not differentiated; the target stays x).
  const input = spec.variant === 'denoising' ? corrupt(x, spec.corruption, spec.noise, seed) : x.clone();
  try {
    // Deterministic weights: small kernels; the code's biases spread over (0, 1).
    for (const layer of built.train.layers) {
      const ws = layer.getWeights();
      if (ws.length === 0) continue;
      const values = ws.map((w, k) => {
        const n = w.size;
        const isCodeBias = k === 1 && layer.name.startsWith('enc1_dense');
        const v = Float32Array.from({ length: n }, (_, i) => (isCodeBias ? 0.2 + (0.6 * i) / Math.max(1, n - 1) : k === 1 ? 0.1 * (rand() - 0.5) : 0.3 * (rand() - 0.5)));
        return tf.tensor(v, w.shape);
      });
      layer.setWeights(values);
      values.forEach((t) => t.dispose());
    }
    const objective = (): tf.Scalar => {
      Math.random = mulberry32(seed * 7 + 1);
      return tf.tidy(() => variantObjective(spec, x, built.train.apply(input, { training: true }) as tf.Tensor[]).total);
    };
    const evalLoss = async (): Promise<number> => {
      const l = objective();
      try {
        return (await readFloat(l))[0];
      } finally {
        l.dispose();
      }
    };
    const vars = built.train.trainableWeights.map((w) => {
      const v = w.read();
      if (!(v instanceof tf.Variable)) throw new Error(`weight ${w.name} is not a variable`);
      return { name: w.name, v };
    });
    const { value, grads } = tf.variableGrads(objective, vars.map((e) => e.v));
    value.dispose();
    // Floor 5e-4: the objective (~0.25) read back in float32 leaves central differences ~1e-5 of noise.
    const { maxErr, worst } = await compareWithDifferences(vars, grads, evalLoss, { eps: 1e-2, samples, rand, floor: 5e-4 });
    Math.random = mulberry32(seed);
    const optimizer = makeTrainingOptimizer(spec);
    let trainLoss = Number.NaN;
    try {
      for (let step = 0; step < 2; step++) {
        const r = variantStep(optimizer, spec, built, x);
        const l = (await readFloat(r.loss))[0];
        r.loss.dispose();
        r.terms?.dispose();
        if (step === 0) trainLoss = l;
        if (!Number.isFinite(l)) trainLoss = Number.NaN;
      }
    } finally {
      optimizer.dispose();
    }
    return { maxErr, worst, trainLoss };
  } finally {
    Math.random = savedRandom;
    x.dispose();
    input.dispose();
    built.model.dispose();
  }
}
