/**
 * Max and average pooling (NHWC, 'valid' padding, square windows) for the fused WebGPU training path
 * (#19), forward and backward. The backward kernels are in gather form: one thread per input element
 * sums the output gradients of the windows covering it (no atomics, no zero-fill: every dx element is
 * written), so overlapping windows (pool 3, stride 2) and unused rows/columns (H odd) need no special case.
 *
 * Max pool's forward pass records each window's argmax (a flat index into x), and its ties go to the
 * first maximum in row-major window order, as tfjs' (a later equal value does not replace it); the
 * backward pass routes dy to exactly that element.
 *
 * Pure TypeScript (WGSL as text): no tfjs, no DOM.
 */
import { dactEpilogue, ELEMENTWISE_GROUP, MAIN_1D, type DactOption } from './elementwise';
import { declareBindings, f32, flatIndex, groups1d, type BindingSpec, type KernelSource } from './wgsl';

export interface PoolGeometry {
  N: number;
  H: number;
  W: number;
  C: number;
  pool: number;
  stride: number;
  OH: number;
  OW: number;
}

/** The geometry of a pool × pool, stride `stride`, 'valid' pooling: OH = floor((H − pool)/stride) + 1. */
export function poolGeometry(N: number, H: number, W: number, C: number, pool: number, stride: number): PoolGeometry {
  for (const [k, v] of Object.entries({ N, H, W, C, pool, stride })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`poolGeometry: ${k} must be a positive integer, got ${v}`);
  }
  if (pool > H || pool > W) throw new Error(`poolGeometry: a ${pool}×${pool} window does not fit ${H}×${W}`);
  return { N, H, W, C, pool, stride, OH: Math.floor((H - pool) / stride) + 1, OW: Math.floor((W - pool) / stride) + 1 };
}

/** WGSL: decompose flat NHWC index `i` of a [N, rows, cols, C] tensor into n, r, q, c. */
function decompose(i: string, rows: number, cols: number, C: number, names: [string, string, string, string]): string {
  const [n, r, q, c] = names;
  return `let ${c} = ${i} % ${C}u;
  let t0 = ${i} / ${C}u;
  let ${q} = t0 % ${cols}u;
  let t1 = t0 / ${cols}u;
  let ${r} = t1 % ${rows}u;
  let ${n} = t1 / ${rows}u;`;
}

/**
 * WGSL loop over the output windows covering input element (n, h, w, c): `body` sees `o`, the flat
 * index into y/dy of each. Rows oh with oh·stride ≤ h < oh·stride + pool, i.e.
 * ceil((h + 1 − pool)/stride) ≤ oh ≤ floor(h/stride), clipped to [0, OH − 1]; columns alike.
 */
function coveringWindows(g: PoolGeometry, body: string): string {
  const { pool: P, stride: S, OH, OW, C } = g;
  return `let oh0 = select(0u, (h + ${S}u - ${P}u) / ${S}u, h + 1u > ${P}u);
  let oh1 = min(h / ${S}u, ${OH - 1}u);
  let ow0 = select(0u, (w + ${S}u - ${P}u) / ${S}u, w + 1u > ${P}u);
  let ow1 = min(w / ${S}u, ${OW - 1}u);
  for (var oh = oh0; oh <= oh1; oh++) {
    for (var ow = ow0; ow <= ow1; ow++) {
      let o = ((n * ${OH}u + oh) * ${OW}u + ow) * ${C}u + c;
      ${body}
    }
  }`;
}

/**
 * Max pooling. Bindings: x (read, [N,H,W,C]), y (read_write, [N,OH,OW,C]), arg (read_write,
 * array<u32>, [N,OH,OW,C]: the flat index into x of each window's (first) maximum).
 */
export function maxPoolForwardKernel(g: PoolGeometry, label = 'maxPool.forward'): KernelSource {
  const { N, H, W, C, pool: P, stride: S, OH, OW } = g;
  const bindings: BindingSpec[] = [
    { name: 'x', access: 'read' },
    { name: 'y', access: 'read_write' },
    { name: 'arg', access: 'read_write' },
  ];
  const total = N * OH * OW * C;
  return {
    label,
    bindings,
    workgroups: groups1d(total, ELEMENTWISE_GROUP),
    code: `${declareBindings(bindings, { arg: 'u32' })}
${MAIN_1D} {
  let i = ${flatIndex(ELEMENTWISE_GROUP)};
  if (i >= ${total}u) { return; }
  ${decompose('i', OH, OW, C, ['n', 'oh', 'ow', 'c'])}
  let base = ((n * ${H}u + oh * ${S}u) * ${W}u + ow * ${S}u) * ${C}u + c;
  var best = x[base];
  var at = base;
  for (var a = 0u; a < ${P}u; a++) {
    for (var b = 0u; b < ${P}u; b++) {
      let k = base + (a * ${W}u + b) * ${C}u;
      let v = x[k];
      if (v > best) { best = v; at = k; }
    }
  }
  y[i] = best;
  arg[i] = at;
}`,
  };
}

