/**
 * The code exports' arithmetic and text, checked without Python against hand-computed values
 * (src/train/worker/exportCode.test.ts runs the PyTorch code for real).
 */
import { describe, expect, it } from 'vitest';
import { PRESETS, DEFAULT_SPEC } from '../model/presets';
import type { ExperimentSpec } from '../model/spec';
import { exportLayers, kernelInit, pyNum, tfSamePadding, tfjsWeightNames, transposeGeometry } from './common';
import { kerasScript } from './keras';
import { pytorchScript } from './pytorch';

describe("TensorFlow's 'same' padding", () => {
  it.each([
    // size, kernel, stride, [before, after]: total = max((ceil(size/stride) - 1)·stride + kernel - size, 0), the odd one after
    [28, 3, 1, [1, 1]],
    [28, 3, 2, [0, 1]], // out 14: 13·2 + 3 - 28 = 1
    [14, 4, 1, [1, 2]], // 13 + 4 - 14 = 3
    [7, 3, 2, [1, 1]], // out 4: 6 + 3 - 7 = 2
    [28, 5, 3, [2, 2]], // out 10: 27 + 5 - 28 = 4
    [14, 2, 2, [0, 0]],
    [5, 1, 2, [0, 0]],
  ] as const)('size %i, kernel %i, stride %i', (size, kernel, stride, want) => {
    expect(tfSamePadding(size, kernel, stride)).toEqual(want);
  });
});

describe('transposed conv geometry', () => {
  it.each([
    // size, kernel, stride, padding -> Keras length, full torch length (size-1)·stride + kernel, crop, output padding
    [7, 3, 2, 'same', { length: 14, cropBefore: 0, outputPadding: 0 }], // full 15: keep 0..13
    [7, 4, 2, 'same', { length: 14, cropBefore: 1, outputPadding: 0 }], // full 16, padding total 2
    [7, 1, 2, 'valid', { length: 14, cropBefore: 0, outputPadding: 1 }], // full 13: one zero-input row more
    [7, 1, 2, 'same', { length: 14, cropBefore: 0, outputPadding: 1 }],
    [6, 3, 1, 'valid', { length: 8, cropBefore: 0, outputPadding: 0 }],
    [14, 2, 2, 'valid', { length: 28, cropBefore: 0, outputPadding: 0 }],
  ] as const)('size %i, kernel %i, stride %i, %s', (size, kernel, stride, padding, want) => {
    expect(transposeGeometry(size, kernel, stride, padding)).toEqual(want);
  });
});

