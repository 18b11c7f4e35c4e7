/**
 * "Look inside" (#15): the output of every layer, encoder and decoder, for one display image.
 *
 * A multi-output model over the trained model's layers (tf.model({inputs, outputs: every layer's
 * output})) is built once per trained model and computes all the maps in one forward pass (inference
 * mode: dropout off, batch norm on its moving averages). The maps leave the device as one read-back and
 * reach the page as one transferred Float32Array, layer after layer (each layer's values in its own
 * H×W×C order). The multi-output model shares the trained model's layers and owns no tensor: it is never
 * disposed (disposing a tfjs container disposes its layers' weights, which the trained model still uses).
 *
 * FeatureMapsService holds what the page asked for (an image, or nothing while the panel is closed) and
 * refreshes on a throttled cadence from the training loop's hook, or at once when the loop is not running.
 */
import * as tf from '@tensorflow/tfjs';
import { nextViewsInterval } from '../cadence';
import type { FeatureMapLayer, FromWorkerOf } from '../protocol';
import type { Post } from './helperViews';

/** Layers of a built model are named `enc<i>_<kind>` / `dec<i>_<kind>` (buildModel.ts). */
const LAYER_NAME = /^(enc|dec)(\d+)_([A-Za-z0-9]+)$/; // not enc<i>_<kind>_logvar (a VAE's second head)

/** Feature maps refresh at most this often (ms): ≤ 2 a second, whatever the backend. */
export const FEATURE_MAPS_MIN_MS = 500;

/** The layers of a built autoencoder, in order, with their stack, index and kind (from their names). */
export function mapLayers(model: tf.LayersModel): { layer: tf.layers.Layer; info: Omit<FeatureMapLayer, 'shape'> }[] {
  const out: { layer: tf.layers.Layer; info: Omit<FeatureMapLayer, 'shape'> }[] = [];
  for (const layer of model.layers) {
    const m = LAYER_NAME.exec(layer.name);
    if (!m) continue; // the input layer
    out.push({ layer, info: { stack: m[1] === 'enc' ? 'encoder' : 'decoder', index: Number(m[2]), kind: m[3] } });
  }
  return out;
}

/** The multi-output model of a trained autoencoder and what each output is. */
export interface FeatureMapModel {
  /** The model it reads (one FeatureMapModel per trained model). */
  source: tf.LayersModel;
  /** input → [output of layer 0, output of layer 1, …]. Shares `source`'s layers: never dispose it. */
  probe: tf.LayersModel;
  layers: FeatureMapLayer[];
}

export function buildFeatureMapModel(source: tf.LayersModel): FeatureMapModel {
  const found = mapLayers(source);
  if (found.length === 0) throw new Error('the model has no layers to look inside');
  const outputs = found.map(({ layer }) => layer.output as tf.SymbolicTensor);
  const probe = tf.model({ inputs: source.inputs, outputs, name: `${source.name}_feature_maps` });
  const layers = found.map(({ info }, i) => ({ ...info, shape: outputs[i].shape.slice(1) as number[] }));
  return { source, probe, layers };
}

/**
 * Every layer's output for one image ([1, H, W, C]), layer after layer in one Float32Array (its
 * `layers[i].shape` values each). One read-back; no tensor outlives the call.
 */
export async function computeFeatureMaps(fm: FeatureMapModel, image: tf.Tensor4D, read: (p: Promise<tf.TypedArray>) => Promise<tf.TypedArray> = (p) => p): Promise<Float32Array> {
  if (image.shape[0] !== 1) throw new Error(`feature maps need one image, got ${image.shape[0]}`);
  const flat = tf.tidy(() => {
    const raw = fm.probe.predict(image);
    const outs = Array.isArray(raw) ? raw : [raw];
    return tf.concat(outs.map((o) => tf.reshape(o, [-1])));
  });
  try {
    const values = await read(flat.data());
    return values instanceof Float32Array ? values : Float32Array.from(values);
  } finally {
    flat.dispose();
  }
}

/** Where the maps come from: the trained model now (null when there is none) and one display image. */
export interface FeatureMapsSource {
  runId: number;
  model: () => tf.LayersModel | null;
  /** Display image `i` as [1, H, W, C]; the caller disposes it. */
  image: (i: number) => tf.Tensor4D;
  /** How many display images there are. */
  count: number;
  /** A device read-back, raced against a lost device (ModelSlot.guard). */
  read: (p: Promise<tf.TypedArray>) => Promise<tf.TypedArray>;
}

export class FeatureMapsService {
  /** The display image the page's open panel shows; null: the panel is closed (nothing computed). */
  private image: number | null = null;
  private source: FeatureMapsSource | null = null;
  private fm: FeatureMapModel | null = null;
  /** Steps done at the last hook call (the step the maps belong to when computed outside the loop). */
  private step = 0;
  private last = -Infinity;
  private every: number;
  /** Wanted now, whatever the cadence: the panel opened, the image changed, a new run started. */
  private dirty = false;
  private busy = false;
  /** Wall time of the last refresh (ms): forward pass, read-back and post. */
  lastMs = 0;

  constructor(
    private readonly post: Post,
    /** The shortest wait between refreshes (ms): FEATURE_MAPS_MIN_MS, or the live views' longer one on two cores. */
    private readonly minMs = FEATURE_MAPS_MIN_MS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.every = minMs;
  }

  get wanted(): boolean {
    return this.image !== null && this.source !== null;
  }

  /** The page's request: an image to look inside, or null (panel closed). */
  request(image: number | null): void {
    this.dirty = image !== null && image !== this.image ? true : this.dirty;
    this.image = image;
  }

  /** A new run's model and images (the maps of the previous run no longer apply). */
  attach(source: FeatureMapsSource): void {
    this.source = source;
    this.fm = null;
    this.step = 0;
    this.dirty = true;
  }

  /**
   * The training loop's hook, between steps: refreshes when wanted and due (throttled: at least
   * FEATURE_MAPS_MIN_MS apart and under ~4% of the time), or when `force` (an epoch's end, a pause).
   * With live views off (`live` false) only forced refreshes and the page's new requests are made.
   */
  async tick(step: number, force = false, live = true): Promise<void> {
    this.step = step;
    if (!this.wanted) return;
    const now = this.now();
    if (!force && !this.dirty && (!live || now - this.last < this.every)) return;
    await this.refresh();
  }

  /** Computes and posts the maps now (the page's request while no loop runs); a no-op without a model. */
  async refresh(): Promise<void> {
    const source = this.source;
    const image = this.image;
    if (source === null || image === null) return;
    if (this.busy) {
      this.dirty = true;
      return;
    }
    const model = source.model();
    if (!model) return;
    this.busy = true;
    this.dirty = false;
    const t0 = this.now();
    try {
      if (this.fm?.source !== model) this.fm = buildFeatureMapModel(model);
      const fm = this.fm;
      const index = Math.min(Math.max(0, Math.floor(image)), source.count - 1);
      const x = source.image(index);
      let values: Float32Array;
      try {
        values = await computeFeatureMaps(fm, x, source.read);
      } finally {
        x.dispose();
      }
      const computeMs = this.now() - t0;
      const msg: FromWorkerOf<'featureMaps'> = { type: 'featureMaps', runId: source.runId, step: this.step, image: index, layers: fm.layers, values, computeMs };
      this.post(msg, [values.buffer]);
    } finally {
      this.busy = false;
      this.last = this.now();
      this.lastMs = this.last - t0;
      this.every = nextViewsInterval(this.lastMs, this.minMs);
    }
    if (this.dirty) await this.refresh();
  }
}
