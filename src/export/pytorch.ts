/**
 * The experiment as a self-contained PyTorch script (issue #18): the same layers with Keras/tfjs
 * semantics, the same loss, optimizer and settings, an MNIST/Fashion-MNIST loader, torchrun/DDP,
 * and a loader for the playground's tfjs weights. Pure: no React, no tfjs.
 */
import type { ExperimentSpec } from '../model/spec';
import { datasetInfo } from '../data/catalogue';
import {
  ADAM_BETA1,
  ADAM_BETA2,
  BCE_CLIP,
  BN_EPSILON,
  BN_MOMENTUM,
  DATA_MIRRORS,
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
  tfSamePadding,
  transposeGeometry,
  type ExportLayer,
  type ExportOptions,
  PY_READ_TFJS_WEIGHTS,
} from './common';

const shapeText = (s: number[]): string => s.join('x');

function initArg(l: ExportLayer): string {
  const init = kernelInit(l);
  if (!init) throw new Error(`${l.name} has no kernel`);
  return init.kind === 'he_normal' ? `('he_normal', ${pyNum(init.stddev)})` : `('glorot_uniform', ${pyNum(init.limit)})`;
}

/** The PyTorch module (a Python expression) for one layer. */
export function torchModule(l: ExportLayer): string {
  const { layer, inputShape } = l;
  switch (layer.kind) {
    case 'conv2d': {
      const [top, bottom] = layer.padding === 'same' ? tfSamePadding(inputShape[0], layer.kernelSize, layer.strides) : [0, 0];
      const [left, right] = layer.padding === 'same' ? tfSamePadding(inputShape[1], layer.kernelSize, layer.strides) : [0, 0];
      return `Conv2d(${inputShape[2]}, ${layer.filters}, ${layer.kernelSize}, ${layer.strides}, pad=(${left}, ${right}, ${top}, ${bottom}), act=${pyStr(layer.activation)}, init=${initArg(l)})`;
    }
    case 'conv2dTranspose': {
      const gh = transposeGeometry(inputShape[0], layer.kernelSize, layer.strides, layer.padding);
      const gw = transposeGeometry(inputShape[1], layer.kernelSize, layer.strides, layer.padding);
      return (
        `ConvTranspose2d(${inputShape[2]}, ${layer.filters}, ${layer.kernelSize}, ${layer.strides}, ` +
        `output_padding=(${gh.outputPadding}, ${gw.outputPadding}), crop=(${gh.cropBefore}, ${gh.length}, ${gw.cropBefore}, ${gw.length}), ` +
        `act=${pyStr(layer.activation)}, init=${initArg(l)})`
      );
    }
    case 'maxPool2d':
      return `nn.MaxPool2d(${layer.poolSize}, ${layer.strides})`;
    case 'avgPool2d':
      return `nn.AvgPool2d(${layer.poolSize}, ${layer.strides})`;
    case 'upSampling2d':
      return `nn.Upsample(scale_factor=${layer.size}, mode='nearest')`;
    case 'batchNorm':
      return `BatchNorm(${inputShape[inputShape.length - 1]})`;
    case 'activation':
      return layer.activation === 'leakyRelu' ? `activation('leakyRelu', ${pyNum(layer.alpha)})` : `activation(${pyStr(layer.activation)})`;
    case 'dense':
      return `Dense(${inputShape[0]}, ${layer.units}, act=${pyStr(layer.activation)}, init=${initArg(l)})`;
    case 'flatten':
      return 'FlattenNHWC()';
    case 'reshape':
      return `ReshapeNHWC((${layer.targetShape.join(', ')}${layer.targetShape.length === 1 ? ',' : ''}))`;
    case 'dropout':
      return `nn.Dropout(${pyNum(layer.rate)})`;
  }
}

function sequential(attr: string, layers: ExportLayer[]): string[] {
  if (layers.length === 0) return [`        self.${attr} = nn.Sequential()`];
  return [
    `        self.${attr} = nn.Sequential(OrderedDict([`,
    ...layers.flatMap((l) => [`            # ${l.name}: ${shapeText(l.inputShape)} -> ${shapeText(l.outputShape)}`, `            (${pyStr(l.name)}, ${torchModule(l)}),`]),
    '        ]))',
  ];
}

