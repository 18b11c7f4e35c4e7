/**
 * The fused WebGPU training path's runtime (#19): a plan (plan.ts) turned into kernels for one batch
 * size, with every buffer, pipeline and bind group made once and reused at every step. A step is one
 * compute pass: the forward ops (activation fused), the loss and its gradient (the output
 * activation's derivative fused), the backward ops (each writing its input's gradient with the
 * previous activation's derivative applied, its weight gradient as a split reduction, its bias
 * gradient), and one optimizer dispatch over the flat parameter buffer. The loss is left on the GPU.
 *
 * Pure WebGPU (no tfjs): it runs on any GPUDevice — tfjs' own in the app (fusedTrainer.ts binds the
 * model's variables), Dawn's in the unit tests.
 */
import { conv2dBackpropFilterKernels, conv2dBackpropInputKernel, conv2dForwardKernel, convGeometry, type ConvGeometry } from './conv';
import { batchNormBackwardKernels, batchNormForwardKernels, batchNormInferenceKernel } from './batchNorm';
import { activationBackwardKernel, activationForwardKernel, dropoutBackwardKernel, dropoutForwardKernel } from './elementwise';
import { lossKernels, lossPartialKernels } from './loss';
import { matmulKernel } from './matmul';
import { adamHyper, adamKernel, gatherKernel, momentumHyper, momentumKernel, rmspropHyper, rmspropKernel, type GatherSegment } from './optimizers';
import { ALIGN_FLOATS, dactFor, type FusedOp, type FusedPlan, type PlanTensor, type WeightSlot } from './plan';
import { avgPoolBackwardKernel, avgPoolForwardKernel, maxPoolBackwardKernel, maxPoolForwardKernel, poolGeometry } from './pool';
import { colSumPartials, type OpKernels } from './reduce';
import { upsampleBackwardKernel, upsampleForwardKernel } from './upsample';
import type { KernelSource } from './wgsl';

const STORAGE = 0x80; // GPUBufferUsage.STORAGE
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const USAGE = STORAGE | COPY_SRC | COPY_DST;

/**
 * A buffer range a kernel binds: floats [offset, offset + size) of a buffer; 'partials' is the step's
 * shared buffer of split-reduction partials, made once its size is known (after every op is planned).
 */
interface BufferRange {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}
type Range = BufferRange | { buffer: 'partials'; offset: number; size: number };

/** One dispatch of a step: its pipeline, bind group and size. */
interface Dispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
  /** 'gather' runs instead of 'optimizer' when the step only computes gradients. */
  phase: 'forward' | 'loss' | 'backward' | 'optimizer' | 'gather';
}

export interface StepCounts {
  forward: number;
  loss: number;
  backward: number;
  optimizer: number;
  gather: number;
  total: number;
}

function makeBuffer(device: GPUDevice, floats: number, label: string): GPUBuffer {
  return device.createBuffer({ size: Math.max(16, Math.ceil((floats * 4) / 16) * 16), usage: USAGE, label });
}

/**
 * 'train': a training step (forward, loss, backward, optimizer); 'infer': the loss in inference mode
 * (batch norm with its moving statistics, no dropout) — the evaluation of a test set.
 */
export type PassMode = 'train' | 'infer';

/** The buffers of one batch size and mode: activations and their gradients, the dropout seeds, scratch. */
class BatchKernels {
  readonly dispatches: Dispatch[] = [];
  private readonly owned: GPUBuffer[] = [];
  private readonly acts: GPUBuffer[];
  /** Made when first bound (an inference pass needs only the output's). */
  private readonly grads: (GPUBuffer | null)[];
  readonly seeds: GPUBuffer[] = [];
  /** Where a step leaves its mean loss (a buffer and byte offset). */
  lossAt: { buffer: GPUBuffer; offset: number } = { buffer: null as unknown as GPUBuffer, offset: 0 };
  /** Kernels with their buffers by name, bound once the shared partials buffer exists. */
  private readonly pending: { kernel: KernelSource; io: Record<string, Range>; phase: Dispatch['phase'] }[] = [];
  private partialFloats = 0;
  /** Gradients still split into partials, summed by the optimizer's (or the gather) dispatch. */
  private readonly segments: GatherSegment[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly net: FusedNet,
    readonly batch: number,
    private readonly pipelines: Map<string, GPUComputePipeline>,
    readonly mode: PassMode = 'train',
  ) {
    const { plan } = net;
    this.acts = plan.buffers.map((size, i) => this.own(makeBuffer(device, size * batch, `act${i}`)));
    this.grads = plan.buffers.map((_, i) => (i === 0 ? this.acts[0] : null));
    for (const op of plan.ops) this.forward(op);
    if (mode === 'infer') {
      this.inferenceLoss();
    } else {
      this.lossKernels();
      for (let i = plan.ops.length - 1; i >= 0; i--) this.backward(plan.ops[i], i === 0 || plan.ops[i].input.buffer === 0);
      this.optimizer();
    }
    const partials = this.own(makeBuffer(device, Math.max(4, this.partialFloats), 'split-reduction partials'));
    for (const p of this.pending) this.bind(p.kernel, p.io, p.phase, partials);
  }

