/**
 * The layer catalogue: one entry per layer kind with its editable fields (ranges, defaults),
 * a short explanation, its shape rule and its parameter count. Shape inference, the layer editor,
 * validation and the share codec are all driven by this table.
 */
import {
  ACTIVATIONS,
  INLINE_ACTIVATIONS,
  PADDINGS,
  formatShape,
  shapeSize,
  type LayerKind,
  type LayerSpec,
  type Shape,
} from './spec';

export type FieldDef =
  | { key: string; label: string; type: 'int'; min: number; max: number; step?: number }
  | { key: string; label: string; type: 'float'; min: number; max: number; step: number }
  | { key: string; label: string; type: 'select'; options: readonly string[] }
  | { key: string; label: string; type: 'shape'; minLength: number; maxLength: number; min: number; max: number };

export type ShapeResult = { ok: true; shape: Shape } | { ok: false; error: string };

export interface LayerKindDef<K extends LayerKind = LayerKind> {
  kind: K;
  label: string;
  doc: string;
  fields: readonly FieldDef[];
  defaults: Extract<LayerSpec, { kind: K }>;
  outputShape: (layer: Extract<LayerSpec, { kind: K }>, input: Shape) => ShapeResult;
  params: (layer: Extract<LayerSpec, { kind: K }>, input: Shape) => number;
}

export const LIMITS = {
  filters: 512,
  kernelSize: 15,
  strides: 8,
  units: 8192,
  upsample: 8,
} as const;

const convFields: readonly FieldDef[] = [
  { key: 'filters', label: 'Filters', type: 'int', min: 1, max: LIMITS.filters },
  { key: 'kernelSize', label: 'Kernel size', type: 'int', min: 1, max: LIMITS.kernelSize },
  { key: 'strides', label: 'Stride', type: 'int', min: 1, max: LIMITS.strides },
  { key: 'padding', label: 'Padding', type: 'select', options: PADDINGS },
  { key: 'activation', label: 'Activation', type: 'select', options: INLINE_ACTIVATIONS },
];

const poolFields: readonly FieldDef[] = [
  { key: 'poolSize', label: 'Pool size', type: 'int', min: 1, max: LIMITS.kernelSize },
  { key: 'strides', label: 'Stride', type: 'int', min: 1, max: LIMITS.strides },
];

function needImage(input: Shape, what: string): string | null {
  return input.length === 3 ? null : `${what} needs an H×W×C input, got ${formatShape(input)}; add a reshape first`;
}

