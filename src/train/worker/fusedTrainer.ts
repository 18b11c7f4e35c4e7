/**
 * The fused WebGPU training path inside tfjs (#19): the fused runtime (src/train/fused/runtime.ts) run
 * on tfjs-backend-webgpu's own GPUDevice and command encoder, training the model's own variables.
 *
 * Per step, in tfjs' command encoder (one submit): weights the loop replaced since the last step (a
 * restored snapshot, a loaded checkpoint) are copied into the flat parameter buffer; the fused pass
 * (forward, loss, backward, one optimizer dispatch); then the new weights are copied out into fresh
 * tfjs tensors that the variables take (so snapshots the loop holds, which share the old buffers,
 * keep their values), and the loss into a fresh scalar the loop reads back with the others.
 * Buffer copies are not dispatches. Everything else in the app (views, evaluation, checkpoints,
 * export) keeps using tfjs on the same variables.
 */
import * as tf from '@tensorflow/tfjs';
import type { ExperimentSpec, Shape } from '../../model/spec';
import type { KernelPathReport } from '../protocol';
import { describePlan, planFused, type FusedPlan } from '../fused/plan';
import { FusedNet, type StepCounts } from '../fused/runtime';

/** What this code needs of tfjs-backend-webgpu's WebGPUBackend (checked at run time: its internals are not public API). */
interface WebGPUBackendInternals {
  device: GPUDevice;
  adapterInfo?: { vendor?: string; architecture?: string };
  commandEncoder: GPUCommandEncoder | null;
  tensorMap: { get(dataId: object): { resource?: unknown } | undefined };
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

function webgpuInternals(): WebGPUBackendInternals | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const b = tf.backend() as unknown as Partial<WebGPUBackendInternals>;
  const ok =
    b.device != null &&
    b.tensorMap != null &&
    typeof b.ensureCommandEncoderReady === 'function' &&
    typeof b.endComputePassEncoder === 'function' &&
    typeof b.submitQueue === 'function' &&
    typeof b.uploadToGPU === 'function' &&
    typeof b.makeTensorInfo === 'function';
  return ok ? (b as WebGPUBackendInternals) : null;
}

type Variable = tf.LayersModel['weights'][number];

/** Whether tfjs' adapter is a CPU emulation of a GPU (SwiftShader), where other kernels suit (matmul.ts). */
function isEmulated(backend: WebGPUBackendInternals): boolean {
  const info = backend.adapterInfo;
  return /swiftshader/i.test(`${info?.vendor ?? ''} ${info?.architecture ?? ''}`);
}

export class FusedTrainer {
  private readonly net: FusedNet;
  private readonly variables: Variable[];
  /** The tfjs data each variable held after our last write (a different one: the loop replaced the weights). */
  private readonly known: (object | null)[];
  private optimizerToken: object | null = null;
  lastCounts: StepCounts | null = null;

  private constructor(
    private readonly backend: WebGPUBackendInternals,
    readonly plan: FusedPlan,
    model: tf.LayersModel,
    learningRate: number,
    seed: number,
  ) {
    this.net = new FusedNet(backend.device, plan, learningRate, seed, isEmulated(backend));
    const byName = new Map(model.weights.map((w) => [w.originalName, w] as const));
    this.variables = plan.weights.map((w) => {
      const v = byName.get(`${w.layer}/${w.name}`);
      if (!v) throw new Error(`fused path: the model has no weight ${w.layer}/${w.name}`);
      if (!tf.util.arraysEqual(v.shape as number[], w.shape)) throw new Error(`fused path: ${w.layer}/${w.name} is ${v.shape.join('×')}, the plan says ${w.shape.join('×')}`);
      return v;
    });
    if (this.variables.length !== model.weights.length) throw new Error(`fused path: the plan covers ${this.variables.length} of the model's ${model.weights.length} weights`);
    this.known = this.variables.map(() => null);
  }