  get input(): GPUBuffer {
    return this.acts[0];
  }

  /** The activation buffer of a tensor (tests read the output). */
  activation(t: PlanTensor): GPUBuffer {
    return this.acts[t.buffer];
  }

  private own(b: GPUBuffer): GPUBuffer {
    this.owned.push(b);
    return b;
  }

  private whole(buffer: GPUBuffer, floats: number): BufferRange {
    return { buffer, offset: 0, size: floats };
  }

  private act(t: PlanTensor): Range {
    return this.whole(this.acts[t.buffer], t.size * this.batch);
  }

  private grad(t: PlanTensor): Range {
    let b = this.grads[t.buffer];
    if (!b) {
      b = this.own(makeBuffer(this.device, this.net.plan.buffers[t.buffer] * this.batch, `grad${t.buffer}`));
      this.grads[t.buffer] = b;
    }
    return this.whole(b, t.size * this.batch);
  }

  private pipeline(kernel: KernelSource): GPUComputePipeline {
    let p = this.pipelines.get(kernel.code);
    if (!p) {
      const module = this.device.createShaderModule({ code: kernel.code, label: kernel.label });
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: kernel.label });
      this.pipelines.set(kernel.code, p);
    }
    return p;
  }

  /** Adds a kernel's dispatch, binding its buffers by name from `io` (bound at the end of the constructor). */
  private add(kernel: KernelSource, io: Record<string, Range>, phase: Dispatch['phase']): void {
    this.pending.push({ kernel, io, phase });
  }

  private bind(kernel: KernelSource, io: Record<string, Range>, phase: Dispatch['phase'], partials: GPUBuffer): void {
    const pipeline = this.pipeline(kernel);
    const entries: GPUBindGroupEntry[] = kernel.bindings.map((b, i) => {
      const r = io[b.name];
      if (!r) throw new Error(`${kernel.label}: no buffer for binding ${b.name}`);
      const buffer = r.buffer === 'partials' ? partials : r.buffer;
      return { binding: i, resource: { buffer, offset: r.offset * 4, size: Math.max(4, r.size * 4) } };
    });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: kernel.label });
    this.dispatches.push({ label: kernel.label, pipeline, bindGroup, workgroups: kernel.workgroups, phase });
  }

  /** A range of the shared partials buffer. */
  private partialRange(floats: number): Range {
    const r: Range = { buffer: 'partials', offset: this.partialFloats, size: floats };
    this.partialFloats += Math.ceil(floats / ALIGN_FLOATS) * ALIGN_FLOATS;
    return r;
  }

  /**
   * A bias gradient: the column sum of `dy` ([rows, cols]) into `slot`'s gradient — in one pass where
   * one chunk covers the rows, else a partial pass whose sums the optimizer's dispatch gathers.
   */
  private biasGrad(rows: number, cols: number, dy: Range, slot: WeightSlot, label: string): void {
    const k = colSumPartials(rows, cols, label);
    if (k.chunks === 1) {
      for (const kernel of k.kernels) this.add(kernel, { x: dy, out: this.net.grad(slot) }, 'backward');
      return;
    }
    const partial = this.partialRange(k.scratch.partial);
    for (const kernel of k.kernels) this.add(kernel, { x: dy, partial }, 'backward');
    this.segments.push({ start: slot.offset, count: slot.size, base: partial.offset, stride: cols, chunks: k.chunks });
  }

  /** Adds a kernel sequence, with its scratch buffers made here. */
  private addAll(k: OpKernels, io: Record<string, Range>, phase: Dispatch['phase']): void {
    const all: Record<string, Range> = { ...io };
    for (const [name, floats] of Object.entries(k.scratch)) all[name] = this.whole(this.own(makeBuffer(this.device, floats, name)), floats);
    for (const kernel of k.kernels) this.add(kernel, all, phase);
  }

  private forward(op: FusedOp): void {
    const N = this.batch;
    const { net } = this;
    const x = this.act(op.input);
    const y = this.act(op.output);
    const act = { act: op.act, alpha: op.alpha };
    switch (op.kind) {
      case 'dense':
        this.add(matmulKernel({ M: N, N: op.units, K: op.inFeatures, transA: false, transB: false, bias: true, ...act, style: net.style, label: `${op.label} forward` }), { a: x, b: net.param(op.kernel), bias: net.param(op.bias), c: y }, 'forward');
        return;
      case 'conv2d': {
        const [H, W, C] = op.inShape;
        const g = convGeometry(N, H, W, C, op.kernelSize, op.outShape[2], op.strides, op.padding);
        this.add(conv2dForwardKernel(g, { bias: true, ...act, upsample: op.upsampleInput, label: `${op.label} forward` }), { x, w: net.param(op.kernel), bias: net.param(op.bias), y }, 'forward');
        return;
      }
      case 'conv2dTranspose': {
        // The forward pass of a transposed conv is the input gradient of the conv from the output's space to the input's.
        const [H, W, F] = op.outShape;
        const g = convGeometry(N, H, W, F, op.kernelSize, op.inShape[2], op.strides, op.padding);
        this.add(conv2dBackpropInputKernel(g, { bias: true, ...act, label: `${op.label} forward` }), { dy: x, w: net.param(op.kernel), bias: net.param(op.bias), dx: y }, 'forward');
        return;
      }
      case 'maxPool2d': {
        const [H, W, C] = op.inShape;
        const g = poolGeometry(N, H, W, C, op.poolSize, op.strides);
        const arg = this.whole(this.own(makeBuffer(this.device, op.output.size * N, 'argmax')), op.output.size * N);
        this.argmax.set(op, arg);
        this.add(maxPoolForwardKernel(g, `${op.label} forward`), { x, y, arg }, 'forward');
        return;
      }
      case 'avgPool2d': {
        const [H, W, C] = op.inShape;
        this.add(avgPoolForwardKernel(poolGeometry(N, H, W, C, op.poolSize, op.strides), `${op.label} forward`), { x, y }, 'forward');
        return;
      }
      case 'upSampling2d': {
        const [H, W, C] = op.inShape;
        this.add(upsampleForwardKernel(N, H, W, C, op.size, `${op.label} forward`), { x, y }, 'forward');
        return;
      }
      case 'batchNorm': {
        if (this.mode === 'infer') {
          const io = { x, gamma: net.param(op.gamma), beta: net.param(op.beta), movingMean: net.state(op.movingMean), movingVar: net.state(op.movingVariance), y };
          this.add(batchNormInferenceKernel(op.rowsPerSample * N, op.channels, { ...act, label: `${op.label} inference` }), io, 'forward');
          return;
        }
        const stats = { mean: this.scratchRange(op.channels), invStd: this.scratchRange(op.channels) };
        this.bnStats.set(op, stats);
        this.addAll(
          batchNormForwardKernels(op.rowsPerSample * N, op.channels, { ...act, style: net.style, label: `${op.label} forward` }),
          { x, gamma: net.param(op.gamma), beta: net.param(op.beta), movingMean: net.state(op.movingMean), movingVar: net.state(op.movingVariance), y, ...stats },
          'forward',
        );
        return;
      }
      case 'activation':
        this.add(activationForwardKernel(op.input.size * N, op.act, op.alpha, `${op.label} forward`), { x, y }, 'forward');
        return;
      case 'dropout': {
        if (this.mode === 'infer') {
          // No dropout when not training: a copy.
          this.add(activationForwardKernel(op.input.size * N, 'linear', 0, `${op.label} (inference: identity)`), { x, y }, 'forward');
          return;
        }
        const seed = this.own(makeBuffer(this.device, 4, 'dropout seed'));
        this.seeds.push(seed);
        this.seedOf.set(op, this.whole(seed, 1));
        this.add(dropoutForwardKernel(op.input.size * N, op.rate, `${op.label} forward`), { x, seed: this.whole(seed, 1), y }, 'forward');
        return;
      }
    }
  }

  private readonly argmax = new Map<FusedOp, Range>();
  private readonly bnStats = new Map<FusedOp, { mean: Range; invStd: Range }>();
  private readonly seedOf = new Map<FusedOp, Range>();

  private scratchRange(floats: number): Range {
    return this.whole(this.own(makeBuffer(this.device, floats, 'stats')), floats);
  }

  private lossKernels(): void {
    const { plan } = this.net;
    const out = plan.output;
    const dact = dactFor(plan, out);
    const count = out.size * this.batch;
    const k = lossPartialKernels({ loss: plan.loss, count, outAct: dact?.act ?? 'linear', alpha: dact?.alpha ?? 0 });
    const io = { y: this.act(out), t: this.whole(this.acts[0], count), dz: this.grad(out) };
    if (k.chunks === 1) {
      for (const kernel of k.kernels) this.add(kernel, { ...io, loss: this.whole(this.net.lossBuffer, 1) }, 'loss');
      this.lossAt = { buffer: this.net.lossBuffer, offset: 0 };
      return;
    }
    // The optimizer's (or the gather) dispatch totals the chunks' partial means into the spare slot after the parameters.
    const partial = this.partialRange(k.scratch.partial);
    for (const kernel of k.kernels) this.add(kernel, { ...io, partial }, 'loss');
    const slot = this.net.lossSlot;
    this.segments.push({ start: slot, count: 1, base: partial.offset, stride: 1, chunks: k.chunks });
    this.lossAt = { buffer: this.net.gradients.buffer, offset: slot * 4 };
  }

  /** The mean loss of an inference pass, totalled here (no optimizer dispatch to gather it). */
  private inferenceLoss(): void {
    const out = this.net.plan.output;
    const count = out.size * this.batch;
    const loss = this.own(makeBuffer(this.device, 4, 'inference loss'));
    this.addAll(lossKernels({ loss: this.net.plan.loss, count, outAct: 'linear' }), { y: this.act(out), t: this.whole(this.acts[0], count), dz: this.grad(out), loss: this.whole(loss, 1) }, 'loss');
    this.lossAt = { buffer: loss, offset: 0 };
  }

  /** The backward kernels of `op`; `first`: its input is the image batch, whose gradient nobody needs. */
  private backward(op: FusedOp, first: boolean): void {
    const N = this.batch;
    const { net } = this;
    const { plan } = net;
    const x = this.act(op.input);
    const dy = this.grad(op.output);
    const dx = this.grad(op.input);
    const prev = dactFor(plan, op.input);
    const dact = prev ? { dact: { act: prev.act, alpha: prev.alpha } } : {};
    const aux: Record<string, Range> = prev ? { aux: x } : {};
    const label = `${op.label} backward`;
    switch (op.kind) {
      case 'dense':
        this.add(matmulKernel({ M: op.inFeatures, N: op.units, K: N, transA: true, transB: false, style: net.style, label: `${label} dW` }), { a: x, b: dy, c: net.grad(op.kernel) }, 'backward');
        this.biasGrad(N, op.units, dy, op.bias, `${label} db`);
        if (!first) this.add(matmulKernel({ M: N, N: op.inFeatures, K: op.units, transA: false, transB: true, ...dact, style: net.style, label: `${label} dX` }), { a: dy, b: net.param(op.kernel), ...aux, c: dx }, 'backward');
        return;
      case 'conv2d': {
        const [H, W, C] = op.inShape;
        const g = convGeometry(N, H, W, C, op.kernelSize, op.outShape[2], op.strides, op.padding);
        // The bias gradient (Σ dy) comes out of the filter gradient's own passes.
        this.filterGrad(g, x, dy, op.kernel, op.bias, `${label} dW`, op.upsampleInput);
        if (!first) this.add(conv2dBackpropInputKernel(g, { ...dact, upsample: op.upsampleInput, label: `${label} dX` }), { dy, w: net.param(op.kernel), ...aux, dx }, 'backward');
        return;
      }
      case 'conv2dTranspose': {
        const [H, W, F] = op.outShape;
        const g = convGeometry(N, H, W, F, op.kernelSize, op.inShape[2], op.strides, op.padding);
        // Roles swap: the output's gradient is the conv's input, this op's input the conv's output.
        this.filterGrad(g, dy, x, op.kernel, null, `${label} dW`);
        this.biasGrad(N * H * W, F, dy, op.bias, `${label} db`);
        if (!first) this.add(conv2dForwardKernel(g, { ...dact, label: `${label} dX` }), { x: dy, w: net.param(op.kernel), ...aux, y: dx }, 'backward');
        return;
      }
      case 'maxPool2d': {
        if (first) return;
        const [H, W, C] = op.inShape;
        const arg = this.argmax.get(op);
        if (!arg) throw new Error(`${op.label}: no argmax buffer`);
        this.add(maxPoolBackwardKernel(poolGeometry(N, H, W, C, op.poolSize, op.strides), { ...dact, label }), { dy, arg, ...aux, dx }, 'backward');
        return;
      }
      case 'avgPool2d': {
        if (first) return;
        const [H, W, C] = op.inShape;
        this.add(avgPoolBackwardKernel(poolGeometry(N, H, W, C, op.poolSize, op.strides), { ...dact, label }), { dy, ...aux, dx }, 'backward');
        return;
      }
      case 'upSampling2d': {
        if (first) return;
        const [H, W, C] = op.inShape;
        this.add(upsampleBackwardKernel(N, H, W, C, op.size, { ...dact, label }), { dy, ...aux, dx }, 'backward');
        return;
      }
      case 'batchNorm': {
        const stats = this.bnStats.get(op);
        if (!stats) throw new Error(`${op.label}: no statistics buffers`);
        // The input gradient is needed for the gamma/beta gradients' kernels anyway; the first layer's goes to a scratch buffer.
        const target = first ? this.whole(this.own(makeBuffer(this.device, op.input.size * N, 'unused dx')), op.input.size * N) : dx;
        this.addAll(
          batchNormBackwardKernels(op.rowsPerSample * N, op.channels, { act: op.act, alpha: op.alpha, ...(first ? {} : dact), style: net.style, label }),
          { dy, y: this.act(op.output), x, ...stats, gamma: net.param(op.gamma), dx: target, dgamma: net.grad(op.gamma), dbeta: net.grad(op.beta) },
          'backward',
        );
        return;
      }
      case 'activation':
        if (first) return;
        this.add(activationBackwardKernel(op.input.size * N, op.act, { alpha: op.alpha, ...dact, label }), { dy, y: this.act(op.output), ...aux, dx }, 'backward');
        return;
      case 'dropout': {
        if (first) return;
        const seed = this.seedOf.get(op);
        if (!seed) throw new Error(`${op.label}: no seed buffer`);
        this.add(dropoutBackwardKernel(op.input.size * N, op.rate, { ...dact, label }), { dy, seed, ...aux, dx }, 'backward');
        return;
      }
    }
  }

  /**
   * A conv filter gradient (and, given `bias`, the bias gradient Σ dy in the same passes): written
   * directly where one chunk covers the positions, else partials that the optimizer's dispatch sums.
   */
  private filterGrad(g: ConvGeometry, x: Range, dy: Range, kernel: WeightSlot, bias: WeightSlot | null, label: string, upsample = 1): void {
    const k = conv2dBackpropFilterKernels(g, { label, bias: bias !== null, skipSum: true, style: this.net.style, upsample });
    const { layout } = k;
    if (layout.chunks === 1) {
      const io: Record<string, Range> = { x, dy, dw: this.net.grad(kernel) };
      if (bias) io.db = this.net.grad(bias);
      for (const kernel of k.kernels) this.add(kernel, io, 'backward');
      return;
    }
    const partial = this.partialRange(k.scratch.partial);
    for (const kk of k.kernels) this.add(kk, { x, dy, partial }, 'backward');
    const seg = (slot: WeightSlot, offset: number): GatherSegment => ({ start: slot.offset, count: slot.size, base: partial.offset + offset, stride: layout.chunkStride, chunks: layout.chunks });
    this.segments.push(seg(kernel, layout.kernelOffset));
    if (bias && layout.biasOffset !== null) this.segments.push(seg(bias, layout.biasOffset));
  }

  private optimizer(): void {
    const { net } = this;
    const count = net.plan.paramFloats + ALIGN_FLOATS; // the parameters and the loss's spare slot
    const segments = this.segments;
    // The partials are the whole shared buffer: segment bases are offsets into it.
    const gathered: Record<string, Range> = segments.length > 0 ? { partial: { buffer: 'partials', offset: 0, size: Math.max(1, this.partialFloats) } } : {};
    const io = { param: net.params, grad: net.gradients, hyper: this.whole(net.hyper, 4), ...gathered };
    const [s1, s2] = net.slots;
    switch (net.plan.optimizer) {
      case 'adam':
        this.add(adamKernel(count, {}, segments), { ...io, m: s1, v: s2 }, 'optimizer');
        break;
      case 'sgd':
        this.add(momentumKernel(count, 0.9, segments), { ...io, accum: s1 }, 'optimizer');
        break;
      case 'rmsprop':
        this.add(rmspropKernel(count, {}, segments), { ...io, ms: s1, mom: s2 }, 'optimizer');
        break;
    }
    if (segments.length > 0) this.add(gatherKernel(count, segments), { grad: net.gradients, ...gathered }, 'gather');
  }

  counts(withOptimizer: boolean): StepCounts {
    const c = { forward: 0, loss: 0, backward: 0, optimizer: 0, gather: 0, total: 0 };
    for (const d of this.dispatches) {
      if (d.phase === (withOptimizer ? 'gather' : 'optimizer')) continue;
      c[d.phase]++;
      c.total++;
    }
    return c;
  }

  dispose(): void {
    this.owned.forEach((b) => b.destroy());
  }
}

