/**
 * The gradient check of the fused WebGPU path (#19), run by the page's gradient check on WebGPU next to
 * the per-layer check of gradcheck.ts. For small autoencoders that between them hold every layer kind,
 * fused activation and loss the fused path has (fusedCases), on one batch of 3 images:
 * - the fused path's loss and gradients against tfjs' stock kernels on the same backend and weights
 *   (tf.variableGrads of the app's loss);
 * - the fused gradients against central differences of the fused path's own loss, on a few
 *   stratified coordinates of every weight (error |a − n| / max(|a|, |n|, 0.1·rms, 1e-4), as gradcheck.ts),
 *   the loss computed in float64 from the output, at two step sizes (see checkCase).
 * Dropout's mask is the fused path's own (a hash on the GPU, not tfjs' generator), so its case is
 * compared with differences only. Everything created is disposed.
 */
import * as tf from '@tensorflow/tfjs';
import type { ExperimentSpec, LayerSpec, Shape } from '../../model/spec';
import { shapeSize } from '../../model/spec';
import { mulberry32 } from '../../data/split';
import { buildModel } from './buildModel';
import { FusedTrainer } from './fusedTrainer';
import type { GradCheckResult } from './gradcheck';
import { lossFn } from './training';

interface FusedCase {
  label: string;
  inputShape: Shape;
  encoder: LayerSpec[];
  decoder: LayerSpec[];
  loss: ExperimentSpec['loss'];
  /** Compare with tfjs' stock gradients (false for dropout: another mask). */
  stock: boolean;
}

const conv = (filters: number, activation: 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'elu' = 'linear', kernelSize = 3, strides = 1, padding: 'same' | 'valid' = 'same'): LayerSpec => ({
  kind: 'conv2d',
  filters,
  kernelSize,
  strides,
  padding,
  activation,
});
const act = (activation: 'leakyRelu' | 'tanh' | 'selu' | 'softplus' | 'sigmoid' | 'relu', alpha = 0.2): LayerSpec => ({ kind: 'activation', activation, alpha });

/** Small models covering every layer kind and activation the fused path has. */
export const FUSED_CASES: FusedCase[] = [
  {
    label: 'conv + leakyReLU, max pool, upsampling (the default model), bce',
    inputShape: [8, 8, 1],
    encoder: [conv(3), act('leakyRelu'), { kind: 'maxPool2d', poolSize: 2, strides: 2 }],
    decoder: [conv(3), act('leakyRelu'), { kind: 'upSampling2d', size: 2 }, conv(1, 'sigmoid')],
    loss: 'bce',
    stock: true,
  },
  {
    label: 'conv + batch norm + leakyReLU (the wiki model), mse',
    inputShape: [6, 6, 1],
    encoder: [conv(3), { kind: 'batchNorm' }, act('leakyRelu')],
    decoder: [conv(1, 'sigmoid')],
    loss: 'mse',
    stock: true,
  },
  {
    label: 'strided and valid convs, average pool, transposed convs, standalone tanh, l1',
    inputShape: [5, 5, 2],
    encoder: [conv(3, 'relu', 3, 2, 'same'), conv(4, 'linear', 2, 1, 'valid'), { kind: 'avgPool2d', poolSize: 2, strides: 1 }, act('tanh')],
    decoder: [
      { kind: 'conv2dTranspose', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'elu' },
      { kind: 'conv2dTranspose', filters: 2, kernelSize: 4, strides: 1, padding: 'valid', activation: 'linear' },
      act('sigmoid'),
    ],
    loss: 'l1',
    stock: true,
  },
  {
    label: 'dense, flatten/reshape, batch norm on a vector, selu, softplus, mse',
    inputShape: [4, 4, 1],
    encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 6, activation: 'tanh' }, { kind: 'dense', units: 5, activation: 'linear' }, { kind: 'batchNorm' }, act('selu')],
    decoder: [{ kind: 'dense', units: 16, activation: 'softplus' }, { kind: 'reshape', targetShape: [4, 4, 1] }],
    loss: 'mse',
    stock: true,
  },
  {
    label: 'dropout (the fused path’s own mask: differences only), bce',
    inputShape: [4, 4, 1],
    encoder: [{ kind: 'flatten' }, { kind: 'dense', units: 6, activation: 'relu' }, { kind: 'dropout', rate: 0.3 }],
    decoder: [{ kind: 'dense', units: 16, activation: 'sigmoid' }, { kind: 'reshape', targetShape: [4, 4, 1] }],
    loss: 'bce',
    stock: false,
  },
];