export function pytorchScript(spec: ExperimentSpec, opts: ExportOptions): string {
  const { inputShape, layers } = exportLayers(spec);
  const info = datasetInfo(spec.dataset);
  const encAll = layers.filter((l) => l.stack === 'encoder');
  const dec = layers.filter((l) => l.stack === 'decoder');
  // #16 a VAE: the last encoder layer becomes the mean and log-variance heads (linear), as the playground builds it.
  const last = encAll[encAll.length - 1];
  const vaeHeads = spec.variant === 'vae' && last && (last.layer.kind === 'dense' || last.layer.kind === 'conv2d');
  const enc = vaeHeads ? encAll.slice(0, -1) : encAll;
  const head = (suffix: string): ExportLayer => ({ ...last, name: `${last.name}${suffix}`, layer: { ...last.layer, activation: 'linear' } as ExportLayer['layer'] });
  const lines = [
    '#!/usr/bin/env python3',
    '# Autoencoder Playground: this experiment as a PyTorch script (exported from the browser).',
    `# Experiment: ${oneLine(opts.link)}`,
    '#',
    ...settingsLines(spec).map((s) => `# ${s}`),
    `# Layers (Keras/tfjs names and shapes, H x W x C): input ${shapeText(inputShape)}`,
    ...layers.map((l) => `#   ${l.name.padEnd(20)} -> ${shapeText(l.outputShape)}`),
    '#',
    '# Run:',
    '#   python3 autoencoder_pytorch.py                         # one GPU (or the CPU), downloads the data',
    '#   torchrun --nproc_per_node=4 autoencoder_pytorch.py     # 4 GPUs: DistributedDataParallel + DistributedSampler',
    '#   torchrun --nnodes=2 --nproc_per_node=8 --rdzv_backend=c10d --rdzv_endpoint=HOST:29500 autoencoder_pytorch.py',
    '#   python3 autoencoder_pytorch.py --weights model.json    # start from the weights trained in the browser',
    '#                                                          # ("Export model": tfjs layers format, model.json + .bin)',
    '#   python3 autoencoder_pytorch.py --weights model.json --epochs 0   # evaluate only',
    '# Under torchrun the batch of the spec is the global batch (split over the processes), only rank 0 prints',
    '# and saves (autoencoder.pt). Options: --epochs, --batch-size, --lr, --data-dir, --save, --device.',
    '# Checks (no download): --check-io in.npy out.json (eval forward of an N x H x W x C float array: every',
    "# layer's output shape and the output, as JSON); --check-step in.npy out.json (two training steps on that",
    '# batch, dropout off: the losses and the output after); --smoke data.npy --steps N (train N steps on an array).',
    '#',
    '# Semantics are Keras/tfjs, as the playground trains: NHWC flatten order (the module itself works in',
    "# NCHW), TensorFlow's 'same' padding (the odd pixel after, explicit F.pad), Keras' transposed-conv output",
    `# sizes, batch norm with momentum ${BN_MOMENTUM} (torch momentum ${(1 - BN_MOMENTUM).toFixed(2)}) and epsilon ${BN_EPSILON} whose moving`,
    '# variance takes the biased batch variance, He-normal (truncated at 2 stddev) or Glorot-uniform kernels',
    '# with tfjs fans and zero biases. The initial weights follow the same distributions, not the same numbers',
    "# (torch's generator, seeded with the spec's seed). The playground trains on a fixed 9,000-image split of",
    info?.kind === 'asset'
      ? `# ${info.source}; this script takes ${spec.trainSize} images of the standard training set.`
      : `# ${info?.label ?? spec.dataset}: not downloadable; save it from the app (Download images (.npz)) and pass --data FILE.npz.`,
    '#',
    '# The spec:',
    ...specJsonLines(spec, '#   '),
    'import argparse',
    'import gzip',
    'import json',
    'import os',
    'import re',
    'import struct',
    'import time',
    'import urllib.request',
    'from collections import OrderedDict',
    '',
    'import numpy as np',
    'import torch',
    'import torch.distributed as dist',
    'import torch.nn as nn',
    'import torch.nn.functional as F',
    'from torch.utils.data import DataLoader, TensorDataset',
    'from torch.utils.data.distributed import DistributedSampler',
    '',
    `LINK = ${pyStr(oneLine(opts.link))}`,
    `SPEC = json.loads(${pyStr(JSON.stringify(spec))})`,
    `DATASET = ${pyStr(spec.dataset)}`,
    `INPUT_SHAPE = (${inputShape.join(', ')})  # H, W, C`,
    `LOSS = ${pyStr(spec.loss)}`,
    `VARIANT = ${pyStr(spec.variant)}  # the autoencoder family (#16): plain, denoising, sparse, vae, rankOrdered`,
    `CORRUPTION = ${pyStr(spec.corruption)}  # denoising: gaussian (sigma), saltPepper (rate), mask (rate)`,
    `NOISE = ${pyNum(spec.noise)}`,
    `SPARSITY = ${pyNum(spec.sparsity)}  # sparse: L1 weight on the mean |code|`,
    `CODE_DROPOUT = ${pyNum(spec.codeDropout)}`,
    `CODE_NOISE = ${pyNum(spec.codeNoise)}`,
    `BETA = ${pyNum(spec.beta)}  # vae: weight of the KL term (per input value)`,
    `OPTIMIZER = ${pyStr(spec.optimizer)}`,
    `LEARNING_RATE = ${pyNum(spec.learningRate)}`,
    `BATCH_SIZE = ${spec.batchSize}`,
    `EPOCHS = ${spec.epochs}`,
    `SEED = ${spec.seed}`,
    `TRAIN_SIZE = ${spec.trainSize}`,
    `BN_MOMENTUM = ${pyNum(BN_MOMENTUM)}`,
    `BN_EPSILON = ${pyNum(BN_EPSILON)}`,
    `TFJS_EPSILON = ${pyNum(TFJS_EPSILON)}`,
    `ADAM_BETAS = (${pyNum(ADAM_BETA1)}, ${pyNum(ADAM_BETA2)})`,
    `SGD_MOMENTUM = ${pyNum(SGD_MOMENTUM)}`,
    `RMSPROP_RHO = ${pyNum(RMSPROP_DECAY)}`,
    `BCE_CLIP = ${pyNum(BCE_CLIP)}`,
    `MIRRORS = ${JSON.stringify(DATA_MIRRORS[spec.dataset] ?? [])}`,
    '',
    RUNTIME_LAYERS,
    '',
    'class Autoencoder(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
    ...sequential('encoder', enc),
    ...(vaeHeads
      ? [
          `        # ${last.name}: the mean head; ${last.name}_logvar: the log-variance head (both linear)`,
          `        self.mean_head = ${torchModule(head(''))}`,
          `        self.logvar_head = ${torchModule(head('_logvar'))}`,
        ]
      : []),
    ...sequential('decoder', dec),
    '',
    '    def named_layers(self):',
    '        """The layers under their playground (tfjs) names, encoder first."""',
    '        yield from self.encoder.named_children()',
    ...(vaeHeads ? [`        yield ${pyStr(last.name)}, self.mean_head`, `        yield ${pyStr(`${last.name}_logvar`)}, self.logvar_head`] : []),
    '        yield from self.decoder.named_children()',
    '',
    '    def encode(self, x):',
    '        """The code (a VAE: the mean) and, for a VAE, the log-variance."""',
    '        h = self.encoder(x)',
    ...(vaeHeads ? ['        return self.mean_head(h), self.logvar_head(h)'] : []),
    "        if VARIANT == 'rankOrdered':",
    '            return TReLU.apply(h), None',
    '        return h, None',
    '',
    '    def forward(self, x, objective=False):',
    '        """x: N x C x H x W (NCHW) in [0, 1]. Returns the reconstruction (inference: a VAE decodes its mean),',
    '        or with objective=True the training loss of x for the variant (through forward, so DDP syncs gradients)."""',
    '        if objective:',
    '            return variant_objective(self, x)',
    '        return self.decoder(self.encode(x)[0])',
    '',
    RUNTIME_MAIN,
  ];
  return lines.join('\n');
}

