/**
 * Messages between the training worker and its live-views helper (a nested worker that computes the
 * reconstructions and codes of the display images on another core while training goes on).
 */
import type { ExperimentSpec, Shape } from '../../model/spec';

export type ToViewsHelper =
  /** Build the model for a run (replacing any other) and keep the display images. */
  | { type: 'model'; key: number; spec: Pick<ExperimentSpec, 'encoder' | 'decoder' | 'seed'>; inputShape: Shape; display: Float32Array; count: number }
  /** Set these weights (in model.weights order) and render the display images. */
  | { type: 'render'; key: number; step: number; weights: Float32Array[] }
  /** Test hook: fail as a crashed helper would. */
  | { type: 'crash' };

export type FromViewsHelper =
  | {
      type: 'rendered';
      key: number;
      step: number;
      count: number;
      /** Reconstructions clipped to [0, 1], count × H × W × C. */
      pixels: Float32Array;
      codes: Float32Array;
      codeShape: number[];
      /** Wall time of the render in the helper (ms). */
      ms: number;
      /** tf tensors alive in the helper after the render (flat over a run). */
      numTensors: number;
    }
  | { type: 'failed'; message: string };
