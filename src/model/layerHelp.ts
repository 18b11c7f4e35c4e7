/**
 * Layer help (issue #15): for one layer of the editor, what it computes, its output-shape rule (as a
 * formula and with this layer's own numbers) and its parameter count (formula and numbers). Pure: no
 * React, no tfjs. The arithmetic here is written out on its own, from the rules as a textbook states them;
 * a unit test checks it against shape inference and the parameter counts the editor shows.
 */
import { layerDef } from './catalogue';
import { formatShape, shapeSize, type Activation, type LayerSpec, type Shape } from './spec';

export interface LayerHelpText {
  title: string;
  /** What the layer computes, one or two sentences. */
  what: string;
  /** The output-shape rule as a formula. */
  shapeRule: string;
  /** The rule with this layer's numbers, one line per axis; empty when the input shape is unknown. */
  shapeWorked: string[];
  /** The output shape these numbers give (null when the input is unknown or does not fit). */
  outputShape: Shape | null;
  /** The parameter-count formula. */
  paramRule: string;
  /** The formula with this layer's numbers, e.g. "3 × 3 × 1 × 16 + 16 = 160"; null when the input is unknown. */
  paramWorked: string | null;
  params: number | null;
}

const n = (v: number): string => v.toLocaleString('en-US');

const ACTIVATION_TEXT: Record<Activation, string> = {
  linear: 'f(x) = x: passes values through unchanged',
  relu: 'f(x) = max(0, x): negatives become 0',
  leakyRelu: 'f(x) = x for x > 0, α·x otherwise',
  sigmoid: 'f(x) = 1 / (1 + e^−x): squeezes values into (0, 1)',
  tanh: 'f(x) = tanh(x): squeezes values into (−1, 1)',
  elu: 'f(x) = x for x > 0, eˣ − 1 otherwise',
  selu: 'f(x) = λ·x for x > 0, λ·α·(eˣ − 1) otherwise (λ ≈ 1.05, α ≈ 1.67)',
  softplus: 'f(x) = ln(1 + eˣ): a smooth ReLU',
};

function unknownInput(text: Omit<LayerHelpText, 'shapeWorked' | 'outputShape' | 'paramWorked' | 'params'>): LayerHelpText {
  return { ...text, shapeWorked: [], outputShape: null, paramWorked: null, params: null };
}

/** Height and width lines for a rule applied to each spatial axis. */
function spatial(input: Shape, each: (size: number) => { text: string; out: number }, channels: { text: string; out: number }): { lines: string[]; shape: Shape | null } {
  const h = each(input[0]);
  const w = each(input[1]);
  const lines = [`height: ${h.text}`, `width: ${w.text}`, `channels: ${channels.text}`];
  const shape = [h.out, w.out, channels.out];
  return { lines, shape: shape.every((d) => Number.isInteger(d) && d >= 1) ? shape : null };
}