/**
 * A fused network on a device: the flat parameter buffer (every trainable weight at its plan offset),
 * its gradient and the optimizer's state, the moving statistics, and the kernels per batch size.
 */
export class FusedNet {
  readonly params: BufferRange;
  readonly gradients: BufferRange;
  readonly stateBuffer: BufferRange;
  /** The optimizer's state: Adam's m and v, momentum's accumulator, RMSprop's mean square and momentum. */
  readonly slots: [BufferRange, BufferRange];
  readonly hyper: GPUBuffer;
  readonly lossBuffer: GPUBuffer;
  /**
   * A spare slot after the parameters (ALIGN_FLOATS floats in every flat buffer): where the optimizer's
   * dispatch totals the loss when its reduction has several chunks (the "parameter" there is a dummy).
   */
  readonly lossSlot: number;
  private readonly batches = new Map<string, BatchKernels>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Optimizer steps taken (Adam's bias correction). */
  step = 0;
  private dropoutCounter = 0;
  /** While true, every step draws the same dropout masks (the gradient check's differences need that). */
  frozenRandomness = false;

  /**
   * 'direct' kernels (no workgroup memory or barriers: matrix products, batch norm, the filter gradient)
   * on a CPU-emulated adapter, where barriers are slow (see matmul.ts); 'tiled' on GPUs.
   */
  readonly style: 'tiled' | 'direct';

  constructor(
    readonly device: GPUDevice,
    readonly plan: FusedPlan,
    private learningRate: number,
    private readonly seed = 1,
    /** The adapter is a CPU emulation (SwiftShader): pick the kernels that suit one. */
    emulated = false,
  ) {
    this.style = emulated ? 'direct' : 'tiled';
    this.lossSlot = plan.paramFloats;
    const p = plan.paramFloats + ALIGN_FLOATS;
    const whole = (floats: number, label: string): BufferRange => ({ buffer: makeBuffer(device, floats, label), offset: 0, size: floats });
    this.params = whole(p, 'params');
    this.gradients = whole(p, 'gradients');
    this.slots = [whole(p, 'optimizer state 1'), whole(p, 'optimizer state 2')];
    this.stateBuffer = whole(plan.stateFloats, 'moving statistics');
    this.hyper = makeBuffer(device, 4, 'optimizer hyper-parameters');
    this.lossBuffer = makeBuffer(device, 4, 'loss');
  }

  param(w: { offset: number; size: number }): BufferRange {
    return { buffer: this.params.buffer, offset: w.offset, size: w.size };
  }

  grad(w: { offset: number; size: number }): BufferRange {
    return { buffer: this.gradients.buffer, offset: w.offset, size: w.size };
  }

  state(w: { offset: number; size: number }): BufferRange {
    return { buffer: this.stateBuffer.buffer, offset: w.offset, size: w.size };
  }

  /** The kernels for batches of `n` images in `mode` (made at the first pass of that size, then reused). */
  kernels(n: number, mode: PassMode = 'train'): BatchKernels {
    const key = `${mode} ${n}`;
    let k = this.batches.get(key);
    if (!k) {
      k = new BatchKernels(this.device, this, n, this.pipelines, mode);
      this.batches.set(key, k);
    }
    return k;
  }

  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }

