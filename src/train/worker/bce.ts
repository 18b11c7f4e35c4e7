/**
 * Binary cross-entropy (training.ts' lossFn for 'bce') as two kernels on wasm: the loss, and both of its
 * gradients, each one pass of our SIMD module (simd/assembly/kernels.ts: bceSum, bceGrad).
 *
 * lossFn's tfjs form — clip, two logs, subs, muls, add, mean, neg — is ~12 kernels forward and ~12
 * backward (the clip's gradient alone is GreaterEqual, LessEqual, LogicalAnd, Select); on wasm each
 * costs ~12 µs of tfjs JavaScript beside its work. The value and gradients are the same function
 * (clip bounds inclusive for the gradient, as tfjs' clipByValue), summed in float64. Other backends,
 * or operands of different shapes, use the tfjs form (fusedBce returns null).
 */
import * as tf from '@tensorflow/tfjs';
import { requireSimd } from './kernels';
import { heapPtr as offset, simdKernelsFor } from './simd/simd';

export const BCE_KERNEL = 'AepBce';
export const BCE_GRAD_KERNEL = 'AepBceGrad';

/** Calls of the two kernels (for tests and benchmarks). */
export const bceKernelCalls = { loss: 0, grad: 0 };


function operands(inputs: tf.NamedTensorInfoMap): { target: tf.TensorInfo; output: tf.TensorInfo; n: number } {
  const { target, output } = inputs;
  if (target == null || output == null) throw new Error(`${BCE_KERNEL}: missing inputs`);
  if (target.dtype !== 'float32' || output.dtype !== 'float32') throw new Error(`${BCE_KERNEL}: float32 only`);
  const n = tf.util.sizeFromShape(output.shape);
  if (tf.util.sizeFromShape(target.shape) !== n) throw new Error(`${BCE_KERNEL}: target and output differ in size`);
  return { target, output, n };
}

function epsOf(attrs: tf.NamedAttrMap | undefined): number {
  const eps = attrs?.eps;
  if (typeof eps !== 'number') throw new Error(`${BCE_KERNEL}: bad eps`);
  return eps;
}

const bceKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { backend: wasm, k } = requireSimd(backend, BCE_KERNEL);
  const { target, output, n } = operands(inputs);
  const sum = k.bceSum(offset(wasm, target), offset(wasm, output), n, epsOf(attrs));
  const out = wasm.makeOutput([], 'float32');
  const view = wasm.typedArrayFromHeap(out);
  if (!(view instanceof Float32Array)) throw new Error(`${BCE_KERNEL}: expected a float32 output`);
  view[0] = sum / n;
  bceKernelCalls.loss++;
  return out;
};

const bceGradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { backend: wasm, k } = requireSimd(backend, BCE_GRAD_KERNEL);
  const { target, output, n } = operands(inputs);
  const dy = inputs.dy;
  if (dy == null || dy.dtype !== 'float32' || tf.util.sizeFromShape(dy.shape) !== 1) throw new Error(`${BCE_GRAD_KERNEL}: dy must be one float`);
  const dyView = wasm.typedArrayFromHeap(dy);
  const scale = Number(dyView[0]) / n;
  const dOut = wasm.makeOutput([...output.shape], 'float32');
  const dTarget = wasm.makeOutput([...target.shape], 'float32');
  k.bceGrad(offset(wasm, target), offset(wasm, output), offset(wasm, dOut), offset(wasm, dTarget), n, epsOf(attrs), scale);
  bceKernelCalls.grad++;
  return [dOut, dTarget];
};

/** Registers the two kernels on wasm (harmless to call again). */
export function registerBceKernels(): void {
  if (tf.findBackendFactory('wasm') == null) return;
  if (tf.getKernel(BCE_KERNEL, 'wasm') == null) tf.registerKernel({ kernelName: BCE_KERNEL, backendName: 'wasm', kernelFunc: bceKernel });
  if (tf.getKernel(BCE_GRAD_KERNEL, 'wasm') == null) tf.registerKernel({ kernelName: BCE_GRAD_KERNEL, backendName: 'wasm', kernelFunc: bceGradKernel });
}

/** Switch for tests and benchmarks: false keeps lossFn's tfjs form on wasm too. */
export const fusedBceEnabled = { on: true };

/**
 * −mean(t·ln p + (1 − t)·ln(1 − p)), p = clip(output, eps, 1 − eps), with its gradients, on our two wasm
 * kernels; null where they cannot run (another backend, no SIMD, a dtype or shape they do not take).
 */
export function fusedBce(target: tf.Tensor, output: tf.Tensor, eps: number): tf.Scalar | null {
  if (!fusedBceEnabled.on || tf.getBackend() !== 'wasm' || simdKernelsFor(tf.backend()) == null) return null;
  if (target.dtype !== 'float32' || output.dtype !== 'float32' || !tf.util.arraysEqual(target.shape, output.shape) || output.size === 0) return null;
  registerBceKernels();
  const f = tf.customGrad((t, o, save) => {
    if (!(t instanceof tf.Tensor) || !(o instanceof tf.Tensor) || typeof save !== 'function') throw new Error('bce: bad operands');
    save([t, o]);
    const value = tf.engine().runKernel(BCE_KERNEL, { target: t, output: o }, { eps }) as tf.Scalar;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ts, os] = saved;
        const grads = tf.engine().runKernel(BCE_GRAD_KERNEL, { target: ts, output: os, dy }, { eps });
        if (!Array.isArray(grads) || grads.length !== 2) throw new Error(`${BCE_GRAD_KERNEL}: expected two outputs`);
        return [grads[1], grads[0]];
      },
    };
  });
  return f(target, output) as tf.Scalar;
}