/** Output length of a conv or pool along one axis, as tfjs computes it. */
export function convOutLength(size: number, kernel: number, stride: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

/** Output length of a transposed conv along one axis, as tfjs computes it (deconvLength). */
export function deconvOutLength(size: number, kernel: number, stride: number, padding: 'same' | 'valid'): number {
  return padding === 'same' ? size * stride : size * stride + Math.max(kernel - stride, 0);
}

function kernelFits(input: Shape, kernel: number, what: string): string | null {
  const [h, w] = input;
  if (kernel > h || kernel > w) return `${what} ${kernel} larger than ${h}×${w} input`;
  return null;
}

const conv2d: LayerKindDef<'conv2d'> = {
  kind: 'conv2d',
  label: 'Conv2D',
  doc: 'Slides learned k×k filters over the image; stride > 1 shrinks height and width.',
  fields: convFields,
  defaults: { kind: 'conv2d', filters: 8, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' },
  outputShape: (l, input) => {
    const bad = needImage(input, 'conv2d');
    if (bad) return { ok: false, error: bad };
    if (l.padding === 'valid') {
      const e = kernelFits(input, l.kernelSize, 'kernel');
      if (e) return { ok: false, error: e };
    }
    return {
      ok: true,
      shape: [
        convOutLength(input[0], l.kernelSize, l.strides, l.padding),
        convOutLength(input[1], l.kernelSize, l.strides, l.padding),
        l.filters,
      ],
    };
  },
  params: (l, input) => l.kernelSize * l.kernelSize * (input[2] ?? 1) * l.filters + l.filters,
};

const conv2dTranspose: LayerKindDef<'conv2dTranspose'> = {
  kind: 'conv2dTranspose',
  label: 'Conv2D transpose',
  doc: 'The transpose of a convolution: spreads each input value over a k×k window; stride s multiplies height and width by s.',
  fields: convFields,
  defaults: { kind: 'conv2dTranspose', filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' },
  outputShape: (l, input) => {
    const bad = needImage(input, 'conv2dTranspose');
    if (bad) return { ok: false, error: bad };
    return {
      ok: true,
      shape: [
        deconvOutLength(input[0], l.kernelSize, l.strides, l.padding),
        deconvOutLength(input[1], l.kernelSize, l.strides, l.padding),
        l.filters,
      ],
    };
  },
  params: (l, input) => l.kernelSize * l.kernelSize * (input[2] ?? 1) * l.filters + l.filters,
};

function poolShape(l: { poolSize: number; strides: number }, input: Shape, what: string): ShapeResult {
  const bad = needImage(input, what);
  if (bad) return { ok: false, error: bad };
  const e = kernelFits(input, l.poolSize, 'pool');
  if (e) return { ok: false, error: e };
  return {
    ok: true,
    shape: [
      convOutLength(input[0], l.poolSize, l.strides, 'valid'),
      convOutLength(input[1], l.poolSize, l.strides, 'valid'),
      input[2],
    ],
  };
}

const maxPool2d: LayerKindDef<'maxPool2d'> = {
  kind: 'maxPool2d',
  label: 'Max pool',
  doc: 'Keeps the largest value of each window: halves height and width with pool 2, stride 2.',
  fields: poolFields,
  defaults: { kind: 'maxPool2d', poolSize: 2, strides: 2 },
  outputShape: (l, input) => poolShape(l, input, 'maxPool2d'),
  params: () => 0,
};

const avgPool2d: LayerKindDef<'avgPool2d'> = {
  kind: 'avgPool2d',
  label: 'Average pool',
  doc: 'Averages each window: a smooth way to shrink height and width.',
  fields: poolFields,
  defaults: { kind: 'avgPool2d', poolSize: 2, strides: 2 },
  outputShape: (l, input) => poolShape(l, input, 'avgPool2d'),
  params: () => 0,
};

const upSampling2d: LayerKindDef<'upSampling2d'> = {
  kind: 'upSampling2d',
  label: 'Upsampling',
  doc: 'Repeats each pixel factor×factor times (nearest neighbour): the decoder’s way to grow the image.',
  fields: [{ key: 'size', label: 'Factor', type: 'int', min: 1, max: LIMITS.upsample }],
  defaults: { kind: 'upSampling2d', size: 2 },
  outputShape: (l, input) => {
    const bad = needImage(input, 'upSampling2d');
    if (bad) return { ok: false, error: bad };
    return { ok: true, shape: [input[0] * l.size, input[1] * l.size, input[2]] };
  },
  params: () => 0,
};

const batchNorm: LayerKindDef<'batchNorm'> = {
  kind: 'batchNorm',
  label: 'Batch norm',
  doc: 'Normalises each channel over the batch, then scales and shifts it (2 learned + 2 running values per channel).',
  fields: [],
  defaults: { kind: 'batchNorm' },
  outputShape: (_l, input) => ({ ok: true, shape: input }),
  params: (_l, input) => 4 * (input[input.length - 1] ?? 0),
};

const activation: LayerKindDef<'activation'> = {
  kind: 'activation',
  label: 'Activation',
  doc: 'Applies a function to every value; leakyReLU keeps a small slope (alpha) for negatives so units never die.',
  fields: [
    { key: 'activation', label: 'Function', type: 'select', options: ACTIVATIONS },
    { key: 'alpha', label: 'Alpha', type: 'float', min: 0, max: 1, step: 0.01 },
  ],
  defaults: { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
  outputShape: (_l, input) => ({ ok: true, shape: input }),
  params: () => 0,
};

const dense: LayerKindDef<'dense'> = {
  kind: 'dense',
  label: 'Dense',
  doc: 'Connects every input value to every unit: the classic fully connected code layer.',
  fields: [
    { key: 'units', label: 'Units', type: 'int', min: 1, max: LIMITS.units },
    { key: 'activation', label: 'Activation', type: 'select', options: INLINE_ACTIVATIONS },
  ],
  defaults: { kind: 'dense', units: 32, activation: 'relu' },
  outputShape: (l, input) => {
    if (input.length !== 1) {
      return { ok: false, error: `dense needs a flat input, got ${formatShape(input)}; add a flatten first` };
    }
    return { ok: true, shape: [l.units] };
  },
  params: (l, input) => shapeSize(input) * l.units + l.units,
};

const flatten: LayerKindDef<'flatten'> = {
  kind: 'flatten',
  label: 'Flatten',
  doc: 'Lays an H×W×C block out as one vector of H·W·C values.',
  fields: [],
  defaults: { kind: 'flatten' },
  outputShape: (_l, input) => ({ ok: true, shape: [shapeSize(input)] }),
  params: () => 0,
};

const reshape: LayerKindDef<'reshape'> = {
  kind: 'reshape',
  label: 'Reshape',
  doc: 'Rearranges the values into a new shape (H×W×C or N) with the same number of values.',
  fields: [{ key: 'targetShape', label: 'Target shape', type: 'shape', minLength: 1, maxLength: 3, min: 1, max: 4096 }],
  defaults: { kind: 'reshape', targetShape: [7, 7, 4] },
  outputShape: (l, input) => {
    const need = shapeSize(l.targetShape);
    const got = shapeSize(input);
    if (l.targetShape.length !== 1 && l.targetShape.length !== 3) {
      return { ok: false, error: `reshape target ${formatShape(l.targetShape)} must be H×W×C or N` };
    }
    if (need !== got) {
      return { ok: false, error: `reshape ${formatShape(l.targetShape)} needs ${need} values, got ${got}` };
    }
    return { ok: true, shape: [...l.targetShape] };
  },
  params: () => 0,
};

const dropout: LayerKindDef<'dropout'> = {
  kind: 'dropout',
  label: 'Dropout',
  doc: 'During training, zeroes a random fraction (rate) of the values: a regulariser.',
  fields: [{ key: 'rate', label: 'Rate', type: 'float', min: 0, max: 0.95, step: 0.05 }],
  defaults: { kind: 'dropout', rate: 0.2 },
  outputShape: (_l, input) => ({ ok: true, shape: input }),
  params: () => 0,
};

export const LAYER_KINDS = {
  conv2d,
  conv2dTranspose,
  maxPool2d,
  avgPool2d,
  upSampling2d,
  batchNorm,
  activation,
  dense,
  flatten,
  reshape,
  dropout,
} as const satisfies { [K in LayerKind]: LayerKindDef<K> };

export const LAYER_KIND_LIST = Object.keys(LAYER_KINDS) as LayerKind[];

export function layerDef<K extends LayerKind>(kind: K): LayerKindDef<K> {
  return LAYER_KINDS[kind] as unknown as LayerKindDef<K>;
}

export function defaultLayer(kind: LayerKind): LayerSpec {
  const d = LAYER_KINDS[kind].defaults;
  return structuredClone(d) as LayerSpec;
}

export function layerOutputShape(layer: LayerSpec, input: Shape): ShapeResult {
  return (layerDef(layer.kind).outputShape as (l: LayerSpec, s: Shape) => ShapeResult)(layer, input);
}

export function layerParams(layer: LayerSpec, input: Shape): number {
  return (layerDef(layer.kind).params as (l: LayerSpec, s: Shape) => number)(layer, input);
}

/** A one-line summary of a layer's settings, for tables and screen readers. */
export function describeLayer(layer: LayerSpec): string {
  switch (layer.kind) {
    case 'conv2d':
    case 'conv2dTranspose':
      return `${layer.filters} × ${layer.kernelSize}×${layer.kernelSize}, stride ${layer.strides}, ${layer.padding}, ${layer.activation}`;
    case 'maxPool2d':
    case 'avgPool2d':
      return `${layer.poolSize}×${layer.poolSize}, stride ${layer.strides}`;
    case 'upSampling2d':
      return `×${layer.size}`;
    case 'activation':
      return layer.activation === 'leakyRelu' ? `leakyReLU α=${layer.alpha}` : layer.activation;
    case 'dense':
      return `${layer.units} units, ${layer.activation}`;
    case 'reshape':
      return formatShape(layer.targetShape);
    case 'dropout':
      return `rate ${layer.rate}`;
    case 'batchNorm':
    case 'flatten':
      return '';
  }
}

// Defaults are shared templates: freeze them so a stray mutation cannot change every new layer.
for (const def of Object.values(LAYER_KINDS)) Object.freeze(def.defaults);
