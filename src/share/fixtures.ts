/**
 * Links and files made by today's app (link format v1, JSON envelope v1), stored as literal strings
 * next to the exact experiments they must open. NEVER regenerate or edit these: links that people
 * have already posted look exactly like this, and codec.test.ts checks that they decode to exactly
 * these specs, with no warnings, in every later version of the app. When a new format version
 * comes, ADD its fixtures in a new list; keep these.
 */
import type { ExperimentSpec } from '../model/spec';

export interface LinkFixture {
  name: string;
  /** The `#x=` value, exactly as encodeExperiment wrote it. */
  link: string;
  spec: ExperimentSpec;
}

/** Written by encodeExperiment at link format v1: every preset, every layer kind, every option, both ends of every range. */
export const V1_LINK_FIXTURES: readonly LinkFixture[] = [
  {
    name: 'preset default',
    link: '1.NrAMBoEZw0DpSgEzgMwtVcBORsC64IEkAbGlgUeSvEocCkwxACwXRXA0xz1FNw9BmCjlMnGAx50G7fqLIcYU6kN4L5LLBJXD8QA',
    spec: {
      dataset: 'mnist',
      loss: 'bce',
      optimizer: 'adam',
      learningRate: 0.002,
      batchSize: 32,
      epochs: 3,
      seed: 1,
      trainSize: 9000,
      backend: 'auto',
      encoder: [
        { kind: 'conv2d', filters: 16, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'maxPool2d', poolSize: 2, strides: 2 },
        { kind: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'maxPool2d', poolSize: 2, strides: 2 },
      ],
      decoder: [
        { kind: 'conv2d', filters: 16, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'upSampling2d', size: 2 },
        { kind: 'conv2d', filters: 16, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'upSampling2d', size: 2 },
        { kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' },
      ],
    },
  },
  {
    name: 'preset wiki-5-layer',
    link: '1.NrAMBoEZw0DpSgEzgMwtVcBORsC64IEAbACxpYFECshwJ4K8S9K79pFm01wdRRszisi7Jvnphw5Srxj0BDJjBH0Ko6bJ4wFtekNWaNnLDoitJQA',
    spec: {
      dataset: 'mnist',
      loss: 'bce',
      optimizer: 'adam',
      learningRate: 0.002,
      batchSize: 32,
      epochs: 3,
      seed: 1,
      trainSize: 9000,
      backend: 'auto',
      encoder: [
        { kind: 'conv2d', filters: 64, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
        { kind: 'batchNorm' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'maxPool2d', poolSize: 2, strides: 2 },
        { kind: 'conv2d', filters: 64, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
        { kind: 'batchNorm' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'maxPool2d', poolSize: 2, strides: 2 },
      ],
      decoder: [
        { kind: 'conv2d', filters: 64, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
        { kind: 'batchNorm' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'upSampling2d', size: 2 },
        { kind: 'conv2d', filters: 64, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
        { kind: 'batchNorm' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'upSampling2d', size: 2 },
        { kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' },
      ],
    },
  },
  {
    name: 'preset dense',
    link: '1.NrAMBoEZw0DpSmgZgEzmVcBORsC64IAHIcAOzioCsAbFGZWjPmRVXQ0ZecQCxUy2IqmJUxkVqyA',
    spec: {
      dataset: 'mnist',
      loss: 'bce',
      optimizer: 'adam',
      learningRate: 0.001,
      batchSize: 32,
      epochs: 3,
      seed: 1,
      trainSize: 9000,
      backend: 'auto',
      encoder: [
        { kind: 'flatten' },
        { kind: 'dense', units: 256, activation: 'relu' },
        { kind: 'dense', units: 32, activation: 'linear' },
      ],
      decoder: [
        { kind: 'dense', units: 256, activation: 'relu' },
        { kind: 'dense', units: 784, activation: 'sigmoid' },
        { kind: 'reshape', targetShape: [28, 28, 1] },
      ],
    },
  },
  {
    name: 'preset transpose',
    link: '1.NrAMBoEZw0DpSgEzgMwtVcBORsC64IEkAbGuCgUeVXEoWOACwVUyO0z36PDRk2MDjUrcGRAeUztQnMfAlNomaBAa8gA',
    spec: {
      dataset: 'mnist',
      loss: 'bce',
      optimizer: 'adam',
      learningRate: 0.002,
      batchSize: 32,
      epochs: 3,
      seed: 1,
      trainSize: 9000,
      backend: 'auto',
      encoder: [
        { kind: 'conv2d', filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'conv2d', filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
      ],
      decoder: [
        { kind: 'conv2dTranspose', filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'conv2dTranspose', filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'linear' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' },
      ],
    },
  },
  {
    name: 'preset tiny',
    link: '1.NrAMBoEZw0DpTUgNimgrJATDAuuECAFnAGY1Z9hUd4sqdGqIdzpKCaY56rgT6BCNDYxwvXEA',
    spec: {
      dataset: 'mnist',
      loss: 'bce',
      optimizer: 'adam',
      learningRate: 0.01,
      batchSize: 16,
      epochs: 1,
      seed: 1,
      trainSize: 512,
      backend: 'auto',
      encoder: [
        { kind: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'maxPool2d', poolSize: 2, strides: 2 },
        { kind: 'conv2d', filters: 2, kernelSize: 3, strides: 1, padding: 'same', activation: 'linear' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
      ],
      decoder: [
        { kind: 'upSampling2d', size: 2 },
        { kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' },
      ],
    },
  },
  {
    name: 'every layer kind (a working architecture)',
    link: '1.NrCMBoAZwyDpKIKzgGwBZwvQJnDxRGAXXBGgA5wBmGKEspU4VfKOUZvb56TWiBGrNaPMhWaho8HEzIB2GnibNgi0AE5W6ZhoXhFOyeCqj6qZphzNt7a2WhC60a8WJA',
    spec: {
      dataset: 'fashion-mnist',
      encoder: [
        { kind: 'conv2d', filters: 8, kernelSize: 3, strides: 1, padding: 'same', activation: 'relu' },
        { kind: 'batchNorm' },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.1 },
        { kind: 'maxPool2d', poolSize: 2, strides: 2 },
        { kind: 'conv2d', filters: 4, kernelSize: 3, strides: 1, padding: 'valid', activation: 'tanh' },
        { kind: 'avgPool2d', poolSize: 2, strides: 2 },
        { kind: 'flatten' },
        { kind: 'dropout', rate: 0.25 },
        { kind: 'dense', units: 32, activation: 'selu' },
      ],
      decoder: [
        { kind: 'dense', units: 196, activation: 'elu' },
        { kind: 'reshape', targetShape: [7, 7, 4] },
        { kind: 'conv2dTranspose', filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'softplus' },
        { kind: 'upSampling2d', size: 2 },
        { kind: 'activation', activation: 'tanh', alpha: 0.2 },
        { kind: 'conv2d', filters: 1, kernelSize: 3, strides: 1, padding: 'same', activation: 'sigmoid' },
      ],
      loss: 'mse',
      optimizer: 'sgd',
      learningRate: 0.0005,
      batchSize: 64,
      epochs: 5,
      seed: 42,
      trainSize: 20000,
      backend: 'webgpu',
    },
  },
  {
    name: 'every activation, padding and select option',
    link: '1.NrAMBoEZwJnUB0pmRgZgCwFYBsB2ADgE4pko5VNdCTKNYBdcEHeeJ4V6RUSD1uIhj9waeAjSSp0mWhH1EWEVnF4lzVq0REiIvFA4Qx0bu2YR6cCgfPgVYsRGG3W9E6MPh9KweAyeCcFZjO08SfVMcBg5gCIhQDn0YCD5mfTQnRL8jLKwLLJwIdVivCCjmaB8oaoSKoNFYNlTgaH16EOcW8ECVBQ86ki5q-zrICCS2YpNoQJDy4BJYgn8ORZhA9eiK+IQ+aKA',
    spec: {
      dataset: 'mnist',
      encoder: [
        { kind: 'activation', activation: 'linear', alpha: 0 },
        { kind: 'activation', activation: 'relu', alpha: 0.01 },
        { kind: 'activation', activation: 'leakyRelu', alpha: 0.2 },
        { kind: 'activation', activation: 'sigmoid', alpha: 0.3333333333333333 },
        { kind: 'activation', activation: 'tanh', alpha: 0.5 },
        { kind: 'activation', activation: 'elu', alpha: 0.75 },
        { kind: 'activation', activation: 'selu', alpha: 0.99 },
        { kind: 'activation', activation: 'softplus', alpha: 1 },
        { kind: 'conv2d', filters: 3, kernelSize: 1, strides: 1, padding: 'same', activation: 'linear' },
        { kind: 'conv2d', filters: 4, kernelSize: 2, strides: 2, padding: 'valid', activation: 'relu' },
        { kind: 'conv2d', filters: 5, kernelSize: 3, strides: 3, padding: 'same', activation: 'sigmoid' },
        { kind: 'conv2d', filters: 6, kernelSize: 4, strides: 1, padding: 'valid', activation: 'tanh' },
        { kind: 'conv2d', filters: 7, kernelSize: 5, strides: 2, padding: 'same', activation: 'elu' },
        { kind: 'conv2d', filters: 8, kernelSize: 6, strides: 3, padding: 'valid', activation: 'selu' },
        { kind: 'conv2d', filters: 9, kernelSize: 7, strides: 1, padding: 'same', activation: 'softplus' },
      ],
      decoder: [
        { kind: 'dense', units: 10, activation: 'linear' },
        { kind: 'dense', units: 20, activation: 'relu' },
        { kind: 'dense', units: 30, activation: 'sigmoid' },
        { kind: 'dense', units: 40, activation: 'tanh' },
        { kind: 'dense', units: 50, activation: 'elu' },
        { kind: 'dense', units: 60, activation: 'selu' },
        { kind: 'dense', units: 70, activation: 'softplus' },
        { kind: 'conv2dTranspose', filters: 5, kernelSize: 2, strides: 1, padding: 'valid', activation: 'linear' },
        { kind: 'conv2dTranspose', filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' },
        { kind: 'conv2dTranspose', filters: 7, kernelSize: 4, strides: 3, padding: 'valid', activation: 'sigmoid' },
        { kind: 'conv2dTranspose', filters: 8, kernelSize: 5, strides: 4, padding: 'same', activation: 'tanh' },
        { kind: 'conv2dTranspose', filters: 9, kernelSize: 6, strides: 1, padding: 'valid', activation: 'elu' },
        { kind: 'conv2dTranspose', filters: 10, kernelSize: 7, strides: 2, padding: 'same', activation: 'selu' },
        { kind: 'conv2dTranspose', filters: 11, kernelSize: 8, strides: 3, padding: 'valid', activation: 'softplus' },
        { kind: 'reshape', targetShape: [784] },
        { kind: 'reshape', targetShape: [28, 28] },
        { kind: 'dropout', rate: 0.1 },
      ],
      loss: 'bce',
      optimizer: 'rmsprop',
      learningRate: 0.000123456789,
      batchSize: 100,
      epochs: 12,
      seed: 123456789,
      trainSize: 1234,
      backend: 'webgl',
    },
  },
  {
    name: 'every field at its maximum',
    link: '1.NrCMBoAYvVrgTAFlpN4GiQdiQDgGYA2HcbNdAgXXBGgFZQFZ7w9YobhnRW8uCLNlyIZYXbG1ABOZkS5woAOmn0qXMOEY8+HNbRT9a0g5GmikZi1fXqgA',
    spec: {
      dataset: 'fashion-mnist',
      encoder: [
        { kind: 'conv2d', filters: 512, kernelSize: 15, strides: 8, padding: 'valid', activation: 'linear' },
        { kind: 'maxPool2d', poolSize: 15, strides: 8 },
        { kind: 'avgPool2d', poolSize: 15, strides: 8 },
        { kind: 'activation', activation: 'leakyRelu', alpha: 1 },
        { kind: 'dense', units: 8192, activation: 'softplus' },
        { kind: 'dropout', rate: 0.95 },
      ],
      decoder: [
        { kind: 'conv2dTranspose', filters: 512, kernelSize: 15, strides: 8, padding: 'valid', activation: 'selu' },
        { kind: 'upSampling2d', size: 8 },
        { kind: 'reshape', targetShape: [4096, 4096, 4096] },
      ],
      loss: 'mse',
      optimizer: 'adam',
      learningRate: 10,
      batchSize: 1024,
      epochs: 1000,
      seed: 2147483647,
      trainSize: 70000,
      backend: 'wasm',
    },
  },
  {
    name: 'every field at its minimum',
    link: '1.NrAMBoEYvUDpSMdFsoDZwBYC64QSrSF7ABMMkpAzJaZhKKQOwxP6SM6nBFtSksA-AE4O3bkA',
    spec: {
      dataset: 'mnist',
      encoder: [
        { kind: 'conv2d', filters: 1, kernelSize: 1, strides: 1, padding: 'same', activation: 'relu' },
        { kind: 'maxPool2d', poolSize: 1, strides: 1 },
        { kind: 'avgPool2d', poolSize: 1, strides: 1 },
        { kind: 'activation', activation: 'linear', alpha: 0 },
        { kind: 'dense', units: 1, activation: 'linear' },
        { kind: 'dropout', rate: 0 },
      ],
      decoder: [
        { kind: 'conv2dTranspose', filters: 1, kernelSize: 1, strides: 1, padding: 'same', activation: 'relu' },
        { kind: 'upSampling2d', size: 1 },
        { kind: 'reshape', targetShape: [1] },
      ],
      loss: 'bce',
      optimizer: 'sgd',
      learningRate: 0.000001,
      batchSize: 1,
      epochs: 1,
      seed: 0,
      trainSize: 16,
      backend: 'cpu',
    },
  },
  {
    name: 'an empty decoder (mid-edit)',
    link: '1.NrAMBoEZw0DpTUgNimgrJATDAuuEADl32BKA',
    spec: {
      dataset: 'mnist',
      loss: 'bce',
      optimizer: 'adam',
      learningRate: 0.01,
      batchSize: 16,
      epochs: 1,
      seed: 1,
      trainSize: 512,
      backend: 'auto',
      encoder: [
        { kind: 'flatten' },
      ],
      decoder: [],
    },
  },
];

/** DEFAULT_SPEC as written by specToJson at JSON envelope v1 (an exported file). */
export const V1_JSON_FIXTURE: { text: string; spec: ExperimentSpec } = {
  text: `{
  "app": "autoencoder-playground",
  "version": 1,
  "experiment": {
    "dataset": "mnist",
    "loss": "bce",
    "optimizer": "adam",
    "learningRate": 0.002,
    "batchSize": 32,
    "epochs": 3,
    "seed": 1,
    "trainSize": 9000,
    "backend": "auto",
    "encoder": [
      {
        "kind": "conv2d",
        "filters": 16,
        "kernelSize": 3,
        "strides": 1,
        "padding": "same",
        "activation": "linear"
      },
      {
        "kind": "activation",
        "activation": "leakyRelu",
        "alpha": 0.2
      },
      {
        "kind": "maxPool2d",
        "poolSize": 2,
        "strides": 2
      },
      {
        "kind": "conv2d",
        "filters": 4,
        "kernelSize": 3,
        "strides": 1,
        "padding": "same",
        "activation": "linear"
      },
      {
        "kind": "activation",
        "activation": "leakyRelu",
        "alpha": 0.2
      },
      {
        "kind": "maxPool2d",
        "poolSize": 2,
        "strides": 2
      }
    ],
    "decoder": [
      {
        "kind": "conv2d",
        "filters": 16,
        "kernelSize": 3,
        "strides": 1,
        "padding": "same",
        "activation": "linear"
      },
      {
        "kind": "activation",
        "activation": "leakyRelu",
        "alpha": 0.2
      },
      {
        "kind": "upSampling2d",
        "size": 2
      },
      {
        "kind": "conv2d",
        "filters": 16,
        "kernelSize": 3,
        "strides": 1,
        "padding": "same",
        "activation": "linear"
      },
      {
        "kind": "activation",
        "activation": "leakyRelu",
        "alpha": 0.2
      },
      {
        "kind": "upSampling2d",
        "size": 2
      },
      {
        "kind": "conv2d",
        "filters": 1,
        "kernelSize": 3,
        "strides": 1,
        "padding": "same",
        "activation": "sigmoid"
      }
    ]
  }
}`,
  spec: V1_LINK_FIXTURES[0].spec,
};
