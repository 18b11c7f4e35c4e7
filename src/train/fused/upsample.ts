/**
 * Nearest-neighbour upsampling by an integer factor s (tfjs' upSampling2d, NHWC) for the fused WebGPU
 * training path (#19): y[n, i, j, c] = x[n, ⌊i/s⌋, ⌊j/s⌋, c]; its gradient sums each s×s block of dy.
 *
 * Pure TypeScript (WGSL as text): no tfjs, no DOM.
 */
import { dactEpilogue, ELEMENTWISE_GROUP, MAIN_1D, type DactOption } from './elementwise';
import { declareBindings, flatIndex, groups1d, type BindingSpec, type KernelSource } from './wgsl';

function check(N: number, H: number, W: number, C: number, s: number): void {
  for (const [k, v] of Object.entries({ N, H, W, C, s })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`upsample: ${k} must be a positive integer, got ${v}`);
  }
}

/** One thread per output element. Bindings: x (read, [N,H,W,C]), y (read_write, [N,H·s,W·s,C]). */
export function upsampleForwardKernel(N: number, H: number, W: number, C: number, s: number, label = 'upsample.forward'): KernelSource {
  check(N, H, W, C, s);
  const bindings: BindingSpec[] = [
    { name: 'x', access: 'read' },
    { name: 'y', access: 'read_write' },
  ];
  const OH = H * s;
  const OW = W * s;
  const total = N * OH * OW * C;
  return {
    label,
    bindings,
    workgroups: groups1d(total, ELEMENTWISE_GROUP),
    code: `${declareBindings(bindings)}
${MAIN_1D} {
  let i = ${flatIndex(ELEMENTWISE_GROUP)};
  if (i >= ${total}u) { return; }
  let c = i % ${C}u;
  let t0 = i / ${C}u;
  let ow = t0 % ${OW}u;
  let t1 = t0 / ${OW}u;
  let oh = t1 % ${OH}u;
  let n = t1 / ${OH}u;
  y[i] = x[((n * ${H}u + oh / ${s}u) * ${W}u + ow / ${s}u) * ${C}u + c];
}`,
  };
}

/**
 * The gradient: dx[n, h, w, c] = Σ_{a, b < s} dy[n, h·s + a, w·s + b, c], ⊙ dact(aux) when `o.dact`
 * is given. Bindings: dy (read, [N,H·s,W·s,C]), [aux (read, [N,H,W,C])], dx (read_write, [N,H,W,C]).
 */
export function upsampleBackwardKernel(
  N: number,
  H: number,
  W: number,
  C: number,
  s: number,
  o: { dact?: DactOption; label?: string } = {},
): KernelSource {
  check(N, H, W, C, s);
  const epi = dactEpilogue(o.dact);
  const bindings: BindingSpec[] = [{ name: 'dy', access: 'read' }, ...epi.bindings, { name: 'dx', access: 'read_write' }];
  const OH = H * s;
  const OW = W * s;
  const total = N * H * W * C;
  return {
    label: o.label ?? 'upsample.backward',
    bindings,
    workgroups: groups1d(total, ELEMENTWISE_GROUP),
    code: `${declareBindings(bindings)}
${epi.fn}
${MAIN_1D} {
  let i = ${flatIndex(ELEMENTWISE_GROUP)};
  if (i >= ${total}u) { return; }
  let c = i % ${C}u;
  let t0 = i / ${C}u;
  let w = t0 % ${W}u;
  let t1 = t0 / ${W}u;
  let h = t1 % ${H}u;
  let n = t1 / ${H}u;
  let base = ((n * ${OH}u + h * ${s}u) * ${OW}u + w * ${s}u) * ${C}u + c;
  var acc = 0.0;
  for (var a = 0u; a < ${s}u; a++) {
    for (var b = 0u; b < ${s}u; b++) {
      acc += dy[base + (a * ${OW}u + b) * ${C}u];
    }
  }
  dx[i] = ${epi.apply('acc', 'i')};
}`,
  };
}
