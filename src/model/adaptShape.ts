/**
 * Fitting an architecture to another image shape (#17): a preset written for 28×28 grey digits, or an
 * experiment moved to a data set of other images (32×32 RGB photos), keeps its layers, and the places that
 * name the image's shape follow it: a reshape to the image's shape, a dense layer with one unit per
 * pixel value, and the decoder's last convolution (its filters are the image's channels). Pure: no React,
 * no tfjs.
 */
import type { ExperimentSpec, LayerSpec, Shape } from './spec';

const size = (s: Shape): number => s.reduce((a, b) => a * b, 1);
const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The spec's layers changed from images of shape `from` to images of shape `to`. Only values that equal
 * the old shape (or its size, or its channels in the decoder's last convolution) change, so a layer the
 * user sized on purpose keeps its value. Returns the spec itself when nothing changes.
 */
export function adaptToShape(spec: ExperimentSpec, from: Shape, to: Shape): ExperimentSpec {
  if (same(from, to)) return spec;
  const fromSize = size(from);
  const toSize = size(to);
  const fromChannels = from[from.length - 1];
  const toChannels = to[to.length - 1];
  let changed = false;
  const fix = (l: LayerSpec): LayerSpec => {
    if (l.kind === 'reshape' && same(l.targetShape, from)) {
      changed = true;
      return { ...l, targetShape: [...to] };
    }
    if (l.kind === 'dense' && l.units === fromSize) {
      changed = true;
      return { ...l, units: toSize };
    }
    return l;
  };
  const encoder = spec.encoder.map(fix);
  const decoder = spec.decoder.map(fix);
  // The decoder's last convolution makes the image's channels.
  for (let i = decoder.length - 1; i >= 0; i--) {
    const l = decoder[i];
    if (l.kind === 'conv2d' || l.kind === 'conv2dTranspose') {
      if (l.filters === fromChannels && fromChannels !== toChannels) {
        decoder[i] = { ...l, filters: toChannels };
        changed = true;
      }
      break;
    }
    if (l.kind === 'dense' || l.kind === 'flatten') break;
  }
  return changed ? { ...spec, encoder, decoder } : spec;
}
