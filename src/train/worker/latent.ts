/**
 * The latent-space explorer's worker side (#17): the codes of up to a few thousand test images with their
 * labels, originals and reconstructions (for the latent map and its hover), and decoding arbitrary codes
 * (the interpolation strips and the code sliders). Decoding applies the trained model's own decoder layers
 * to the code tensor (inference mode), so it uses the weights as they are now, even between training
 * steps, without copying them into a second model.
 */
import * as tf from '@tensorflow/tfjs';
import type { DecodedDataset } from '../../data/decode';
import type { ExperimentSpec } from '../../model/spec';
import type { BuiltModel } from './buildModel';
import { pixelsOf } from './training';

type Guard = <T>(p: Promise<T>) => Promise<T>;

/** Most test images the latent map shows. */
export const LATENT_MAX = 3000;
const BATCH = 250;

export interface LatentSnapshot {
  count: number;
  codeShape: number[];
  /** count × code values. */
  codes: Float32Array;
  /** Test-split indices of the images, in order. */
  indices: Uint32Array;
  labels: Uint8Array;
  /** count × H × W × C, 0..255. */
  originals: Uint8Array;
  reconstructions: Uint8Array;
}

const toBytes = (values: Float32Array): Uint8Array => Uint8Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));

/** The codes (the encoder's output; a VAE's mean), reconstructions and labels of the first `max` test images. */
export async function latentSnapshot(built: BuiltModel, data: DecodedDataset, testIdx: Uint32Array, max: number, guard: Guard): Promise<LatentSnapshot> {
  const count = Math.max(0, Math.min(max, LATENT_MAX, testIdx.length));
  const indices = testIdx.slice(0, count);
  const codeShape = built.encoder.outputs[0].shape.slice(1) as number[];
  const d = codeShape.reduce((a, b) => a * b, 1);
  const per = data.height * data.width * data.channels;
  const codes = new Float32Array(count * d);
  const reconstructions = new Uint8Array(count * per);
  const originals = new Uint8Array(count * per);
  for (let i = 0; i < count; i++) originals.set(data.pixels.subarray(indices[i] * per, (indices[i] + 1) * per), i * per);
  for (let from = 0; from < count; from += BATCH) {
    const to = Math.min(count, from + BATCH);
    const [code, recon] = tf.tidy(() => {
      const x = tf.tensor4d(pixelsOf(data, indices, from, to), [to - from, data.height, data.width, data.channels]);
      const c = built.encoder.predict(x) as tf.Tensor;
      const r = built.model.predict(x) as tf.Tensor;
      return [c, r];
    });
    try {
      const [cv, rv] = await guard(Promise.all([code.data() as Promise<Float32Array>, recon.data() as Promise<Float32Array>]));
      codes.set(cv, from * d);
      reconstructions.set(toBytes(rv), from * per);
    } finally {
      code.dispose();
      recon.dispose();
    }
  }
  return { count, codeShape, codes, indices, labels: Uint8Array.from(indices, (i) => data.labels[i]), originals, reconstructions };
}

/**
 * Decodes `count` codes (count × code values) with the model's decoder layers, as they are now:
 * the images, clipped to [0, 1]. The caller disposes nothing: the result is read back and freed here.
 */
export async function decodeCodes(built: BuiltModel, spec: Pick<ExperimentSpec, 'decoder'>, codes: Float32Array, count: number, guard: Guard): Promise<Float32Array> {
  const codeShape = built.encoder.outputs[0].shape.slice(1) as number[];
  const d = codeShape.reduce((a, b) => a * b, 1);
  if (codes.length !== count * d) throw new Error(`expected ${count} codes of ${d} values, got ${codes.length} values`);
  const out = tf.tidy(() => {
    let y: tf.Tensor = tf.tensor(codes, [count, ...codeShape]);
    spec.decoder.forEach((layer, i) => {
      y = built.model.getLayer(`dec${i}_${layer.kind}`).apply(y, { training: false }) as tf.Tensor;
    });
    return tf.clipByValue(y, 0, 1);
  });
  try {
    return (await guard(out.data())) as Float32Array;
  } finally {
    out.dispose();
  }
}