const BATCH = 3;

function relErrors(a: Float32Array, b: Float32Array): number {
  let rms = 0;
  for (const v of a) rms += v * v;
  rms = Math.sqrt(rms / Math.max(1, a.length));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Math.abs(b[i]), 0.1 * rms, 1e-4));
  return worst;
}

/**
 * The app's losses (training.ts lossFn) in float64 on the CPU, from the model's float32 output: central
 * differences of a float32 mean would drown small gradients in rounding.
 */
export function lossF64(loss: ExperimentSpec['loss'], y: Float32Array, t: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    if (loss === 'mse') sum += (y[i] - t[i]) ** 2;
    else if (loss === 'l1') sum += Math.abs(t[i] - y[i]);
    else {
      const p = Math.min(Math.max(y[i], 1e-7), 1 - 1e-7);
      sum -= t[i] * Math.log(p) + (1 - t[i]) * Math.log(1 - p);
    }
  }
  return sum / y.length;
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toExponential(2) : String(v));

/** One case: [error against stock (or null), error against differences, detail]. */
async function checkCase(c: FusedCase, seed: number, samples: number): Promise<{ stockErr: number | null; diffErr: number; note: string }> {
  const spec = { encoder: c.encoder, decoder: c.decoder, seed, loss: c.loss, optimizer: 'adam' as const, variant: 'plain' as const, learningRate: 0.001 };
  const built = buildModel(spec, c.inputShape);
  const rand = mulberry32(seed);
  const pixels = Float32Array.from({ length: BATCH * shapeSize(c.inputShape) }, () => rand());
  const { trainer, report } = FusedTrainer.create(spec, built.model, c.inputShape);
  try {
    if (!trainer) throw new Error(`no fused path: ${report.detail}`);
    // Dropout: the same seed for every pass of the check (the mask must not change between them).
    trainer.freezeRandomness(true);
    const fused = await trainer.gradients(pixels, BATCH);
    let stockErr: number | null = null;
    if (c.stock) {
      const x = tf.tensor(pixels, [BATCH, ...c.inputShape]);
      const { value, grads } = tf.variableGrads(() => lossFn(spec, x, built.model.apply(x, { training: true }) as tf.Tensor));
      stockErr = Math.abs((await value.data())[0] - fused.loss) / Math.max(Math.abs(fused.loss), 1e-6);
      for (let i = 0; i < fused.names.length; i++) {
        const v = built.model.trainableWeights.find((w) => w.originalName === fused.names[i]);
        if (!v) throw new Error(`no weight ${fused.names[i]}`);
        stockErr = Math.max(stockErr, relErrors(fused.grads[i], (await grads[v.name].data()) as Float32Array));
      }
      tf.dispose([x, value, ...Object.values(grads)]);
    }
    // Central differences of the fused loss, computed in float64 from the model's output (batch norm's
    // moving statistics do not enter it), at two step sizes: the larger loses to curvature (a batch of 3
    // through batch norm, a max pool's argmax), the smaller to float32 rounding; a coordinate passes when
    // either agrees. One whose one-sided differences disagree at both straddles a kink (a ReLU or an L1
    // term at 0): the loss has no derivative there, so it is skipped and counted.
    let diffErr = 0;
    let kinks = 0;
    let compared = 0;
    const lossAt = async (lv: (typeof built.model.trainableWeights)[number], base: Float32Array, j: number, delta: number): Promise<number> => {
      const w = base.slice();
      w[j] += delta;
      const t = tf.tensor(w, lv.shape as number[]);
      lv.write(t);
      t.dispose();
      return lossF64(c.loss, await trainer.forwardOutput(pixels, BATCH), pixels);
    };
    const baseLoss = lossF64(c.loss, await trainer.forwardOutput(pixels, BATCH), pixels);
    for (let i = 0; i < fused.names.length; i++) {
      const lv = built.model.trainableWeights.find((w) => w.originalName === fused.names[i]);
      if (!lv) continue;
      const base = (await lv.read().data()) as Float32Array;
      const g = fused.grads[i];
      let rms = 0;
      for (const v of g) rms += v * v;
      const floor = Math.max(0.1 * Math.sqrt(rms / g.length), 1e-4);
      const n = base.length;
      const m = Math.min(samples, n);
      for (let k = 0; k < m; k++) {
        const j = Math.floor(((k + rand()) * n) / m);
        let best = Infinity;
        let smooth = false;
        for (const eps of [1e-2, 1e-3]) {
          const up = await lossAt(lv, base, j, eps);
          const down = await lossAt(lv, base, j, -eps);
          const right = (up - baseLoss) / eps;
          const left = (baseLoss - down) / eps;
          if (Math.abs(right - left) > 0.2 * Math.max(Math.abs(right), Math.abs(left), floor)) continue;
          smooth = true;
          const numeric = (up - down) / (2 * eps);
          best = Math.min(best, Math.abs(g[j] - numeric) / Math.max(Math.abs(g[j]), Math.abs(numeric), floor));
        }
        if (!smooth) {
          kinks++;
          continue;
        }
        compared++;
        diffErr = Math.max(diffErr, best);
      }
      const restore = tf.tensor(base, lv.shape as number[]);
      lv.write(restore);
      restore.dispose();
    }
    if (compared < kinks) throw new Error(`only ${compared} coordinates without a kink (${kinks} with one)`);
    return { stockErr, diffErr, note: `${compared} coordinates compared, ${kinks} at a kink skipped; ${report.detail}; ${trainer.counts(BATCH).total} dispatches a step` };
  } finally {
    trainer?.dispose();
    built.model.dispose();
  }
}