/** Layer classes, the tfjs weights loader: the same for every spec. */
const RUNTIME_LAYERS = String.raw`
def activation(name, alpha=0.2):
    if name == 'linear':
        return nn.Identity()
    if name == 'relu':
        return nn.ReLU()
    if name == 'leakyRelu':
        return nn.LeakyReLU(alpha)
    if name == 'sigmoid':
        return nn.Sigmoid()
    if name == 'tanh':
        return nn.Tanh()
    if name == 'elu':
        return nn.ELU(1.0)
    if name == 'selu':
        return nn.SELU()
    if name == 'softplus':
        return nn.Softplus()
    raise ValueError('unknown activation ' + name)


def init_kernel(weight, bias, init):
    """tfjs' initialisers: He normal (truncated at 2 stddev) or Glorot uniform; zero bias."""
    kind, value = init
    with torch.no_grad():
        if kind == 'he_normal':
            nn.init.trunc_normal_(weight, 0.0, value, -2.0 * value, 2.0 * value)
        else:
            nn.init.uniform_(weight, -value, value)
        nn.init.zeros_(bias)


def copy_weight(target, array, what):
    t = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    if tuple(t.shape) != tuple(target.shape):
        raise ValueError('%s: shape %s does not fit %s' % (what, tuple(t.shape), tuple(target.shape)))
    with torch.no_grad():
        target.copy_(t)


class Conv2d(nn.Module):
    """Keras Conv2D: 'valid', or 'same' with TensorFlow's padding (the odd pixel after) as an explicit F.pad."""

    def __init__(self, cin, filters, kernel, stride, pad, act, init):
        super().__init__()
        self.pad = pad  # (left, right, top, bottom)
        self.conv = nn.Conv2d(cin, filters, kernel, stride=stride, padding=0)
        self.act = activation(act)
        init_kernel(self.conv.weight, self.conv.bias, init)

    def forward(self, x):
        if any(self.pad):
            x = F.pad(x, self.pad)
        return self.act(self.conv(x))

    def load_tfjs(self, w):
        # tfjs kernel [kh, kw, in, out] -> torch [out, in, kh, kw]
        copy_weight(self.conv.weight, w['kernel'].transpose(3, 2, 0, 1), 'kernel')
        copy_weight(self.conv.bias, w['bias'], 'bias')


class ConvTranspose2d(nn.Module):
    """Keras Conv2DTranspose: the full transposed conv (plus zero rows where Keras' output is longer), cropped as TF does."""

    def __init__(self, cin, filters, kernel, stride, output_padding, crop, act, init):
        super().__init__()
        self.crop = crop  # (top, height, left, width)
        self.conv = nn.ConvTranspose2d(cin, filters, kernel, stride=stride, padding=0, output_padding=output_padding)
        self.act = activation(act)
        init_kernel(self.conv.weight, self.conv.bias, init)

    def forward(self, x):
        top, height, left, width = self.crop
        return self.act(self.conv(x)[:, :, top:top + height, left:left + width])

    def load_tfjs(self, w):
        # tfjs kernel [kh, kw, out, in] -> torch [in, out, kh, kw]
        copy_weight(self.conv.weight, w['kernel'].transpose(3, 2, 0, 1), 'kernel')
        copy_weight(self.conv.bias, w['bias'], 'bias')


class Dense(nn.Module):
    def __init__(self, cin, units, act, init):
        super().__init__()
        self.linear = nn.Linear(cin, units)
        self.act = activation(act)
        init_kernel(self.linear.weight, self.linear.bias, init)

    def forward(self, x):
        return self.act(self.linear(x))

    def load_tfjs(self, w):
        # tfjs kernel [in, out] -> torch [out, in]
        copy_weight(self.linear.weight, w['kernel'].T, 'kernel')
        copy_weight(self.linear.bias, w['bias'], 'bias')


class BatchNorm(nn.Module):
    """Keras BatchNormalization over the channels: moving = momentum * moving + (1 - momentum) * batch,
    the moving variance from the biased batch variance (torch's BatchNorm takes the unbiased one)."""

    def __init__(self, channels, momentum=BN_MOMENTUM, eps=BN_EPSILON):
        super().__init__()
        self.momentum = momentum
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))  # gamma
        self.bias = nn.Parameter(torch.zeros(channels))  # beta
        self.register_buffer('running_mean', torch.zeros(channels))
        self.register_buffer('running_var', torch.ones(channels))

    def forward(self, x):
        shape = [1, -1] + [1] * (x.dim() - 2)
        if self.training:
            dims = [0] + list(range(2, x.dim()))
            mean = x.mean(dims)
            var = x.var(dims, unbiased=False)
            with torch.no_grad():
                self.running_mean.mul_(self.momentum).add_(mean.detach(), alpha=1 - self.momentum)
                self.running_var.mul_(self.momentum).add_(var.detach(), alpha=1 - self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        scale = self.weight * torch.rsqrt(var + self.eps)
        return (x - mean.view(shape)) * scale.view(shape) + self.bias.view(shape)

    def load_tfjs(self, w):
        copy_weight(self.weight, w['gamma'], 'gamma')
        copy_weight(self.bias, w['beta'], 'beta')
        copy_weight(self.running_mean, w['moving_mean'], 'moving_mean')
        copy_weight(self.running_var, w['moving_variance'], 'moving_variance')


class FlattenNHWC(nn.Module):
    """Keras Flatten: H, W, C order (the module runs in NCHW)."""

    def forward(self, x):
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        return x.reshape(x.shape[0], -1)


class ReshapeNHWC(nn.Module):
    """Keras Reshape: reads and writes H, W, C order (the module runs in NCHW)."""

    def __init__(self, target):
        super().__init__()
        self.target = tuple(target)

    def forward(self, x):
        if x.dim() == 4:
            x = x.permute(0, 2, 3, 1)
        x = x.reshape((x.shape[0],) + self.target)
        return x.permute(0, 3, 1, 2) if x.dim() == 4 else x


${PY_READ_TFJS_WEIGHTS}def load_tfjs_weights(model, path):
    """Loads the playground's weights (tfjs layers format: <layer>/kernel|bias|gamma|beta|moving_mean|moving_variance)."""
    by_layer = {}
    for name, arr in read_tfjs_weights(path).items():
        parts = name.split('/')
        param = re.sub(r'_\d+$', '', parts[-1])
        by_layer.setdefault(parts[-2] if len(parts) > 1 else '', {})[param] = arr
    module = model.module if hasattr(model, 'module') else model
    used = set()
    for name, layer in module.named_layers():
        if hasattr(layer, 'load_tfjs'):
            if name not in by_layer:
                raise KeyError('%s: no weights for layer %s' % (path, name))
            layer.load_tfjs(by_layer[name])
            used.add(name)
    unused = sorted(set(by_layer) - used)
    if unused:
        raise KeyError('%s: weights for layers this model does not have: %s' % (path, ', '.join(unused)))
    return model
`;

