/**
 * The fused WebGPU training path's plan (#19): from an experiment's layers to a list of fused ops over
 * per-sample tensors, with every weight's place in one flat parameter buffer. Pure TypeScript: no
 * tfjs, no DOM; runtime.ts turns a plan into kernels for one batch size.
 *
 * Fusion: an activation layer right after a conv, transposed conv, dense or batch-norm layer whose own
 * activation is linear becomes that layer's activation (one kernel writes act(conv + bias)); flatten
 * and reshape are free (the same buffer, read with another shape). In the backward pass the
 * activation's derivative is applied where the gradient is written (the next layer's input-gradient
 * kernel, or the loss kernel), from the stored output: see wgsl.ts's dactFn.
 *
 * What the path does not cover yet (another variant than plain, a loss or layer it lacks) makes
 * `planFused` return the reasons instead, and the app trains with tfjs' stock kernels.
 */
import { inferShapes } from '../../model/inferShapes';
import type { ExperimentSpec, LayerSpec, Shape } from '../../model/spec';
import { shapeSize } from '../../model/spec';
import type { FusedActivation } from './wgsl';

/** A weight of the model: which layer (the name buildModel gives it), which of its weights, and where it sits. */
export interface WeightSlot {
  layer: string;
  /** tfjs' weight name within the layer: kernel, bias, gamma, beta, moving_mean, moving_variance. */
  name: string;
  shape: number[];
  size: number;
  /** 'param': trained by the optimizer (flat parameter buffer); 'state': batch norm's moving statistics. */
  region: 'param' | 'state';
  /** Offset in floats in its region's buffer (a multiple of ALIGN_FLOATS). */
  offset: number;
}

/** A per-sample tensor of the plan: `buffer` is the activation buffer it lives in (a reshape shares its source's). */
export interface PlanTensor {
  id: number;
  shape: Shape;
  size: number;
  buffer: number;
}

interface OpBase {
  /** The spec layer this op comes from (the first, when an activation layer was fused into it). */
  layer: string;
  /** A human name: 'enc0 conv2d + leakyRelu'. */
  label: string;
  input: PlanTensor;
  output: PlanTensor;
  /** The activation applied at the end of this op's forward pass. */
  act: FusedActivation;
  alpha: number;
  /**
   * Whether this op's backward kernel takes the gradient with respect to its OUTPUT and applies its
   * own activation's derivative (batch norm, a standalone activation); otherwise whoever writes the
   * gradient of this op's output applies the derivative (it then holds the gradient of the pre-activation).
   */
  selfDact: boolean;
}

export interface DenseOp extends OpBase {
  kind: 'dense';
  inFeatures: number;
  units: number;
  kernel: WeightSlot;
  bias: WeightSlot;
}

export interface ConvOp extends OpBase {
  kind: 'conv2d' | 'conv2dTranspose';
  kernelSize: number;
  strides: number;
  padding: 'same' | 'valid';
  /** [H, W, C] of the input and output. */
  inShape: [number, number, number];
  outShape: [number, number, number];
  kernel: WeightSlot;
  bias: WeightSlot;
  /**
   * conv2d only: the nearest upsampling (×s) of the layer before, folded in (1: none). `input` is then
   * the low-resolution tensor, which the kernels read through the upsampling; inShape stays upsampled.
   */
  upsampleInput: number;
}

export interface PoolOp extends OpBase {
  kind: 'maxPool2d' | 'avgPool2d';
  poolSize: number;
  strides: number;
  inShape: [number, number, number];
  outShape: [number, number, number];
}

export interface UpsampleOp extends OpBase {
  kind: 'upSampling2d';
  size: number;
  inShape: [number, number, number];
}

export interface BatchNormOp extends OpBase {
  kind: 'batchNorm';
  /** Rows per sample (H·W, or 1 after a dense layer) and channels. */
  rowsPerSample: number;
  channels: number;
  gamma: WeightSlot;
  beta: WeightSlot;
  movingMean: WeightSlot;
  movingVariance: WeightSlot;
}

export interface ActivationOp extends OpBase {
  kind: 'activation';
}

export interface DropoutOp extends OpBase {
  kind: 'dropout';
  rate: number;
}

export type FusedOp = DenseOp | ConvOp | PoolOp | UpsampleOp | BatchNormOp | ActivationOp | DropoutOp;

export interface FusedPlan {
  inputShape: Shape;
  inputSize: number;
  ops: FusedOp[];
  /** Per-sample sizes of the activation buffers (index = PlanTensor.buffer); buffer 0 is the input batch. */
  buffers: number[];
  /** The tensor the loss compares with the input. */
  output: PlanTensor;
  weights: WeightSlot[];
  /** Floats of the flat parameter buffer (and of the gradient and optimizer-state buffers). */
  paramFloats: number;
  /** Floats of the moving-statistics buffer. */
  stateFloats: number;
  loss: ExperimentSpec['loss'];
  optimizer: ExperimentSpec['optimizer'];
}

