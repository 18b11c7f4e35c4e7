/**
 * Test-only references shared by the fused kernels' tests: the activations as tfjs ops (the reference
 * the kernels are compared with on tfjs' cpu backend).
 */
import * as tf from '@tensorflow/tfjs';
import type { FusedActivation } from './wgsl';

/** The activation as a tfjs op ('linear' too is an op, so tf.grad sees the output as a function of x). */
export function tfAct(act: FusedActivation, x: tf.Tensor, alpha = 0.2): tf.Tensor {
  switch (act) {
    case 'linear':
      return tf.mul(x, 1);
    case 'relu':
      return tf.relu(x);
    case 'leakyRelu':
      return tf.leakyRelu(x, alpha);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'elu':
      return tf.elu(x);
    case 'selu':
      return tf.selu(x);
    case 'softplus':
      return tf.softplus(x);
  }
}
