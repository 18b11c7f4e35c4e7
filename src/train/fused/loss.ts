/**
 * The reconstruction losses and their gradients (#19), as the app defines them in tfjs:
 * - mse: mean((y − t)²); dL/dy = 2(y − t)/count.
 * - l1: mean(|t − y|); dL/dy = −step(t − y)/count with tfjs' Abs gradient step(u) = u > 0 ? 1 : −1, i.e.
 *   sign(y − t)/count except at ties y = t, where tfjs gives +1/count (not 0).
 * - bce: p = clip(y, 1e-7, 1 − 1e-7), L = −mean(t·log p + (1 − t)·log(1 − p));
 *   dL/dy = −(t/p − (1 − t)/(1 − p))/count where 1e-7 ≤ y ≤ 1 − 1e-7 (the bounds in float32, inclusive,
 *   as tfjs' clipByValue gradient), else 0.
 * The kernels write dz = dL/dy · dact_outAct(y), the gradient at the last layer's pre-activation, and the
 * mean loss (a split sum: reduce.ts).
 */
import { splitSum, sumPass, sumPlan, type OpKernels } from './reduce';
import { dactFn, f32, type BindingSpec, type FusedActivation } from './wgsl';

export type FusedLoss = 'bce' | 'mse' | 'l1';

/** tfjs' float32 epsilon, the app's BCE clip. */
const BCE_CLIP = 1e-7;

function lossElement(loss: FusedLoss, count: string): string {
  switch (loss) {
    case 'mse':
      return `let d = yv - tv;
      let v = d * d;
      let g = 2.0 * d / ${count};`;
    case 'l1':
      // tfjs: |u|' = step(u, −1) (1 where u > 0, else −1) at u = t − y, so a tie y = t gets +1/count.
      return `let u = tv - yv;
      let v = abs(u);
      let g = select(1.0, -1.0, u > 0.0) / ${count};`;
    case 'bce':
      return `let p = clamp(yv, ${f32(BCE_CLIP)}, ${f32(1 - BCE_CLIP)});
      let v = -(tv * log(p) + (1.0 - tv) * log(1.0 - p));
      let inside = yv >= ${f32(BCE_CLIP)} && yv <= ${f32(1 - BCE_CLIP)};
      let g = select(0.0, -(tv / p - (1.0 - tv) / (1.0 - p)) / ${count}, inside);`;
  }
}

/**
 * The loss of `count` outputs (batch × values per image) and its gradient. Bindings by name: `y` (read:
 * the network's output, after `outAct`), `t` (read: the target), `dz` (read_write: count floats, dL/dz),
 * `loss` (read_write: the mean loss at index 0, nothing else written), and the scratch `partial`
 * (scratch.partial floats) when the sum takes two passes: kernel 1 binds [y, t, dz, partial] (or
 * [y, t, dz, loss] when it is the only one), kernel 2 [partial, loss]. Run them in order.
 */
export function lossKernels(o: { loss: FusedLoss; count: number; outAct: FusedActivation; alpha?: number }): OpKernels {
  return lossPasses(o, false);
}

/**
 * The loss's first pass alone (#19: the optimizer's dispatch totals it): with more than one chunk, pass 1
 * writes each chunk's sum already divided by count into scratch `partial` ([chunks]), so the mean loss
 * is Σ partial; with one chunk, the single kernel writes `loss` as lossKernels does (chunks 1).
 */
export function lossPartialKernels(o: { loss: FusedLoss; count: number; outAct: FusedActivation; alpha?: number }): OpKernels & { chunks: number } {
  const plan = sumPlan(o.count, 1);
  return { ...lossPasses(o, plan.chunks > 1), chunks: plan.chunks };
}

function lossPasses(o: { loss: FusedLoss; count: number; outAct: FusedActivation; alpha?: number }, partialOnly: boolean): OpKernels {
  if (!Number.isInteger(o.count) || o.count < 1) throw new Error(`loss: count must be a positive integer, got ${o.count}`);
  const count = f32(o.count);
  const inputs: BindingSpec[] = [
    { name: 'y', access: 'read' },
    { name: 't', access: 'read' },
    { name: 'dz', access: 'read_write' },
  ];
  if (partialOnly) {
    const plan = sumPlan(o.count, 1);
    const pass1 = sumPass({
      label: `loss.${o.loss}.partial`,
      rows: o.count,
      cols: 1,
      chunk: plan.chunk,
      inputs,
      out: 'partial',
      prelude: dactFn('dact', o.outAct, o.alpha),
      element: `let yv = y[i];
      let tv = t[i];
      ${lossElement(o.loss, count)}
      dz[i] = g * dact(yv);`,
      divisor: o.count,
    });
    return { kernels: [pass1], scratch: { partial: plan.chunks } };
  }
  return splitSum({
    label: `loss.${o.loss}`,
    rows: o.count,
    cols: 1,
    inputs,
    out: 'loss',
    prelude: dactFn('dact', o.outAct, o.alpha),
    element: `let yv = y[i];
      let tv = t[i];
      ${lossElement(o.loss, count)}
      dz[i] = g * dact(yv);`,
    divisor: o.count,
  });
}
