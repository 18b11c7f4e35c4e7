/**
 * Adam as tfjs' AdamOptimizer computes it, with the whole update of a variable in one kernel on wasm.
 *
 * tfjs' Adam runs ~13 kernels per variable (mul, add, square, div, sqrt, …), each reading and writing
 * the whole tensor: on the dense AE (419,120 parameters) that is ~3.2 ms of a ~9.5 ms WASM step. Here,
 * on wasm, one kernel of ours ('AepAdamStep', our SIMD module's adamStep) reads value, gradient and the
 * two moments once and writes the three new tensors; on every other backend the same formula runs as
 * tfjs' own chain of ops. The arithmetic is tfjs' step for step (same operations, same order, float32),
 * so the weights match tf.train.adam's to rounding (tested).
 *
 * State per variable name (so a variable keeps its moments whatever the order of the gradients), and
 * β1^t, β2^t kept as float32 numbers updated as tfjs updates its accBeta variables.
 */
import * as tf from '@tensorflow/tfjs';
import { requireSimd } from './kernels';
import { heapPtr as offset, simdKernelsFor } from './simd/simd';

type NamedTensor = Parameters<tf.Optimizer['setWeights']>[0][number];

export const ADAM_KERNEL = 'AepAdamStep';

/** Calls of the fused kernel (for tests and benchmarks). */
export const adamKernelCalls = { count: 0 };

interface AdamAttrs {
  beta1: number;
  beta2: number;
  oneMinusAccBeta1: number;
  oneMinusAccBeta2: number;
  learningRate: number;
  epsilon: number;
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number') throw new Error(`${ADAM_KERNEL}: bad ${what}`);
  return v;
}


const adamKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { value, gradient, m, v } = inputs;
  if (value == null || gradient == null || m == null || v == null) throw new Error(`${ADAM_KERNEL}: missing inputs`);
  const { backend: wasm, k } = requireSimd(backend, ADAM_KERNEL);
  const n = tf.util.sizeFromShape(value.shape);
  for (const t of [gradient, m, v]) {
    if (tf.util.sizeFromShape(t.shape) !== n || t.dtype !== 'float32') throw new Error(`${ADAM_KERNEL}: operands differ in size or type`);
  }
  const beta1 = num(attrs?.beta1, 'beta1');
  const beta2 = num(attrs?.beta2, 'beta2');
  const outValue = wasm.makeOutput(value.shape, 'float32');
  const outM = wasm.makeOutput(value.shape, 'float32');
  const outV = wasm.makeOutput(value.shape, 'float32');
  k.adamStep(
    offset(wasm, value), offset(wasm, gradient), offset(wasm, m), offset(wasm, v),
    offset(wasm, outValue), offset(wasm, outM), offset(wasm, outV), n,
    beta1, 1 - beta1, beta2, 1 - beta2,
    num(attrs?.oneMinusAccBeta1, 'oneMinusAccBeta1'), num(attrs?.oneMinusAccBeta2, 'oneMinusAccBeta2'),
    -num(attrs?.learningRate, 'learningRate'), num(attrs?.epsilon, 'epsilon'),
  );
  adamKernelCalls.count++;
  return [outValue, outM, outV];
};

/** Registers the fused Adam kernel on wasm (harmless to call again). */
export function registerAdamKernel(): void {
  if (tf.findBackendFactory('wasm') == null || tf.getKernel(ADAM_KERNEL, 'wasm') != null) return;
  tf.registerKernel({ kernelName: ADAM_KERNEL, backendName: 'wasm', kernelFunc: adamKernel });
}

/** Whether the fused kernel can run on the current backend (then each variable's update is one kernel call). */
export function fusedAdamHere(): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(ADAM_KERNEL, 'wasm') != null && simdKernelsFor(tf.backend()) != null;
}

interface Moments {
  m: tf.Variable;
  v: tf.Variable;
}