  /** Starts the optimizer afresh (zero moments, step 0), as a new tfjs optimizer would. */
  resetOptimizer(encoder: GPUCommandEncoder): void {
    for (const s of this.slots) encoder.clearBuffer(s.buffer);
    this.step = 0;
  }

  /** Writes weights from the CPU (in plan.weights order) — tests and a first upload. */
  writeWeights(values: readonly Float32Array[]): void {
    this.plan.weights.forEach((w, i) => {
      const target = w.region === 'param' ? this.params.buffer : this.stateBuffer.buffer;
      this.device.queue.writeBuffer(target, w.offset * 4, values[i].buffer, values[i].byteOffset, w.size * 4);
    });
  }

  /**
   * Records one training step on the batch already in `kernels(n).input`: forward, loss, backward and,
   * unless `update` is false (the gradient check), the optimizer. The loss lands at lossSource(n).
   * Queue writes (hyper-parameters, dropout seeds) happen now, so submit the encoder before the next step.
   */
  encodeStep(encoder: GPUCommandEncoder, n: number, update = true): StepCounts {
    const k = this.kernels(n);
    if (update) {
      this.step++;
      const hyper =
        this.plan.optimizer === 'adam' ? adamHyper(this.learningRate, this.step) : this.plan.optimizer === 'sgd' ? momentumHyper(this.learningRate) : rmspropHyper(this.learningRate);
      this.device.queue.writeBuffer(this.hyper, 0, hyper.buffer, hyper.byteOffset, hyper.byteLength);
    }
    if (!this.frozenRandomness) this.dropoutCounter++;
    for (let i = 0; i < k.seeds.length; i++) {
      const s = k.seeds[i];
      const seed = new Uint32Array([(Math.imul(this.seed + 1, 0x9e3779b1) ^ Math.imul(this.dropoutCounter, 0x85ebca6b) ^ i) >>> 0]);
      this.device.queue.writeBuffer(s, 0, seed.buffer, 0, 4);
    }
    const pass = encoder.beginComputePass({ label: 'fused training step' });
    for (const d of k.dispatches) {
      if (d.phase === (update ? 'gather' : 'optimizer')) continue;
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
    pass.end();
    return k.counts(update);
  }

  /**
   * Records the loss of the batch already in `kernels(n, 'infer').input` in inference mode (batch norm
   * with the moving statistics, no dropout); the mean loss lands at lossSource(n, 'infer'). Nothing is
   * updated. Submit before the next batch is written.
   */
  encodeInference(encoder: GPUCommandEncoder, n: number): StepCounts {
    const k = this.kernels(n, 'infer');
    const pass = encoder.beginComputePass({ label: 'fused inference pass' });
    for (const d of k.dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    }
    pass.end();
    return k.counts(false);
  }

  /**
   * Times every dispatch of a step on its own (each submitted alone and waited for): where a step's
   * time goes, for the bench. The weights are updated as by one step.
   */
  async profile(n: number): Promise<{ label: string; phase: string; ms: number }[]> {
    const k = this.kernels(n);
    const out: { label: string; phase: string; ms: number }[] = [];
    for (const d of k.dispatches) {
      if (d.phase === 'gather') continue;
      const enc = this.device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      pass.end();
      const t0 = performance.now();
      this.device.queue.submit([enc.finish()]);
      await this.device.queue.onSubmittedWorkDone();
      out.push({ label: d.label, phase: d.phase, ms: performance.now() - t0 });
    }
    return out;
  }

  /** Where a pass on `n` images leaves its mean loss: a buffer and a byte offset (4 bytes there). */
  lossSource(n: number, mode: PassMode = 'train'): { buffer: GPUBuffer; offset: number } {
    return this.kernels(n, mode).lossAt;
  }

  /** Uploads a batch of `n` images (n × inputSize floats) into the input buffer of the kernels for `mode`. */
  writeBatch(pixels: Float32Array, n: number, mode: PassMode = 'train'): void {
    const k = this.kernels(n, mode);
    this.device.queue.writeBuffer(k.input, 0, pixels.buffer, pixels.byteOffset, n * this.plan.inputSize * 4);
  }

  dispose(): void {
    this.batches.forEach((k) => k.dispose());
    this.batches.clear();
    [this.params, this.gradients, this.stateBuffer, ...this.slots].forEach((r) => r.buffer.destroy());
    this.hyper.destroy();
    this.lossBuffer.destroy();
  }
}
