/**
 * Shared pieces of the fused WebGPU training path's shaders (#19): the activations, and how a kernel
 * describes itself. Pure TypeScript (WGSL as text): no tfjs, no DOM; the kernels' tests run them on
 * Dawn's Node binding over SwiftShader (testDevice.ts), the worker on tfjs' own GPUDevice.
 *
 * Conventions every kernel here follows:
 * - Tensors are dense float32 arrays in NHWC order (dense layers: [N, units]); conv kernels are HWIO
 *   ([kh, kw, inChannels, outChannels]) and conv-transpose kernels [kh, kw, outChannels, inChannels],
 *   as in tfjs; dense kernels [in, out].
 * - Shapes are compile-time constants baked into the shader text (a plan is built per batch size).
 * - Bindings are all in @group(0), numbered 0.. in the order the generator's `bindings` lists them;
 *   each names whether it is read or written. A buffer can be bound with an offset (multiple of 256
 *   bytes), so weights and gradients can be slices of one flat buffer.
 * - A kernel writes every element of its outputs (no zero-initialised outputs are assumed), unless its
 *   doc says it accumulates.
 * - The activation derivative `dact` is written in terms of the activation's OUTPUT y = act(z), so a
 *   backward kernel only needs the stored output (see ACT_DERIVATIVE).
 */

export type FusedActivation = 'linear' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'elu' | 'selu' | 'softplus';

/** One storage binding of a kernel: its name in the shader, and whether the kernel writes it. */
export interface BindingSpec {
  name: string;
  access: 'read' | 'read_write';
}

/** A generated compute kernel: its shader, its bindings in binding order, and its dispatch size. */
export interface KernelSource {
  /** A short label for profiles and error messages, e.g. 'conv2d.forward'. */
  label: string;
  code: string;
  bindings: BindingSpec[];
  /** Workgroups to dispatch in x, y, z (each at most 65535). */
  workgroups: [number, number, number];
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** WGSL float literal (always with a decimal point or exponent). */
export function f32(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`not a finite number: ${x}`);
  const s = String(x);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/**
 * A WGSL function `fn <name>(z: f32) -> f32` applying the activation (tfjs' definitions:
 * leakyRelu's slope `alpha`, elu's alpha 1, selu's constants, softplus = log(1 + e^z)).
 */
export function actFn(name: string, act: FusedActivation, alpha = 0.2): string {
  const body: Record<FusedActivation, string> = {
    linear: 'return z;',
    relu: 'return max(z, 0.0);',
    leakyRelu: `return select(${f32(alpha)} * z, z, z > 0.0);`,
    sigmoid: 'return 1.0 / (1.0 + exp(-z));',
    tanh: 'return tanh(z);',
    elu: 'return select(exp(z) - 1.0, z, z > 0.0);',
    selu: `return select(${f32(SELU_SCALE * SELU_ALPHA)} * (exp(z) - 1.0), ${f32(SELU_SCALE)} * z, z > 0.0);`,
    // Stable for large |z|: max(z, 0) + log(1 + e^-|z|).
    softplus: 'return max(z, 0.0) + log(1.0 + exp(-abs(z)));',
  };
  return `fn ${name}(z: f32) -> f32 { ${body[act]} }`;
}

/**
 * A WGSL function `fn <name>(y: f32) -> f32`: the activation's derivative at the point whose OUTPUT is
 * y (relu: y > 0; leakyRelu: 1 or alpha; sigmoid: y(1 − y); tanh: 1 − y²; elu: 1 or y + 1;
 * selu: λ or y + λα; softplus: 1 − e^−y). tfjs takes relu'(0) = 0 and leakyRelu'(0) = alpha, as here.
 */
export function dactFn(name: string, act: FusedActivation, alpha = 0.2): string {
  const body: Record<FusedActivation, string> = {
    linear: 'return 1.0;',
    relu: 'return select(0.0, 1.0, y > 0.0);',
    leakyRelu: `return select(${f32(alpha)}, 1.0, y > 0.0);`,
    sigmoid: 'return y * (1.0 - y);',
    tanh: 'return 1.0 - y * y;',
    elu: 'return select(y + 1.0, 1.0, y > 0.0);',
    selu: `return select(y + ${f32(SELU_SCALE * SELU_ALPHA)}, ${f32(SELU_SCALE)}, y > 0.0);`,
    softplus: 'return 1.0 - exp(-y);',
  };
  return `fn ${name}(y: f32) -> f32 { ${body[act]} }`;
}

/** The same activations in plain TypeScript, the kernels' tests' reference. */
export function actRef(act: FusedActivation, z: number, alpha = 0.2): number {
  switch (act) {
    case 'linear':
      return z;
    case 'relu':
      return Math.max(z, 0);
    case 'leakyRelu':
      return z > 0 ? z : alpha * z;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-z));
    case 'tanh':
      return Math.tanh(z);
    case 'elu':
      return z > 0 ? z : Math.exp(z) - 1;
    case 'selu':
      return z > 0 ? SELU_SCALE * z : SELU_SCALE * SELU_ALPHA * (Math.exp(z) - 1);
    case 'softplus':
      return Math.max(z, 0) + Math.log(1 + Math.exp(-Math.abs(z)));
  }
}

/** dactFn's closed forms in plain TypeScript (the derivative at the point whose output is y): the kernels' tests' reference. */
export function dactRef(act: FusedActivation, y: number, alpha = 0.2): number {
  switch (act) {
    case 'linear':
      return 1;
    case 'relu':
      return y > 0 ? 1 : 0;
    case 'leakyRelu':
      return y > 0 ? 1 : alpha;
    case 'sigmoid':
      return y * (1 - y);
    case 'tanh':
      return 1 - y * y;
    case 'elu':
      return y > 0 ? 1 : y + 1;
    case 'selu':
      return y > 0 ? SELU_SCALE : y + SELU_SCALE * SELU_ALPHA;
    case 'softplus':
      return 1 - Math.exp(-y);
  }
}

/** act'(z) at the INPUT z, by central differences of actRef in float64 (independent of the output-based forms). */
export function dactAtInput(act: FusedActivation, z: number, alpha = 0.2): number {
  const h = 1e-6;
  return (actRef(act, z + h, alpha) - actRef(act, z - h, alpha)) / (2 * h);
}

/** The storage declarations of a kernel's bindings (all array<f32>, unless `types` names another element type). */
export function declareBindings(bindings: BindingSpec[], types: Record<string, string> = {}): string {
  return bindings
    .map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.access}> ${b.name}: array<${types[b.name] ?? 'f32'}>;`)
    .join('\n');
}

/** Workgroups needed to cover `n` items with `perGroup` each, split over x and y when over 65535. */
export function groups1d(n: number, perGroup: number): [number, number, number] {
  const total = Math.max(1, Math.ceil(n / perGroup));
  if (total <= 65535) return [total, 1, 1];
  const y = Math.ceil(total / 65535);
  return [Math.ceil(total / y), y, 1];
}

/**
 * The flat index of a 1-D invocation dispatched with groups1d (use with
 * `@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32`).
 */
export function flatIndex(perGroup: number): string {
  return `((wg.y * nwg.x + wg.x) * ${perGroup}u + li)`;
}