export type PlanResult = { ok: true; plan: FusedPlan } | { ok: false; reasons: string[] };

/** Offsets in the flat buffers are multiples of this many floats (256 bytes: WebGPU's storage-offset alignment). */
export const ALIGN_FLOATS = 64;

const alignUp = (n: number): number => Math.ceil(n / ALIGN_FLOATS) * ALIGN_FLOATS;

type PlanSpec = Pick<ExperimentSpec, 'encoder' | 'decoder' | 'loss' | 'optimizer' | 'variant'>;

/** Whether an activation layer can be fused into the op before it (one with a linear activation of its own, not yet fused). */
function fusable(op: FusedOp | undefined, output: PlanTensor): op is DenseOp | ConvOp | BatchNormOp {
  return (
    op !== undefined &&
    op.output === output &&
    (op.kind === 'dense' || op.kind === 'conv2d' || op.kind === 'conv2dTranspose' || op.kind === 'batchNorm') &&
    op.act === 'linear'
  );
}

const hwc = (s: Shape): [number, number, number] => [s[0], s[1], s[2]];

/**
 * The fused plan of a spec on images of `inputShape`, or why the fused path cannot train it (the app
 * then uses tfjs' stock kernels for the whole model, and says which layers or settings were the reason).
 */
export interface PlanOptions {
  /** Fold an upsampling layer into the conv after it (default true). */
  foldUpsampling?: boolean;
}

