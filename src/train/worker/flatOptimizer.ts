/**
 * Runs a stock tfjs optimizer on a model's small weight tensors at once, as one flat vector.
 *
 * tfjs optimizers update each variable with its own chain of small ops: Adam runs ~14 kernels per
 * variable (plus scalar uploads), so a 5-conv-layer model with 10 weight tensors spends ~140 kernel
 * launches of a ~210-kernel training step in the optimizer. On WebGPU, WebGL and WASM each launch has a
 * fixed cost (shader dispatch, bind groups, JS bookkeeping) that dwarfs the arithmetic of these small
 * tensors. Here the gradients are concatenated into one vector, the wrapped optimizer updates one flat
 * variable (same formula, element for element: its state — moments, accumulators — lives on the flat
 * variable), and the result is sliced back into the model's variables: 2 concats + the optimizer's ops
 * once + one slice per variable. Large tensors (over FLAT_MAX_SIZE values) go to the optimizer as they are,
 * in the same call.
 *
 * Where the wrapped optimizer is our Adam on wasm (adam.ts: one kernel per variable already), the
 * gradients go to it as they are.
 *
 * The flat variable is refreshed from the model's variables at every step, so weights set from outside
 * (restoring a snapshot after a diverged step, a checkpoint after a lost device) are always respected.
 */
import * as tf from '@tensorflow/tfjs';
import { FusedAdamOptimizer, fusedAdamHere } from './adam';

/** tfjs' NamedTensor (not re-exported by the tfjs package). */
type NamedTensor = Parameters<tf.Optimizer['setWeights']>[0][number];

let flatCount = 0;

/**
 * Weight tensors up to this many values are updated together as one flat vector; larger ones (a
 * 784×256 dense kernel) directly, where the launch overhead is small next to the work and copying them
 * into and out of the flat vector would cost more than it saves (measured: dense AE on WebGL 141 vs
 * 240 images/s with everything flattened).
 */
export const FLAT_MAX_SIZE = 16384;

export class FlatOptimizer extends tf.Optimizer {
  static readonly className = 'FlatOptimizer';
  private flat: tf.Variable | null = null;

  constructor(private readonly inner: tf.Optimizer) {
    super();
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor] as const)
      : Object.entries(variableGradients);
    const registered = tf.engine().registeredVariables;
    const small: { v: tf.Variable; g: tf.Tensor }[] = [];
    const large: tf.NamedTensorMap = {};
    for (const [name, grad] of entries) {
      const v = registered[name];
      if (v == null || !v.trainable || grad == null) continue;
      if (v.size <= FLAT_MAX_SIZE) small.push({ v, g: grad });
      else large[name] = grad;
    }
    // Our Adam on wasm updates each variable in one kernel call: flattening would only add the concats
    // and slices (~2 + 2 per variable calls) it exists to save.
    if (small.length < 2 || (this.inner instanceof FusedAdamOptimizer && fusedAdamHere())) {
      // Nothing to gain: the stock path.
      for (const { v, g } of small) large[v.name] = g;
      if (Object.keys(large).length > 0) this.inner.applyGradients(large);
      this.incrementIterations();
      return;
    }
    const sizes = small.map(({ v }) => v.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    tf.tidy(() => {
      const weights = tf.concat(small.map(({ v }) => tf.reshape(v, [v.size])));
      if (this.flat == null || this.flat.size !== total) {
        // A new parameter layout: the wrapped optimizer's state would not fit it.
        this.flat?.dispose();
        this.flat = tf.variable(weights, true, `flatWeights_${flatCount++}`);
      } else {
        this.flat.assign(weights);
      }
      const grad = tf.concat(small.map(({ g }) => tf.reshape(g, [g.size])));
      // One call for all, so step-counting optimizers (Adam's bias correction) advance once per step.
      this.inner.applyGradients({ ...large, [this.flat.name]: grad });
      // One slice per variable, not tf.split: wasm's SplitV took 2 ms for the dense AE's 17,712 values
      // (its Slice is a copy of one contiguous run).
      let offset = 0;
      small.forEach(({ v }, i) => {
        v.assign(tf.reshape(tf.slice(this.flat as tf.Variable, offset, sizes[i]), v.shape));
        offset += sizes[i];
      });
    });
    this.incrementIterations();
  }

  override dispose(): void {
    this.inner.dispose();
    this.flat?.dispose();
    this.flat = null;
    super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { inner: this.inner.getClassName() };
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return this.inner.getWeights();
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    await this.inner.setWeights(weightValues);
  }
}