/** The fused path's cases on the active backend (WebGPU): one result each. */
export async function fusedGradientCheck(options: { samples?: number; tolerance?: number; differenceTolerance?: number } = {}): Promise<GradCheckResult[]> {
  const backend = tf.getBackend();
  const tol = options.tolerance ?? 2e-2;
  // Differences of a whole model's loss are coarser than the per-layer check's (kinks and argmax
  // changes anywhere in the model, float32 outputs): a looser bound for them than against the stock kernels.
  const diffTol = options.differenceTolerance ?? 5e-2;
  const out: GradCheckResult[] = [];
  for (let i = 0; i < FUSED_CASES.length; i++) {
    const c = FUSED_CASES[i];
    try {
      const { stockErr, diffErr, note } = await checkCase(c, 31 + i, options.samples ?? 6);
      const err = Math.max(stockErr ?? 0, diffErr);
      const vsStock = stockErr === null ? 'vs stock: not compared (own dropout mask)' : `vs stock kernels err ${fmt(stockErr)}`;
      out.push({ kind: `fused: ${c.label}`, backend, maxRelError: err, ok: (stockErr ?? 0) <= tol && diffErr <= diffTol, detail: `${vsStock}, vs differences err ${fmt(diffErr)} (${note})` });
    } catch (e) {
      out.push({ kind: `fused: ${c.label}`, backend, maxRelError: Number.POSITIVE_INFINITY, ok: false, detail: `FAIL ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  return out;
}