export class FusedAdamOptimizer extends tf.Optimizer {
  static readonly className = 'Adam';
  private readonly state = new Map<string, Moments>();
  private accBeta1: number;
  private accBeta2: number;
  private readonly epsilon: number;

  constructor(
    private readonly learningRate: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    epsilon?: number,
  ) {
    super();
    registerAdamKernel();
    this.accBeta1 = Math.fround(beta1);
    this.accBeta2 = Math.fround(beta2);
    this.epsilon = epsilon ?? tf.backend().epsilon();
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries = Array.isArray(variableGradients)
      ? variableGradients.map((e) => [e.name, e.tensor] as const)
      : Object.entries(variableGradients);
    // moments of variables gone since (a model rebuilt, FlatOptimizer's flat vector remade) are freed
    const registered = tf.engine().registeredVariables;
    for (const [name, s] of this.state) {
      if (registered[name] != null) continue;
      s.m.dispose();
      s.v.dispose();
      this.state.delete(name);
    }
    const fused = fusedAdamHere();
    // tfjs: oneMinusAccBeta = sub(1, accBeta) in float32
    const c1 = Math.fround(1 - this.accBeta1);
    const c2 = Math.fround(1 - this.accBeta2);
    const attrs: AdamAttrs = {
      beta1: this.beta1,
      beta2: this.beta2,
      oneMinusAccBeta1: c1,
      oneMinusAccBeta2: c2,
      learningRate: this.learningRate,
      epsilon: this.epsilon,
    };
    tf.tidy(() => {
      for (const [name, gradient] of entries) {
        const value = tf.engine().registeredVariables[name];
        if (value == null || gradient == null) continue;
        let s = this.state.get(name);
        if (s == null || s.m.size !== value.size) {
          s?.m.dispose();
          s?.v.dispose();
          s = { m: tf.tidy(() => tf.zerosLike(value).variable(false)), v: tf.tidy(() => tf.zerosLike(value).variable(false)) };
          this.state.set(name, s);
        }
        if (fused && value.dtype === 'float32' && gradient.dtype === 'float32') {
          const out = tf.engine().runKernel(ADAM_KERNEL, { value, gradient, m: s.m, v: s.v }, { ...attrs });
          if (!Array.isArray(out) || out.length !== 3) throw new Error(`${ADAM_KERNEL}: expected three outputs`);
          s.m.assign(out[1]);
          s.v.assign(out[2]);
          value.assign(out[0]);
          continue;
        }
        const m1 = tf.add(tf.mul(s.m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const v1 = tf.add(tf.mul(s.v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        const mHat = tf.div(m1, tf.scalar(c1));
        const vHat = tf.div(v1, tf.scalar(c2));
        s.m.assign(m1);
        s.v.assign(v1);
        value.assign(tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), -this.learningRate), value));
      }
    });
    // tfjs: accBeta.assign(mul(accBeta, beta)) in float32
    this.accBeta1 = Math.fround(this.accBeta1 * Math.fround(this.beta1));
    this.accBeta2 = Math.fround(this.accBeta2 * Math.fround(this.beta2));
    this.incrementIterations();
  }

  override dispose(): void {
    for (const s of this.state.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.state.clear();
    super.dispose();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const out: NamedTensor[] = [await this.saveIterations()];
    for (const [name, s] of this.state) out.push({ name: `${name}/m`, tensor: s.m }, { name: `${name}/v`, tensor: s.v });
    return out;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    for (const s of this.state.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.state.clear();
    const byName = new Map(rest.map((w) => [w.name, w.tensor]));
    for (const [key, m] of byName) {
      if (!key.endsWith('/m')) continue;
      const name = key.slice(0, -2);
      const v = byName.get(`${name}/v`);
      if (v == null) continue;
      this.state.set(name, { m: tf.tidy(() => m.clone().variable(false)), v: tf.tidy(() => v.clone().variable(false)) });
    }
    const t = this.iterations + 1;
    this.accBeta1 = Math.fround(Math.pow(this.beta1, t));
    this.accBeta2 = Math.fround(Math.pow(this.beta2, t));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}
