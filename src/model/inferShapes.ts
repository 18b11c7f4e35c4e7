/**
 * Shape inference of an experiment's layers, and the layer field checks. Pure: no React, no tfjs.
 * (The training settings are checked in settings.ts; the whole verdict is checkExperiment.ts.)
 * The worker builds exactly this model; a browser test checks that tfjs agrees with these shapes.
 */
import { layerDef, layerOutputShape, layerParams, type FieldDef } from './catalogue';
import { formatShape, shapeSize, shapesEqual, type ExperimentSpec, type LayerSpec, type Shape } from './spec';

export type Stack = 'encoder' | 'decoder';

export interface LayerInfo {
  stack: Stack;
  index: number;
  layer: LayerSpec;
  inputShape: Shape | null;
  outputShape: Shape | null;
  params: number;
  /** Why this layer cannot work (shape problem or an out-of-range setting). */
  error: string | null;
  /** What the experiment's variant does to this layer (#16), for the layer table; not an error. */
  note?: string;
}

export interface ShapeReport {
  inputShape: Shape;
  layers: LayerInfo[];
  /** The encoder's output, when it can be computed. */
  bottleneck: Shape | null;
  outputShape: Shape | null;
  totalParams: number;
  /** The first error, phrased for the user; null when the architecture works. */
  error: string | null;
  errors: string[];
}

/** Checks one field of a layer against its catalogue range; returns a message or null. */
export function checkField(field: FieldDef, value: unknown): string | null {
  switch (field.type) {
    case 'int':
    case 'float': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return `${field.label} must be a number`;
      if (field.type === 'int' && !Number.isInteger(value)) return `${field.label} must be a whole number`;
      if (value < field.min || value > field.max) return `${field.label} must be between ${field.min} and ${field.max}`;
      return null;
    }
    case 'select':
      return typeof value === 'string' && field.options.includes(value) ? null : `${field.label} must be one of ${field.options.join(', ')}`;
    case 'shape': {
      if (!Array.isArray(value) || value.length < field.minLength || value.length > field.maxLength) {
        return `${field.label} must have ${field.minLength} to ${field.maxLength} numbers`;
      }
      for (const v of value) {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < field.min || v > field.max) {
          return `${field.label} values must be whole numbers between ${field.min} and ${field.max}`;
        }
      }
      return null;
    }
  }
}

export function checkLayerFields(layer: LayerSpec): string | null {
  const def = layerDef(layer.kind);
  const record = layer as unknown as Record<string, unknown>;
  for (const f of def.fields) {
    const e = checkField(f, record[f.key]);
    if (e) return e;
  }
  return null;
}

export function inferShapes(spec: Pick<ExperimentSpec, 'encoder' | 'decoder'>, inputShape: Shape): ShapeReport {
  const layers: LayerInfo[] = [];
  const errors: string[] = [];
  let current: Shape | null = inputShape;
  let bottleneck: Shape | null = null;
  let total = 0;
  const stacks: [Stack, LayerSpec[]][] = [
    ['encoder', spec.encoder],
    ['decoder', spec.decoder],
  ];
  for (const [stack, list] of stacks) {
    list.forEach((layer, index) => {
      const info: LayerInfo = { stack, index, layer, inputShape: current, outputShape: null, params: 0, error: null };
      const fieldError = checkLayerFields(layer);
      if (fieldError) {
        info.error = fieldError;
      } else if (current) {
        const r = layerOutputShape(layer, current);
        if (r.ok) {
          const bad = r.shape.find((d) => !Number.isInteger(d) || d < 1);
          if (bad !== undefined) {
            info.error = `output ${formatShape(r.shape)} has an empty dimension; the input ${formatShape(current)} is too small`;
          } else {
            info.outputShape = r.shape;
            info.params = layerParams(layer, current);
          }
        } else {
          info.error = r.error;
        }
      }
      if (info.error) errors.push(`${stack} layer ${index + 1} (${layerDef(layer.kind).label}): ${info.error}`);
      total += info.params;
      current = info.outputShape;
      layers.push(info);
    });
    if (stack === 'encoder') bottleneck = current;
  }
  if (spec.encoder.length === 0) errors.push('the encoder is empty: add at least one layer');
  if (spec.decoder.length === 0) errors.push('the decoder is empty: add at least one layer');
  const outputShape = current;
  if (outputShape && errors.length === 0 && !shapesEqual(outputShape, inputShape)) {
    const msg = `decoder output ${formatShape(outputShape)} does not match input ${formatShape(inputShape)}`;
    errors.push(msg);
    const last = layers[layers.length - 1];
    if (last) last.error = msg;
  }
  return {
    inputShape,
    layers,
    bottleneck,
    outputShape,
    totalParams: total,
    error: errors[0] ?? null,
    errors,
  };
}

/** Values in the bottleneck and their ratio to the input's values. */
export function bottleneckSummary(report: ShapeReport): { shape: Shape; values: number; ratio: number } | null {
  if (!report.bottleneck) return null;
  const values = shapeSize(report.bottleneck);
  return { shape: report.bottleneck, values, ratio: values / shapeSize(report.inputShape) };
}
