/**
 * The built model and its optimizer, owned in one place: building one disposes the one before, and a
 * lost GPU device can make the slot forget its tensors without touching them (they died with it).
 * The backend session (session.ts) is a ModelSlot with a backend and a device to watch; the GPU bench
 * and the unit tests use a bare one (no device to lose: `guard` passes promises through).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendName, ExperimentSpec, Shape } from '../../model/spec';
import { buildModel, type BuiltModel } from './buildModel';
import type { KernelPathReport } from '../protocol';
import { FusedTrainer } from './fusedTrainer';
import { makeTrainingOptimizer } from './training';

/** The fields the fused WebGPU path (#19) reads to decide whether it can train a spec. */
export type FusedFields = Pick<ExperimentSpec, 'encoder' | 'decoder' | 'seed' | 'loss' | 'optimizer' | 'variant' | 'learningRate' | 'batchSize'>;

/** Thrown by the training loop when it notices the device is gone. */
export class DeviceLostError extends Error {}

type ModelSpec = Pick<ExperimentSpec, 'encoder' | 'decoder' | 'seed' | 'optimizer' | 'learningRate'>;

export class ModelSlot {
  private builtModel: BuiltModel | null = null;
  private opt: tf.Optimizer | null = null;
  private fusedTrainer: FusedTrainer | null = null;
  /** Train on WebGPU with the fused path where it covers the model (#19); false: tfjs' stock kernels (the bench's yardstick). */
  fusedEnabled = true;

  /** The model trained last (null before the first build, after dispose and after a device loss). */
  get built(): BuiltModel | null {
    return this.builtModel;
  }

  /** The optimizer the training steps use now (a divergence replaces it). */
  get optimizer(): tf.Optimizer | null {
    return this.opt;
  }

  /** Builds the model from the spec (disposing the previous one), with these weights if given, and a fresh optimizer. */
  build(spec: ModelSpec, inputShape: Shape, weights: readonly Float32Array[] | null = null): BuiltModel {
    this.dispose();
    const built = buildModel(spec, inputShape);
    this.builtModel = built;
    if (weights) {
      const shapes = built.model.weights.map((w) => w.shape as number[]);
      const tensors = weights.map((w, i) => tf.tensor(w, shapes[i]));
      built.model.setWeights(tensors);
      tensors.forEach((t) => t.dispose());
    }
    this.opt = makeTrainingOptimizer(spec);
    return built;
  }

  /** Takes a model built and filled elsewhere (an imported one, #18) as the slot's, with a fresh optimizer. */
  adopt(built: BuiltModel, spec: ModelSpec): void {
    this.dispose();
    this.builtModel = built;
    this.opt = makeTrainingOptimizer(spec);
  }

  /** The fused WebGPU trainer of the current model, when the fused path trains it (null: tfjs' stock kernels). */
  get fused(): FusedTrainer | null {
    return this.fusedTrainer;
  }

  /**
   * Sets up the fused WebGPU path for the current model when the backend is WebGPU and the path
   * covers the spec; returns which kernels will train it and why (for the page).
   */
  attachFused(spec: FusedFields, inputShape: Shape): KernelPathReport {
    this.fusedTrainer?.dispose();
    this.fusedTrainer = null;
    const built = this.builtModel;
    if (!built) return { fused: false, detail: 'no model' };
    if (!this.fusedEnabled) return { fused: false, detail: 'the fused path is switched off' };
    const { trainer, report } = FusedTrainer.create(spec, built.model, inputShape);
    this.fusedTrainer = trainer;
    if (trainer) report.dispatches = trainer.counts(spec.batchSize).total;
    return report;
  }

  /** Replaces the optimizer by a fresh one (after a divergence its moment estimates may hold NaN too). */
  freshOptimizer(spec: Pick<ExperimentSpec, 'optimizer' | 'learningRate'>): tf.Optimizer {
    this.opt?.dispose();
    this.opt = makeTrainingOptimizer(spec);
    return this.opt;
  }

  /** Disposes the model and the optimizer. */
  dispose(): void {
    this.fusedTrainer?.dispose();
    this.fusedTrainer = null;
    this.builtModel?.model.dispose();
    this.builtModel = null;
    this.opt?.dispose();
    this.opt = null;
  }

  /** Forgets the model and the optimizer without disposing them: their tensors lived on a lost device. */
  protected forget(): void {
    this.fusedTrainer = null;
    this.builtModel = null;
    this.opt = null;
  }

  /** A read-back from the device: here as it is; the session races it against the device's loss. */
  guard<T>(p: Promise<T>): Promise<T> {
    return p;
  }

  /** The backend this slot's session chose (a bare slot chooses none). */
  get backend(): BackendName | null {
    return null;
  }

  /** Why the device was lost, or null while it lives (a bare slot's never is). */
  get lostReason(): string | null {
    return null;
  }
}