describe('initialisers and weight names', () => {
  const spec: ExperimentSpec = {
    ...DEFAULT_SPEC,
    encoder: [
      { kind: 'conv2d', filters: 16, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' },
      { kind: 'batchNorm' },
      { kind: 'flatten' },
      { kind: 'dense', units: 10, activation: 'sigmoid' },
    ],
    decoder: [
      { kind: 'dense', units: 196, activation: 'linear' },
      { kind: 'reshape', targetShape: [7, 7, 4] },
      { kind: 'conv2dTranspose', filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' },
      { kind: 'conv2dTranspose', filters: 1, kernelSize: 2, strides: 2, padding: 'same', activation: 'sigmoid' },
    ],
  };
  const { layers } = exportLayers(spec);

  it('names the layers as buildModel does', () => {
    expect(layers.map((l) => l.name)).toEqual([
      'enc0_conv2d',
      'enc1_batchNorm',
      'enc2_flatten',
      'enc3_dense',
      'dec0_dense',
      'dec1_reshape',
      'dec2_conv2dTranspose',
      'dec3_conv2dTranspose',
    ]);
    expect(layers.flatMap(tfjsWeightNames)).toEqual([
      'enc0_conv2d/kernel',
      'enc0_conv2d/bias',
      'enc1_batchNorm/gamma',
      'enc1_batchNorm/beta',
      'enc1_batchNorm/moving_mean',
      'enc1_batchNorm/moving_variance',
      'enc3_dense/kernel',
      'enc3_dense/bias',
      'dec0_dense/kernel',
      'dec0_dense/bias',
      'dec2_conv2dTranspose/kernel',
      'dec2_conv2dTranspose/bias',
      'dec3_conv2dTranspose/kernel',
      'dec3_conv2dTranspose/bias',
    ]);
  });

  it('uses He normal with fanIn = kh·kw·in for rectifiers and linear, Glorot uniform otherwise', () => {
    expect(kernelInit(layers[0])).toEqual({ kind: 'he_normal', stddev: Math.sqrt(2 / 9), fanIn: 9 });
    // dense 28·28·16 = 12544 -> 10, sigmoid
    expect(kernelInit(layers[3])).toEqual({ kind: 'glorot_uniform', limit: Math.sqrt(6 / (12544 + 10)), fanIn: 12544, fanOut: 10 });
    expect(kernelInit(layers[4])).toEqual({ kind: 'he_normal', stddev: Math.sqrt(2 / 10), fanIn: 10 });
    // tfjs' transposed kernel is [kh, kw, filters, in]: fanIn counts the filters (3·3·8), fanOut the inputs (3·3·4)
    expect(kernelInit(layers[6])).toEqual({ kind: 'glorot_uniform', limit: Math.sqrt(6 / (72 + 36)), fanIn: 72, fanOut: 36 });
    expect(kernelInit(layers[1])).toBeNull();
  });
});

describe('the scripts', () => {
  const link = 'https://example.org/ae/#e=abc';

  it.each(PRESETS.map((p) => [p.id, p.spec] as const))('%s: carries the spec and the link, one module per layer', (_id, spec) => {
    for (const code of [pytorchScript(spec, { link }), kerasScript(spec, { link })]) {
      expect(code).toContain(`# Experiment: ${link}`);
      expect(code).toContain(`LINK = "${link}"`);
      const m = /^SPEC = json\.loads\((".*")\)$/m.exec(code);
      expect(m).not.toBeNull();
      expect(JSON.parse(JSON.parse(m?.[1] ?? '""') as string)).toEqual(spec);
      // The header's copy of the spec is valid JSON too.
      const lines = code.split('\n');
      const from = lines.indexOf('# The spec:') + 1;
      const header = lines.slice(from, lines.findIndex((l, i) => i >= from && !l.startsWith('#')));
      expect(from).toBeGreaterThan(0);
      expect(JSON.parse(header.map((l) => l.slice(4)).join('\n'))).toEqual(spec);
    }
    const py = pytorchScript(spec, { link });
    // A VAE's last encoder layer is two modules outside the Sequential: its mean and log-variance heads.
    const heads = spec.variant === 'vae' ? [spec.encoder[spec.encoder.length - 1]] : [];
    if (spec.variant === 'vae') {
      expect(py).toMatch(/^ {8}self\.mean_head = Dense\(/m);
      expect(py).toMatch(/^ {8}self\.logvar_head = Dense\(/m);
    }
    const count = (kind: string): number => [...spec.encoder, ...spec.decoder].filter((l) => l.kind === kind && !heads.includes(l)).length;
    expect(py.match(/^ {12}\("\w+", Conv2d\(/gm)?.length ?? 0).toBe(count('conv2d'));
    expect(py.match(/^ {12}\("\w+", ConvTranspose2d\(/gm)?.length ?? 0).toBe(count('conv2dTranspose'));
    expect(py.match(/^ {12}\("\w+", BatchNorm\(/gm)?.length ?? 0).toBe(count('batchNorm'));
    expect(py.match(/^ {12}\("\w+", Dense\(/gm)?.length ?? 0).toBe(count('dense'));
  });

  it('writes the settings as Python values', () => {
    const spec: ExperimentSpec = { ...DEFAULT_SPEC, optimizer: 'sgd', learningRate: 0.05, batchSize: 64, epochs: 7, seed: 42, trainSize: 1234, loss: 'mse' };
    const py = pytorchScript(spec, { link });
    for (const line of ['LEARNING_RATE = 0.05', 'BATCH_SIZE = 64', 'EPOCHS = 7', 'SEED = 42', 'TRAIN_SIZE = 1234', 'LOSS = "mse"', 'OPTIMIZER = "sgd"', 'SGD_MOMENTUM = 0.9', 'BN_MOMENTUM = 0.99', 'BN_EPSILON = 0.001']) {
      expect(py).toContain(`\n${line}\n`);
    }
    expect(kerasScript(spec, { link })).toContain('keras.optimizers.SGD(learning_rate=lr, momentum=0.9)');
  });

  it('keeps a link with a line break inside its comment', () => {
    const code = pytorchScript(DEFAULT_SPEC, { link: 'https://x/#a\nprint("injected")' });
    expect(code).not.toMatch(/^print\("injected"\)$/m);
  });

  it('prints numbers as Python floats', () => {
    expect(pyNum(1)).toBe('1.0');
    expect(pyNum(0.002)).toBe('0.002');
    expect(pyNum(1e-7)).toBe('1e-7');
    expect(() => pyNum(Number.NaN)).toThrow();
  });
});