  /**
   * The fused trainer for this model on the current backend, or why there is none (not WebGPU, a
   * variant or setting the fused path does not cover). `disabled` names a reason to use stock kernels anyway.
   */
  static create(
    spec: Pick<ExperimentSpec, 'encoder' | 'decoder' | 'loss' | 'optimizer' | 'variant' | 'learningRate' | 'seed'>,
    model: tf.LayersModel,
    inputShape: Shape,
  ): { trainer: FusedTrainer; report: KernelPathReport } | { trainer: null; report: KernelPathReport } {
    const backend = webgpuInternals();
    if (!backend) return { trainer: null, report: { fused: false, detail: `the ${tf.getBackend()} backend (the fused path is WebGPU's)` } };
    const planned = planFused(spec, inputShape);
    if (!planned.ok) return { trainer: null, report: { fused: false, detail: planned.reasons.join('; ') } };
    try {
      const trainer = new FusedTrainer(backend, planned.plan, model, spec.learningRate, spec.seed);
      return { trainer, report: { fused: true, detail: describePlan(planned.plan) } };
    } catch (e) {
      return { trainer: null, report: { fused: false, detail: e instanceof Error ? e.message : String(e) } };
    }
  }

  /** tfjs' command encoder, with no compute pass open (ours opens its own). */
  private encoder(): GPUCommandEncoder {
    this.backend.ensureCommandEncoderReady();
    this.backend.endComputePassEncoder();
    const enc = this.backend.commandEncoder;
    if (!enc) throw new Error('fused path: tfjs has no command encoder');
    return enc;
  }

  private gpuBuffer(t: tf.TensorInfo): GPUBuffer {
    this.backend.uploadToGPU(t.dataId);
    const resource = this.backend.tensorMap.get(t.dataId)?.resource;
    if (!(resource instanceof GPUBuffer)) throw new Error('fused path: a tensor is not in a GPU buffer');
    return resource;
  }

  /** Copies the weights the loop replaced since our last step into the flat buffers. */
  private pullChanged(enc: GPUCommandEncoder): void {
    this.variables.forEach((v, i) => {
      const value = v.read();
      if (this.known[i] === value.dataId) return;
      const w = this.plan.weights[i];
      const target = w.region === 'param' ? this.net.params.buffer : this.net.stateBuffer.buffer;
      // uploadToGPU may record a staging copy into this same encoder (tfjs'): ours follows it.
      const src = this.gpuBuffer(value);
      enc.copyBufferToBuffer(src, 0, target, w.offset * 4, w.size * 4);
      this.known[i] = value.dataId;
    });
  }

  /** Takes in replaced weights, uploads the batch and records the fused pass (with the optimizer or not). */
  private encodePass(enc: GPUCommandEncoder, pixels: Float32Array, n: number, update: boolean): StepCounts {
    this.pullChanged(enc);
    this.net.writeBatch(pixels, n);
    return this.net.encodeStep(enc, n, update);
  }

  /** Fresh tfjs tensors holding the flat buffers' weights, taken by the variables. */
  private pushAll(enc: GPUCommandEncoder): void {
    this.variables.forEach((v, i) => {
      const w = this.plan.weights[i];
      const info = this.backend.makeTensorInfo(w.shape, 'float32');
      const dst = this.gpuBuffer(info);
      const src = w.region === 'param' ? this.net.params.buffer : this.net.stateBuffer.buffer;
      enc.copyBufferToBuffer(src, w.offset * 4, dst, 0, w.size * 4);
      const t = tf.engine().makeTensorFromTensorInfo(info);
      v.write(t);
      t.dispose();
      this.known[i] = v.read().dataId;
    });
  }

  private scalarFrom(enc: GPUCommandEncoder, src: { buffer: GPUBuffer; offset: number }): tf.Scalar {
    const info = this.backend.makeTensorInfo([], 'float32');
    enc.copyBufferToBuffer(src.buffer, src.offset, this.gpuBuffer(info), 0, 4);
    return tf.engine().makeTensorFromTensorInfo(info) as tf.Scalar;
  }

  /**
   * One training step on `n` images (n × H·W·C floats in [0, 1]); returns the loss, still on the
   * device. `optimizer`: the loop's current optimizer object — a new one (after a divergence) restarts
   * the fused optimizer's state too.
   */
  step(pixels: Float32Array, n: number, optimizer: object | null, learningRate: number): tf.Scalar {
    const enc = this.encoder();
    if (optimizer !== this.optimizerToken) {
      if (this.optimizerToken !== null) this.net.resetOptimizer(enc);
      this.optimizerToken = optimizer;
    }
    this.net.setLearningRate(learningRate);
    this.lastCounts = this.encodePass(enc, pixels, n, true);
    this.pushAll(enc);
    const loss = this.scalarFrom(enc, this.net.lossSource(n));
    this.backend.submitQueue();
    return loss;
  }

