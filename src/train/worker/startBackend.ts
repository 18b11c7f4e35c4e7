/**
 * Starting one tfjs backend with our training kernels: shared by the backend choice (backends.ts),
 * Auto's race and the live-views helper (which must not pull in the WebGPU backend).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../../model/spec';
import { registerTrainingKernels } from './kernels';

/** Makes `name` the active backend (with our training kernels); the reason it failed, or null. */
export async function trySet(name: BackendName): Promise<string | null> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    if (!ok || tf.getBackend() !== name) return `${name} failed to initialise`;
    registerTrainingKernels();
    return null;
  } catch (e) {
    return `${name} failed to initialise: ${e instanceof Error ? e.message : String(e)}`;
  }
}