export function planFused(spec: PlanSpec, inputShape: Shape, options: PlanOptions = {}): PlanResult {
  options = { foldUpsampling: true, ...options };
  const reasons: string[] = [];
  if (spec.variant !== 'plain') reasons.push(`the ${spec.variant} variant (its code-layer terms run on tfjs' kernels)`);
  const report = inferShapes(spec, inputShape);
  if (report.errors.length > 0) return { ok: false, reasons: report.errors };
  const all: { layer: LayerSpec; name: string; outShape: Shape }[] = [];
  spec.encoder.forEach((layer, i) => all.push({ layer, name: `enc${i}_${layer.kind}`, outShape: [] }));
  spec.decoder.forEach((layer, i) => all.push({ layer, name: `dec${i}_${layer.kind}`, outShape: [] }));
  report.layers.forEach((info, i) => {
    all[i].outShape = info.outputShape ?? [];
  });
  if (all.length === 0) reasons.push('no layers to train');
  if (reasons.length > 0) return { ok: false, reasons };

  const weights: WeightSlot[] = [];
  let paramFloats = 0;
  let stateFloats = 0;
  const slot = (layer: string, name: string, shape: number[], region: 'param' | 'state' = 'param'): WeightSlot => {
    const size = shapeSize(shape);
    const offset = region === 'param' ? paramFloats : stateFloats;
    if (region === 'param') paramFloats = alignUp(paramFloats + size);
    else stateFloats = alignUp(stateFloats + size);
    const w: WeightSlot = { layer, name, shape, size, region, offset };
    weights.push(w);
    return w;
  };
  const buffers: number[] = [shapeSize(inputShape)];
  let tensorId = 0;
  const input: PlanTensor = { id: tensorId++, shape: inputShape, size: shapeSize(inputShape), buffer: 0 };
  const fresh = (shape: Shape): PlanTensor => {
    buffers.push(shapeSize(shape));
    return { id: tensorId++, shape, size: shapeSize(shape), buffer: buffers.length - 1 };
  };
  const ops: FusedOp[] = [];
  let current = input;
  const base = (name: string, kind: string, outShape: Shape) => ({
    layer: name,
    label: `${name.split('_')[0]} ${kind}`,
    input: current,
    output: fresh(outShape),
    act: 'linear' as FusedActivation,
    alpha: 0,
    selfDact: false,
  });
  for (const { layer, name, outShape } of all) {
    const inShape = current.shape;
    switch (layer.kind) {
      case 'dense': {
        const inFeatures = inShape[inShape.length - 1];
        if (inShape.length !== 1) {
          reasons.push(`${name}: a dense layer on a ${inShape.length}-D input (flatten first)`);
          break;
        }
        const op: DenseOp = {
          ...base(name, 'dense', outShape),
          kind: 'dense',
          act: layer.activation,
          inFeatures,
          units: layer.units,
          kernel: slot(name, 'kernel', [inFeatures, layer.units]),
          bias: slot(name, 'bias', [layer.units]),
        };
        if (op.act !== 'linear') op.label += ` + ${op.act}`;
        ops.push(op);
        current = op.output;
        break;
      }
      case 'conv2d':
      case 'conv2dTranspose': {
        const inC = inShape[2];
        const kernelShape = layer.kind === 'conv2d' ? [layer.kernelSize, layer.kernelSize, inC, layer.filters] : [layer.kernelSize, layer.kernelSize, layer.filters, inC];
        const op: ConvOp = {
          ...base(name, layer.kind, outShape),
          kind: layer.kind,
          act: layer.activation,
          kernelSize: layer.kernelSize,
          strides: layer.strides,
          padding: layer.padding,
          inShape: hwc(inShape),
          outShape: hwc(outShape),
          kernel: slot(name, 'kernel', kernelShape),
          bias: slot(name, 'bias', [layer.filters]),
          upsampleInput: 1,
        };
        const prev = ops[ops.length - 1];
        if (options.foldUpsampling && layer.kind === 'conv2d' && prev?.kind === 'upSampling2d' && prev.output === op.input) {
          // Fold the upsampling into this conv: its output buffer is never written, nor needed.
          ops.pop();
          buffers[prev.output.buffer] = 0;
          op.input = prev.input;
          op.upsampleInput = prev.size;
          op.label += ` (input upsampled ×${prev.size})`;
        }
        if (op.act !== 'linear') op.label += ` + ${op.act}`;
        ops.push(op);
        current = op.output;
        break;
      }
      case 'maxPool2d':
      case 'avgPool2d': {
        const op: PoolOp = { ...base(name, layer.kind, outShape), kind: layer.kind, poolSize: layer.poolSize, strides: layer.strides, inShape: hwc(inShape), outShape: hwc(outShape) };
        ops.push(op);
        current = op.output;
        break;
      }
      case 'upSampling2d': {
        const op: UpsampleOp = { ...base(name, 'upSampling2d', outShape), kind: 'upSampling2d', size: layer.size, inShape: hwc(inShape) };
        ops.push(op);
        current = op.output;
        break;
      }
      case 'batchNorm': {
        const channels = inShape[inShape.length - 1];
        const op: BatchNormOp = {
          ...base(name, 'batchNorm', outShape),
          kind: 'batchNorm',
          selfDact: true,
          rowsPerSample: shapeSize(inShape) / channels,
          channels,
          gamma: slot(name, 'gamma', [channels]),
          beta: slot(name, 'beta', [channels]),
          movingMean: slot(name, 'moving_mean', [channels], 'state'),
          movingVariance: slot(name, 'moving_variance', [channels], 'state'),
        };
        ops.push(op);
        current = op.output;
        break;
      }
      case 'activation': {
        const prev = ops[ops.length - 1];
        if (fusable(prev, current)) {
          prev.act = layer.activation;
          prev.alpha = layer.alpha;
          prev.label += ` + ${layer.activation}`;
          break;
        }
        const op: ActivationOp = { ...base(name, layer.activation, outShape), kind: 'activation', act: layer.activation, alpha: layer.alpha, selfDact: true };
        ops.push(op);
        current = op.output;
        break;
      }
      case 'dropout': {
        const op: DropoutOp = { ...base(name, 'dropout', outShape), kind: 'dropout', rate: layer.rate };
        ops.push(op);
        current = op.output;
        break;
      }
      case 'flatten':
      case 'reshape':
        // The same values in the same (row-major NHWC) order: only the shape changes.
        current = { id: tensorId++, shape: outShape, size: current.size, buffer: current.buffer };
        break;
    }
  }
  if (ops.length === 0) reasons.push('no layer with weights or arithmetic (only reshapes)');
  if (reasons.length > 0) return { ok: false, reasons };
  return {
    ok: true,
    plan: {
      inputShape,
      inputSize: input.size,
      ops,
      buffers,
      output: current,
      weights,
      paramFloats: Math.max(paramFloats, ALIGN_FLOATS),
      stateFloats: Math.max(stateFloats, ALIGN_FLOATS),
      loss: spec.loss,
      optimizer: spec.optimizer,
    },
  };
}

/** The op that wrote a tensor's buffer (a reshape's source's writer), or null for the input batch. */
export function producerOf(plan: FusedPlan, t: PlanTensor): FusedOp | null {
  if (t.buffer === 0) return null;
  return plan.ops.find((op) => op.output.buffer === t.buffer) ?? null;
}

/**
 * What the kernel writing the gradient of tensor `t` must multiply by: the derivative of the
 * activation of the op that produced `t`, unless that op applies its own (or there is none).
 */
export function dactFor(plan: FusedPlan, t: PlanTensor): { act: FusedActivation; alpha: number } | null {
  const p = producerOf(plan, t);
  if (!p || p.selfDact || p.act === 'linear') return null;
  return { act: p.act, alpha: p.alpha };
}

/** A one-line summary of the plan for the page: the fused ops in order. */
export function describePlan(plan: FusedPlan): string {
  return plan.ops.map((op) => op.label).join(' → ');
}