  /**
   * The mean loss of `n` images (n × H·W·C floats in [0, 1]) in inference mode — batch norm with its
   * moving statistics, no dropout, as model.predict — still on the device; nothing is updated. The
   * evaluation of the test and training sets at an epoch's end (the fused kernels, not tfjs' stock ones).
   */
  inferLoss(pixels: Float32Array, n: number): tf.Scalar {
    const enc = this.encoder();
    this.pullChanged(enc);
    this.net.writeBatch(pixels, n, 'infer');
    this.net.encodeInference(enc, n);
    const loss = this.scalarFrom(enc, this.net.lossSource(n, 'infer'));
    this.backend.submitQueue();
    return loss;
  }

  /**
   * Images per inference batch: up to 250, fewer where the activations of 250 would take over 64 MB
   * (an inference pass keeps every layer's output; the 64-kernel model's are ~0.3 M floats per image).
   */
  inferenceBatch(): number {
    const perImage = this.plan.buffers.reduce((a, b) => a + b, 0);
    return Math.max(16, Math.min(250, Math.floor(16_000_000 / perImage)));
  }

  /**
   * The loss and the gradients of the trainable weights (plan order, each its weight's shape) on a
   * batch, without updating anything: the gradient check's view of the fused path.
   */
  async gradients(pixels: Float32Array, n: number): Promise<{ loss: number; grads: Float32Array[]; names: string[] }> {
    const enc = this.encoder();
    this.encodePass(enc, pixels, n, false);
    const flat = this.backend.makeTensorInfo([this.plan.paramFloats], 'float32');
    enc.copyBufferToBuffer(this.net.gradients.buffer, 0, this.gpuBuffer(flat), 0, this.plan.paramFloats * 4);
    const flatT = tf.engine().makeTensorFromTensorInfo(flat);
    const loss = this.scalarFrom(enc, this.net.lossSource(n));
    this.backend.submitQueue();
    try {
      const [values, lossValue] = await Promise.all([flatT.data() as Promise<Float32Array>, loss.data()]);
      const trainable = this.plan.weights.filter((w) => w.region === 'param');
      return {
        loss: lossValue[0],
        grads: trainable.map((w) => values.slice(w.offset, w.offset + w.size)),
        names: trainable.map((w) => `${w.layer}/${w.name}`),
      };
    } finally {
      flatT.dispose();
      loss.dispose();
    }
  }

  /**
   * The model's output on a batch through the fused forward pass (training mode: batch statistics,
   * dropout), read back: the gradient check computes its loss in float64 from it.
   */
  async forwardOutput(pixels: Float32Array, n: number): Promise<Float32Array> {
    const enc = this.encoder();
    this.encodePass(enc, pixels, n, false);
    const floats = this.plan.output.size * n;
    const info = this.backend.makeTensorInfo([floats], 'float32');
    enc.copyBufferToBuffer(this.net.kernels(n).activation(this.plan.output), 0, this.gpuBuffer(info), 0, floats * 4);
    const t = tf.engine().makeTensorFromTensorInfo(info);
    this.backend.submitQueue();
    try {
      return (await t.data()) as Float32Array;
    } finally {
      t.dispose();
    }
  }

  /** Each dispatch of a step timed on its own (the bench's breakdown); the weights move as by one step. */
  async profile(pixels: Float32Array, n: number): Promise<{ label: string; phase: string; ms: number }[]> {
    this.encoder();
    this.backend.submitQueue();
    this.net.writeBatch(pixels, n);
    return this.net.profile(n);
  }

  /** true: every pass draws the same dropout masks (for the gradient check's differences). */
  freezeRandomness(frozen: boolean): void {
    this.net.frozenRandomness = frozen;
  }

  /** Dispatches per training step at batch size `n` (forward, loss, backward, optimizer). */
  counts(n: number): StepCounts {
    return this.net.kernels(n).counts(true);
  }

  dispose(): void {
    // Our step's commands were submitted with it; nothing of tfjs' pending work reads these buffers.
    this.net.dispose();
  }
}