/** Data, loss, optimizer, training and the command line: the same for every spec. */
const RUNTIME_MAIN = String.raw`
IDX_FILES = {'train': 'train-images-idx3-ubyte.gz', 'test': 't10k-images-idx3-ubyte.gz'}


def read_idx_images(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    magic, n, rows, cols = struct.unpack('>IIII', data[:16])
    if magic != 2051:
        raise ValueError('%s is not an idx image file' % path)
    return np.frombuffer(data, np.uint8, n * rows * cols, 16).reshape(n, rows, cols)


def load_images(split, data_dir, data_file=None):
    """The uint8 images (N x H x W [x C]) of the train or test set: from data_file (an .npz with 'train'
    and 'test' arrays, saved by the app) when given; else torchvision if present, else the idx .gz
    files from the usual mirrors (cached in data_dir)."""
    if data_file:
        with np.load(data_file) as npz:
            return npz[split]
    if not MIRRORS:
        raise SystemExit('This experiment trains on %s, which has no public download: save it from the app '
                         '(Download images (.npz), next to the Data set field) and pass --data FILE.npz' % DATASET)
    try:
        import torchvision.datasets as tvd
        cls = tvd.MNIST if DATASET == 'mnist' else tvd.FashionMNIST
        return cls(data_dir, train=(split == 'train'), download=True).data.numpy()
    except ImportError:
        pass
    folder = os.path.join(data_dir, DATASET)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, IDX_FILES[split])
    if not os.path.exists(path):
        errors = []
        for mirror in MIRRORS:
            try:
                urllib.request.urlretrieve(mirror + IDX_FILES[split], path + '.part')
                os.replace(path + '.part', path)
                break
            except Exception as e:  # try the next mirror
                errors.append('%s: %s' % (mirror, e))
        else:
            raise RuntimeError('could not download %s:\n  %s' % (IDX_FILES[split], '\n  '.join(errors)))
    return read_idx_images(path)


def as_batch(images):
    """uint8 N x H x W [x C] (or floats in [0, 1]) -> float32 N x C x H x W in [0, 1]."""
    x = torch.from_numpy(np.array(images))
    x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
    if x.dim() == 3:
        x = x.unsqueeze(-1)
    return x.permute(0, 3, 1, 2).contiguous()


def loss_fn(output, target):
    if LOSS == 'mse':
        return ((output - target) ** 2).mean()
    if LOSS == 'l1':
        return (output - target).abs().mean()
    p = output.clamp(BCE_CLIP, 1.0 - BCE_CLIP)
    return -(target * torch.log(p) + (1.0 - target) * torch.log(1.0 - p)).mean()


def corrupt(x):
    """Denoising: Gaussian noise (sigma NOISE, clipped to [0, 1]), salt and pepper (a share NOISE set to 1 or 0,
    half each) or masking (a share NOISE set to 0); the target stays the clean x."""
    if NOISE <= 0:
        return x
    if CORRUPTION == 'gaussian':
        return (x + NOISE * torch.randn_like(x)).clamp(0.0, 1.0)
    u = torch.rand_like(x)
    if CORRUPTION == 'saltPepper':
        return torch.where(u < NOISE, (u < NOISE / 2).to(x.dtype), x)
    return torch.where(u < NOISE, torch.zeros_like(x), x)


class TReLU(torch.autograd.Function):
    """Rank-ordered code: min(1, max(0, x)); the gradient passes inside [0, 1], and outside only where it
    pushes x back inside (the rank-ordered autoencoder notes' derivative)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(0.0, 1.0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        keep = ((x >= 0) & (x <= 1)) | ((x > 1) & (g > 0)) | ((x < 0) & (g < 0))
        return g * keep.to(g.dtype)


def top_r_mask(code):
    """Each example keeps its r largest code values (r uniform in 1..k per example and step), the rest 0."""
    flat = code.flatten(1)
    k = flat.shape[1]
    r = torch.randint(1, k + 1, (flat.shape[0], 1), device=code.device)
    threshold = flat.detach().sort(dim=1, descending=True).values.gather(1, r - 1)
    return (flat * (flat.detach() >= threshold).to(flat.dtype)).view_as(code)


DETERMINISTIC = [False]


def check_objective(model, in_path, out_path):
    """The variant's training loss of an N x H x W x C float array with its random parts off (the VAE's
    code = its mean, no corruption, dropout, noise or rank mask), as JSON: the penalty terms can be checked."""
    module = model.module if hasattr(model, 'module') else model
    module.eval()
    DETERMINISTIC[0] = True
    x = as_batch(np.load(in_path).astype(np.float32))
    with torch.no_grad():
        value = module(x, objective=True).item()
    DETERMINISTIC[0] = False
    with open(out_path, 'w') as f:
        json.dump({'objective': value}, f)


def variant_objective(model, x):
    """The training loss of the spec's variant: the reconstruction loss against the clean x, plus the
    sparse L1 penalty or the VAE's BETA * KL / (values per image); the code's dropout, noise, sampling and
    rank mask act here only."""
    target = x
    if VARIANT == 'denoising' and not DETERMINISTIC[0]:
        x = corrupt(x)
    code, logvar = model.encode(x)
    z = code
    if DETERMINISTIC[0]:
        pass  # --check-objective: the random parts (corruption, sampling, dropout, noise, rank mask) off
    elif VARIANT == 'vae':
        z = code + torch.exp(0.5 * logvar) * torch.randn_like(code)
    elif VARIANT == 'sparse':
        if CODE_DROPOUT > 0:
            z = F.dropout(z, CODE_DROPOUT, training=True)
        if CODE_NOISE > 0:
            z = z + CODE_NOISE * torch.randn_like(z)
    elif VARIANT == 'rankOrdered':
        z = top_r_mask(code)
    loss = loss_fn(model.decoder(z), target)
    if VARIANT == 'sparse' and SPARSITY > 0:
        loss = loss + SPARSITY * code.abs().mean()
    if VARIANT == 'vae':
        values = target[0].numel()
        kl = -0.5 * (1 + logvar - code ** 2 - logvar.exp()).flatten(1).sum(1).mean()
        loss = loss + BETA * kl / values
    return loss


class RMSpropTF(torch.optim.Optimizer):
    """tfjs/Keras RMSprop: ms = rho * ms + (1 - rho) * g^2; w -= lr * g / sqrt(ms + eps)
    (epsilon inside the root, unlike torch.optim.RMSprop)."""

    def __init__(self, params, lr, rho=RMSPROP_RHO, eps=TFJS_EPSILON):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                state = self.state[p]
                if 'ms' not in state:
                    state['ms'] = torch.zeros_like(p)
                ms = state['ms']
                ms.mul_(group['rho']).addcmul_(p.grad, p.grad, value=1.0 - group['rho'])
                p.addcdiv_(p.grad, (ms + group['eps']).sqrt(), value=-group['lr'])
        return loss


def make_optimizer(params, lr):
    if OPTIMIZER == 'adam':
        return torch.optim.Adam(params, lr=lr, betas=ADAM_BETAS, eps=TFJS_EPSILON)
    if OPTIMIZER == 'sgd':
        return torch.optim.SGD(params, lr=lr, momentum=SGD_MOMENTUM)
    return RMSpropTF(params, lr=lr)


def nhwc_shape(t):
    return [int(t.shape[2]), int(t.shape[3]), int(t.shape[1])] if t.dim() == 4 else [int(d) for d in t.shape[1:]]


def check_io(model, in_path, out_path):
    """Eval forward of an N x H x W x C float array: every layer's output shape (H x W x C) and the output
    as JSON, and every layer's output (H, W, C order) as raw float32 in OUT_JSON.layers.bin."""
    module = model.module if hasattr(model, 'module') else model
    module.eval()
    names, shapes = [], []

    outputs = []

    def record(name):
        def hook(module, inputs, output):
            names.append(name)
            shapes.append(nhwc_shape(output))
            outputs.append((output.permute(0, 2, 3, 1) if output.dim() == 4 else output).contiguous().numpy())
        return hook

    hooks = [layer.register_forward_hook(record(name)) for name, layer in module.named_layers()]
    x = as_batch(np.load(in_path).astype(np.float32))
    with torch.no_grad():
        y = module(x)
    for h in hooks:
        h.remove()
    y = y.permute(0, 2, 3, 1) if y.dim() == 4 else y
    with open(out_path, 'w') as f:
        json.dump({'names': names, 'shapes': shapes, 'output_shape': list(y.shape), 'output': y.reshape(-1).tolist()}, f)
    # Every layer's output (H, W, C order), float32 little-endian, one after the other.
    with open(out_path + '.layers.bin', 'wb') as f:
        for o in outputs:
            f.write(o.astype('<f4').tobytes())


def check_step(model, in_path, out_path, steps=2):
    """Training steps on the whole N x H x W x C float array (dropout off, so they are deterministic):
    the loss of each step and then the eval-mode output, as JSON."""
    module = model.module if hasattr(model, 'module') else model
    module.train()
    for m in module.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
    x = as_batch(np.load(in_path).astype(np.float32))
    optimizer = make_optimizer(module.parameters(), LEARNING_RATE)
    losses = []
    for _ in range(steps):
        loss = loss_fn(module(x), x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    module.eval()
    with torch.no_grad():
        y = module(x)
    y = y.permute(0, 2, 3, 1) if y.dim() == 4 else y
    with open(out_path, 'w') as f:
        json.dump({'losses': losses, 'output': y.reshape(-1).tolist()}, f)


def train(model, images, test_images, epochs, batch_size, lr, rank, world, device, max_steps=None):
    """Trains in place; returns the loss of every step (rank 0's batch)."""
    dataset = TensorDataset(as_batch(images))
    sampler = DistributedSampler(dataset, world, rank, shuffle=True, seed=SEED) if world > 1 else None
    local_batch = max(1, batch_size // world)
    loader = DataLoader(dataset, batch_size=local_batch, shuffle=sampler is None, sampler=sampler,
                        generator=torch.Generator().manual_seed(SEED))
    optimizer = make_optimizer(model.parameters(), lr)
    losses = []
    step = 0
    for epoch in range(epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        model.train()
        started = time.time()
        epoch_losses = []
        for (x,) in loader:
            x = x.to(device, non_blocking=True)
            loss = model(x, objective=True)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            epoch_losses.append(loss.detach())
            step += 1
            if max_steps is not None and step >= max_steps:
                break
        epoch_losses = torch.stack(epoch_losses).cpu().tolist()
        losses += epoch_losses
        if rank == 0:
            msg = 'epoch %d/%d: train loss %.5f (%.1f s)' % (epoch + 1, epochs, float(np.mean(epoch_losses)), time.time() - started)
            if test_images is not None:
                # The plain module: a forward of the DDP wrapper on one rank alone would wait for the others.
                plain = model.module if hasattr(model, 'module') else model
                msg += ', test loss %.5f' % evaluate(plain, test_images, batch_size, device)
            print(msg, flush=True)
        if max_steps is not None and step >= max_steps:
            break
    return losses


def evaluate(model, images, batch_size, device):
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for (x,) in DataLoader(TensorDataset(as_batch(images)), batch_size=max(batch_size, 256)):
            x = x.to(device)
            total += loss_fn(model(x), x).item() * x.shape[0]
            count += x.shape[0]
    model.train()
    return total / max(count, 1)


def main():
    ap = argparse.ArgumentParser(description='The Autoencoder Playground experiment ' + LINK)
    ap.add_argument('--epochs', type=int, default=EPOCHS)
    ap.add_argument('--batch-size', type=int, default=BATCH_SIZE, help='global batch (split over torchrun processes)')
    ap.add_argument('--lr', type=float, default=LEARNING_RATE)
    ap.add_argument('--train-size', type=int, default=TRAIN_SIZE)
    ap.add_argument('--data-dir', default='data')
    ap.add_argument('--data', metavar='NPZ', help="the images as an .npz with 'train' and 'test' uint8 arrays (N x H x W [x C]), as the app saves them")
    ap.add_argument('--weights', help="start from the playground's weights: a tfjs layers-format model.json")
    ap.add_argument('--save', default='autoencoder.pt')
    ap.add_argument('--device', help='cuda, cpu, ... (default: the GPU of this process if there is one)')
    ap.add_argument('--check-io', nargs=2, metavar=('IN_NPY', 'OUT_JSON'))
    ap.add_argument('--check-step', nargs=2, metavar=('IN_NPY', 'OUT_JSON'))
    ap.add_argument('--check-objective', nargs=2, metavar=('IN_NPY', 'OUT_JSON'))
    ap.add_argument('--smoke', metavar='NPY', help='train on this N x H x W [x C] array instead of the data set')
    ap.add_argument('--steps', type=int, help='train this many steps (as many epochs as that takes)')
    ap.add_argument('--losses', metavar='JSON', help="write every step's loss here")
    args = ap.parse_args()

    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    local_rank = int(os.environ.get('LOCAL_RANK', '0'))
    if args.device:
        device = torch.device(args.device)
    elif torch.cuda.is_available():
        device = torch.device('cuda', local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device('cpu')
    if world > 1:
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    model = Autoencoder()
    if args.weights:
        load_tfjs_weights(model, args.weights)
    if args.check_io or args.check_step or args.check_objective:
        if args.check_objective:
            check_objective(model, *args.check_objective)
        if args.check_io:
            check_io(model, *args.check_io)
        if args.check_step:
            check_step(model, *args.check_step)
        if not args.smoke:
            return
    model.to(device)

    if args.smoke:
        images, test_images = np.load(args.smoke), None
    else:
        if rank == 0:
            load_images('train', args.data_dir, args.data)
            load_images('test', args.data_dir, args.data)
        if world > 1:
            dist.barrier()
        train_images = load_images('train', args.data_dir, args.data)
        subset = np.random.RandomState(SEED).permutation(len(train_images))[:args.train_size]
        images, test_images = train_images[np.sort(subset)], load_images('test', args.data_dir, args.data)

    ddp = model
    if world > 1:
        ddp = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == 'cuda' else None)
    if rank == 0:
        params = sum(p.numel() for p in model.parameters())
        print('%s: %d parameters, %d training images, %d process(es) on %s' % (LINK, params, len(images), world, device), flush=True)
    epochs = args.epochs if args.steps is None else max(args.epochs, args.steps)
    losses = train(ddp, images, test_images, epochs, args.batch_size, args.lr, rank, world, device, args.steps)
    if rank == 0:
        if args.losses:
            with open(args.losses, 'w') as f:
                json.dump(losses, f)
        if test_images is not None and epochs == 0:
            print('test loss %.5f' % evaluate(model, test_images, args.batch_size, device), flush=True)
        elif not args.smoke:
            torch.save(model.state_dict(), args.save)
            print('saved ' + args.save, flush=True)
    if world > 1:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
`;