/**
 * Max pooling's gradient, gather form: dx[i] = Σ dy over the windows whose recorded max is element i
 * (0 elsewhere, including rows/columns no window covers), ⊙ dact(aux[i]) when `o.dact` is given.
 * Bindings: dy (read, [N,OH,OW,C]), arg (read, u32, the forward's), [aux (read, [N,H,W,C])],
 * dx (read_write, [N,H,W,C]; every element written).
 */
export function maxPoolBackwardKernel(g: PoolGeometry, o: { dact?: DactOption; label?: string } = {}): KernelSource {
  const { N, H, W, C } = g;
  const epi = dactEpilogue(o.dact);
  const bindings: BindingSpec[] = [
    { name: 'dy', access: 'read' },
    { name: 'arg', access: 'read' },
    ...epi.bindings,
    { name: 'dx', access: 'read_write' },
  ];
  const total = N * H * W * C;
  return {
    label: o.label ?? 'maxPool.backward',
    bindings,
    workgroups: groups1d(total, ELEMENTWISE_GROUP),
    code: `${declareBindings(bindings, { arg: 'u32' })}
${epi.fn}
${MAIN_1D} {
  let i = ${flatIndex(ELEMENTWISE_GROUP)};
  if (i >= ${total}u) { return; }
  ${decompose('i', H, W, C, ['n', 'h', 'w', 'c'])}
  var acc = 0.0;
  ${coveringWindows(g, 'if (arg[o] == i) { acc += dy[o]; }')}
  dx[i] = ${epi.apply('acc', 'i')};
}`,
  };
}

/** Average pooling (each window's mean over pool² elements). Bindings: x (read), y (read_write, [N,OH,OW,C]). */
export function avgPoolForwardKernel(g: PoolGeometry, label = 'avgPool.forward'): KernelSource {
  const { N, H, W, C, pool: P, stride: S, OH, OW } = g;
  const bindings: BindingSpec[] = [
    { name: 'x', access: 'read' },
    { name: 'y', access: 'read_write' },
  ];
  const total = N * OH * OW * C;
  return {
    label,
    bindings,
    workgroups: groups1d(total, ELEMENTWISE_GROUP),
    code: `${declareBindings(bindings)}
${MAIN_1D} {
  let i = ${flatIndex(ELEMENTWISE_GROUP)};
  if (i >= ${total}u) { return; }
  ${decompose('i', OH, OW, C, ['n', 'oh', 'ow', 'c'])}
  let base = ((n * ${H}u + oh * ${S}u) * ${W}u + ow * ${S}u) * ${C}u + c;
  var acc = 0.0;
  for (var a = 0u; a < ${P}u; a++) {
    for (var b = 0u; b < ${P}u; b++) {
      acc += x[base + (a * ${W}u + b) * ${C}u];
    }
  }
  y[i] = acc * ${f32(1 / (P * P))};
}`,
  };
}

/**
 * Average pooling's gradient, gather form: dx[i] = Σ dy / pool² over the windows covering element i,
 * ⊙ dact(aux[i]) when `o.dact` is given. Bindings: dy (read), [aux (read, [N,H,W,C])], dx (read_write, [N,H,W,C]).
 */
export function avgPoolBackwardKernel(g: PoolGeometry, o: { dact?: DactOption; label?: string } = {}): KernelSource {
  const { N, H, W, C, pool: P } = g;
  const epi = dactEpilogue(o.dact);
  const bindings: BindingSpec[] = [{ name: 'dy', access: 'read' }, ...epi.bindings, { name: 'dx', access: 'read_write' }];
  const total = N * H * W * C;
  return {
    label: o.label ?? 'avgPool.backward',
    bindings,
    workgroups: groups1d(total, ELEMENTWISE_GROUP),
    code: `${declareBindings(bindings)}
${epi.fn}
${MAIN_1D} {
  let i = ${flatIndex(ELEMENTWISE_GROUP)};
  if (i >= ${total}u) { return; }
  ${decompose('i', H, W, C, ['n', 'h', 'w', 'c'])}
  var acc = 0.0;
  ${coveringWindows(g, 'acc += dy[o];')}
  dx[i] = ${epi.apply(`acc * ${f32(1 / (P * P))}`, 'i')};
}`,
  };
}