export function layerHelp(layer: LayerSpec, input: Shape | null): LayerHelpText {
  const title = layerDef(layer.kind).label;
  const image = input !== null && input.length === 3 ? input : null;
  switch (layer.kind) {
    case 'conv2d': {
      const { kernelSize: k, strides: s, filters: f, padding } = layer;
      const base = {
        title,
        what: `Slides each of its ${f} learned ${k}×${k} kernels over the input, ${s === 1 ? 'one cell at a time' : `${s} cells at a time`}; each output value is the weighted sum of the ${k}×${k}×(input channels) values under the kernel, plus a bias. One output channel per kernel.`,
        shapeRule:
          padding === 'same'
            ? 'same padding: out = ceil(in / stride); channels = filters'
            : 'valid padding: out = floor((in − kernel) / stride) + 1; channels = filters',
        paramRule: 'kernel × kernel × input channels × filters + filters (one bias per filter)',
      };
      if (!image) return unknownInput(base);
      const r = spatial(
        image,
        (size) => {
          if (padding === 'same') return { text: `ceil(${size} / ${s}) = ${Math.ceil(size / s)}`, out: Math.ceil(size / s) };
          const out = Math.floor((size - k) / s) + 1;
          return { text: `floor((${size} − ${k}) / ${s}) + 1 = ${out}`, out };
        },
        { text: `${f} filters = ${f}`, out: f },
      );
      const params = k * k * image[2] * f + f;
      return { ...base, shapeWorked: r.lines, outputShape: r.shape, paramWorked: `${k} × ${k} × ${image[2]} × ${f} + ${f} = ${n(params)}`, params };
    }
    case 'conv2dTranspose': {
      const { kernelSize: k, strides: s, filters: f, padding } = layer;
      const base = {
        title,
        what: `Each input value stamps a ${k}×${k} kernel, scaled by that value, onto the output, ${s} cell${s === 1 ? '' : 's'} apart; where stamps overlap they add up. It is the transpose of a stride-${s} convolution: one input cell feeds many output cells. One output channel per kernel (${f}).`,
        shapeRule:
          padding === 'same'
            ? 'same padding: out = in × stride; channels = filters'
            : 'valid padding: out = (in − 1) × stride + kernel (in × stride when kernel < stride); channels = filters',
        paramRule: 'kernel × kernel × input channels × filters + filters (one bias per filter)',
      };
      if (!image) return unknownInput(base);
      const r = spatial(
        image,
        (size) => {
          if (padding === 'same' || k < s) return { text: `${size} × ${s} = ${size * s}`, out: size * s };
          const out = (size - 1) * s + k;
          return { text: `(${size} − 1) × ${s} + ${k} = ${out}`, out };
        },
        { text: `${f} filters = ${f}`, out: f },
      );
      const params = k * k * image[2] * f + f;
      return { ...base, shapeWorked: r.lines, outputShape: r.shape, paramWorked: `${k} × ${k} × ${image[2]} × ${f} + ${f} = ${n(params)}`, params };
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const { poolSize: p, strides: s } = layer;
      const base = {
        title,
        what:
          layer.kind === 'maxPool2d'
            ? `Keeps the largest value of each ${p}×${p} window, stepping ${s} cells at a time, channel by channel. Nothing is learned.`
            : `Averages each ${p}×${p} window, stepping ${s} cells at a time, channel by channel. Nothing is learned.`,
        shapeRule: 'out = floor((in − pool) / stride) + 1; channels unchanged',
        paramRule: 'no weights: 0',
      };
      if (!image) return unknownInput(base);
      const r = spatial(
        image,
        (size) => {
          const out = Math.floor((size - p) / s) + 1;
          return { text: `floor((${size} − ${p}) / ${s}) + 1 = ${out}`, out };
        },
        { text: `unchanged = ${image[2]}`, out: image[2] },
      );
      return { ...base, shapeWorked: r.lines, outputShape: r.shape, paramWorked: '0', params: 0 };
    }
    case 'upSampling2d': {
      const f = layer.size;
      const base = {
        title,
        what: `Repeats every value ${f}×${f} times (nearest neighbour), making the image ${f} times taller and wider. Nothing is learned.`,
        shapeRule: 'out = in × factor; channels unchanged',
        paramRule: 'no weights: 0',
      };
      if (!image) return unknownInput(base);
      const r = spatial(image, (size) => ({ text: `${size} × ${f} = ${size * f}`, out: size * f }), { text: `unchanged = ${image[2]}`, out: image[2] });
      return { ...base, shapeWorked: r.lines, outputShape: r.shape, paramWorked: '0', params: 0 };
    }
    case 'batchNorm': {
      const base = {
        title,
        what: 'Normalises each channel: subtracts a mean and divides by a standard deviation, then scales by a learned γ and shifts by a learned β. Training uses the batch’s own statistics; inference (the test loss) uses moving averages of them (momentum 0.99), which lag behind early in training.',
        shapeRule: 'out = in (shape unchanged)',
        paramRule: '4 × channels: γ and β learned, moving mean and variance kept',
      };
      if (!input) return unknownInput(base);
      const c = input[input.length - 1];
      return { ...base, shapeWorked: [`out = ${formatShape(input)}`], outputShape: [...input], paramWorked: `4 × ${c} = ${n(4 * c)}`, params: 4 * c };
    }
    case 'activation': {
      const fn = layer.activation === 'leakyRelu' ? `${ACTIVATION_TEXT.leakyRelu} (α = ${layer.alpha})` : ACTIVATION_TEXT[layer.activation];
      const base = {
        title,
        what: `Applies ${layer.activation} to every value on its own: ${fn}. Nothing is learned.`,
        shapeRule: 'out = in (shape unchanged)',
        paramRule: 'no weights: 0',
      };
      if (!input) return unknownInput(base);
      return { ...base, shapeWorked: [`out = ${formatShape(input)}`], outputShape: [...input], paramWorked: '0', params: 0 };
    }
    case 'dense': {
      const u = layer.units;
      const base = {
        title,
        what: `Each of its ${u} units is a weighted sum of every input value plus a bias${layer.activation === 'linear' ? '' : `, passed through ${layer.activation}`}: every input is connected to every unit.`,
        shapeRule: 'out = units (needs a flat input)',
        paramRule: 'inputs × units + units (one bias per unit)',
      };
      if (!input || input.length !== 1) return unknownInput(base);
      const params = input[0] * u + u;
      return { ...base, shapeWorked: [`out = ${u}`], outputShape: [u], paramWorked: `${n(input[0])} × ${n(u)} + ${n(u)} = ${n(params)}`, params };
    }
    case 'flatten': {
      const base = {
        title,
        what: 'Lays the H×W×C block out as one long vector, row by row. No value changes; only where each value sits.',
        shapeRule: 'out = H × W × C',
        paramRule: 'no weights: 0',
      };
      if (!input) return unknownInput(base);
      const size = input.reduce((a, b) => a * b, 1);
      return { ...base, shapeWorked: [`out = ${input.join(' × ')} = ${n(size)}`], outputShape: [size], paramWorked: '0', params: 0 };
    }
    case 'reshape': {
      const t = layer.targetShape;
      const base = {
        title,
        what: `Rearranges the values into a ${formatShape(t)} block, in the same order. The number of values must not change.`,
        shapeRule: 'out = target shape; its sizes must multiply to the number of input values',
        paramRule: 'no weights: 0',
      };
      if (!input) return unknownInput(base);
      const need = t.reduce((a, b) => a * b, 1);
      const got = shapeSize(input);
      return {
        ...base,
        shapeWorked: [`${t.join(' × ')} = ${n(need)} values; the input has ${n(got)}${need === got ? '' : ': they differ'}`],
        outputShape: need === got ? [...t] : null,
        paramWorked: '0',
        params: 0,
      };
    }
    case 'dropout': {
      const base = {
        title,
        what: `While training, sets a random ${Math.round(layer.rate * 100)}% of the values to 0 and scales the rest up by 1 / (1 − ${layer.rate}); at inference it passes everything through.`,
        shapeRule: 'out = in (shape unchanged)',
        paramRule: 'no weights: 0',
      };
      if (!input) return unknownInput(base);
      return { ...base, shapeWorked: [`out = ${formatShape(input)}`], outputShape: [...input], paramWorked: '0', params: 0 };
    }
  }
}
