/**
 * Where a WASM training step goes (#19, "The CPU path"), in Node on @tensorflow/tfjs-backend-wasm
 * (SIMD, one thread — Node never gets the threaded build, like the app's worker without
 * cross-origin isolation). For each preset, with the app's model builder, kernels (registerTrainingKernels),
 * flat optimizer and step (training.ts variantStep → trainStep), batch 32, MNIST:
 *
 * 1. images/s of the app's step (no instrumentation);
 * 2. one step taken apart: every kernel registered for 'wasm' is wrapped in a timer (wasm is
 *    synchronous, so a kernel's wall time is its cost). Nested calls (our kernels call wasm's own
 *    Conv2D, Transpose, BatchMatMul, AvgPool… through the registry) are charged to "Parent › Child",
 *    so self times add up to the time inside kernels. Each call is tagged forward (model.apply),
 *    loss, backward (the engine's 'backward' tidy) or optimizer (optimizer.applyGradients); the step
 *    time minus the kernels' time is the JavaScript outside kernels (layers, tape, tidy, allocation);
 * 3. allocation churn of a step: wasm buffers made (backend.move), their bytes, uploads from JS,
 *    tensors created;
 * 4. micro-benchmarks of every convolution and matrix product the step runs, replayed with its real
 *    shapes and attributes: as in the step (fresh operands, so XNNPACK creates and packs an operator
 *    every call, as it does in training where each weight is a new tensor after each update), with
 *    XNNPACK's operator cached (same operands), and the stock tfjs-wasm kernels we replace; GFLOP/s;
 * 5. PyTorch (one thread) on the same convolution / GEMM shapes, and scripts/torch_bench.py's whole
 *    step, when a python with torch is there.
 *
 *   node .bench/wasm-profile/wasmProfile.js [--presets default,wiki-5-layer,dense] [--batch 32]
 *     [--seconds 4] [--profile-steps 4] [--profile-seconds 2] [--micro-seconds 0.4] [--no-micro] [--python /usr/bin/python3 | '']
 *     [--no-torch-step] [--out file.json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { decodeDataset, type DecodedDataset } from '../data/decode';
import { findPreset } from '../model/presets';
import type { ExperimentSpec } from '../model/spec';
import { buildModel } from '../train/worker/buildModel';
import { adamKernelCalls } from '../train/worker/adam';
import { bceKernelCalls } from '../train/worker/bce';
import { directCalls, isOurKernel, registerTrainingKernels, wasmConvPaths } from '../train/worker/kernels';
import { batchTensor, makeTrainingOptimizer, variantStep } from '../train/worker/training';

// ---------------------------------------------------------------------------------------------
// Arguments

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

// ---------------------------------------------------------------------------------------------
// The wasm backend, narrowed to what this bench touches.

interface WasmModuleLike {
  HEAPU8: Uint8Array;
}
interface WasmBackendLike {
  wasm: WasmModuleLike;
  move(dataId: object, values: unknown, shape: number[], dtype: tf.DataType, refCount: number): void;
  disposeData(dataId: object, force?: boolean): boolean;
}
function wasmBackend(): WasmBackendLike {
  const b = tf.backend() as unknown as Partial<WasmBackendLike>;
  if (typeof b.move !== 'function' || typeof b.disposeData !== 'function' || b.wasm == null) throw new Error('not the wasm backend');
  return b as WasmBackendLike;
}

// ---------------------------------------------------------------------------------------------
// Kernel classification and arithmetic

/** tfjs-backend-wasm 4.22 kernels that run XNNPACK's GEMM-based operators (convolution, fully connected). */
const XNN_GEMM = new Set(['Conv2D', 'FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2D', 'BatchMatMul', '_FusedMatMul']);
/** Kernels that run other XNNPACK operators (binary *_nd_f32, pooling, clamp, sigmoid, PReLU, ELU, pad). */
const XNN_OTHER = new Set(['AvgPool', 'MaxPool', 'Prelu', 'Sigmoid', 'Relu', 'Relu6', 'ClipByValue', 'Elu', 'PadV2', 'Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum']);
/** The kernels the micro-benchmarks replay. */
const COMPUTE = new Set([...XNN_GEMM, 'Conv2DBackpropInput', 'Conv2DBackpropFilter']);

type Impl = 'XNNPACK conv/GEMM' | 'XNNPACK other' | 'wasm C++ (not XNNPACK)' | 'our JS' | 'our SIMD wasm' | 'JS outside kernels';

/** Calls so far that ran our SIMD module (kernels.ts' direct paths, adam.ts' fused step, bce.ts' loss): a call that moves it ran there. */
function simdCount(): number {
  return Object.values(directCalls).reduce((a, b) => a + b, 0) + adamKernelCalls.count + bceKernelCalls.loss + bceKernelCalls.grad;
}

function transposeTag(attrs: tf.NamedAttrMap | undefined): string {
  const ta = attrs?.transposeA === true;
  const tb = attrs?.transposeB === true;
  return ta || tb ? `(${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'})` : '';
}

function implOf(name: string, key: string, ours: boolean, simd: boolean): Impl {
  if (simd) return 'our SIMD wasm';
  // ours hands every FusedConv2D but the one-output-channel ones to the stock kernel
  if (ours && name === 'FusedConv2D') return 'XNNPACK conv/GEMM';
  if (name === 'BatchMatMul' || name === '_FusedMatMul') {
    // Ours transposes (nested, charged separately) and calls the stock kernel without transposes (XNNPACK);
    // the stock kernel with a transpose is a scalar C++ loop.
    return key.includes('ᵀ') && !ours ? 'wasm C++ (not XNNPACK)' : 'XNNPACK conv/GEMM';
  }
  if (ours) return 'our JS';
  if (XNN_GEMM.has(name)) return 'XNNPACK conv/GEMM';
  if (XNN_OTHER.has(name)) return 'XNNPACK other';
  return 'wasm C++ (not XNNPACK)';
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function numberList(v: unknown): number[] | null {
  return Array.isArray(v) && v.every((e) => typeof e === 'number') ? (v as number[]) : null;
}

/** Multiply-adds × 2 of a convolution or matrix product call (0 for anything else). */
function flopsOf(name: string, inputs: Record<string, readonly number[]>, attrs: tf.NamedAttrMap | undefined, out: readonly number[]): number {
  switch (name) {
    case 'Conv2D':
    case 'FusedConv2D': {
      const f = inputs.filter;
      return f ? 2 * size(out) * f[0] * f[1] * f[2] : 0;
    }
    case 'DepthwiseConv2dNative':
    case 'FusedDepthwiseConv2D': {
      const f = inputs.filter;
      return f ? 2 * size(out) * f[0] * f[1] : 0;
    }
    case 'Conv2DBackpropInput': {
      const f = inputs.filter;
      const dy = inputs.dy;
      return f && dy ? 2 * size(dy) * f[0] * f[1] * f[2] : 0;
    }
    case 'Conv2DBackpropFilter': {
      const fs = numberList(attrs?.filterShape);
      const dy = inputs.dy;
      return fs && dy ? 2 * size(dy) * fs[0] * fs[1] * fs[2] : 0;
    }
    case 'BatchMatMul':
    case '_FusedMatMul': {
      const a = inputs.a;
      const b = inputs.b;
      if (!a || !b || a.length < 2 || b.length < 2) return 0;
      const ta = attrs?.transposeA === true;
      const tb = attrs?.transposeB === true;
      const M = ta ? a[a.length - 1] : a[a.length - 2];
      const K = ta ? a[a.length - 2] : a[a.length - 1];
      const N = tb ? b[b.length - 2] : b[b.length - 1];
      const batch = out.length > 2 ? size(out.slice(0, -2)) : 1;
      return 2 * batch * M * N * K;
    }
    default:
      return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Kernel wrappers

type Phase = 'step' | 'forward' | 'loss' | 'backward' | 'optimizer';
const PHASES: readonly Phase[] = ['forward', 'loss', 'backward', 'optimizer', 'step'];

interface InputDesc {
  name: string;
  shape: number[];
  dtype: tf.DataType;
}

/** What every record of a kernel call holds. */
interface CallBase {
  name: string;
  /** name plus transposes for matrix products. */
  key: string;
  /** The calling kernel's key, for nested calls. */
  parent: string | null;
  phase: Phase;
  ms: number;
  selfMs: number;
  ours: boolean;
  /** It ran our SIMD module (not counting nested calls). */
  simd: boolean;
}

interface CallRecord extends CallBase {
  flops: number;
  inputs: InputDesc[];
  attrs: tf.NamedAttrMap;
  out: number[];
}

/** What the wrapper keeps of a call (references only: the wrapper must stay cheap; see toRecord). */
interface RawRecord extends CallBase {
  inputs: tf.NamedTensorInfoMap;
  attrs: tf.NamedAttrMap | undefined;
  out: tf.TensorInfo | tf.TensorInfo[] | undefined;
}

interface Profiler {
  active: boolean;
  phase: Phase;
  records: RawRecord[];
  restore(): void;
}

function outShapes(out: tf.TensorInfo | tf.TensorInfo[] | undefined): number[] {
  if (out == null) return [];
  return [...(Array.isArray(out) ? (out[0]?.shape ?? []) : out.shape)];
}

function toRecord(r: RawRecord): CallRecord {
  const inputs: InputDesc[] = Object.entries(r.inputs)
    .filter((e): e is [string, tf.TensorInfo] => e[1] != null)
    .map(([n, t]) => ({ name: n, shape: [...t.shape], dtype: t.dtype }));
  const shapes = Object.fromEntries(inputs.map((i) => [i.name, i.shape]));
  const out = outShapes(r.out);
  return {
    name: r.name,
    key: r.key,
    parent: r.parent,
    phase: r.phase,
    ms: r.ms,
    selfMs: r.selfMs,
    flops: flopsOf(r.name, shapes, r.attrs, out),
    ours: r.ours,
    simd: r.simd,
    inputs,
    attrs: { ...(r.attrs ?? {}) },
    out,
  };
}

/** Wraps every wasm kernel in a timer that records each call (while `active`) with its phase, parent and shapes. */
function installProfiler(ourKernels: ReadonlySet<string>): Profiler {
  const originals = tf.getKernelsForBackend('wasm');
  const stack: { key: string; nestedMs: number }[] = [];
  const p: Profiler = {
    active: false,
    phase: 'step',
    records: [],
    restore: () => {
      for (const config of originals) {
        tf.unregisterKernel(config.kernelName, 'wasm');
        tf.registerKernel(config);
      }
    },
  };
  for (const config of originals) {
    const inner = config.kernelFunc;
    const name = config.kernelName;
    const ours = ourKernels.has(name);
    const timed: tf.KernelFunc = (params) => {
      if (!p.active) return inner(params);
      const key = name + transposeTag(params.attrs);
      const parent = stack.length > 0 ? stack[stack.length - 1].key : null;
      const frame = { key, nestedMs: 0 };
      stack.push(frame);
      let out: tf.TensorInfo | tf.TensorInfo[] | undefined;
      const simd0 = simdCount();
      const t0 = performance.now();
      try {
        out = inner(params);
        return out;
      } finally {
        const ms = performance.now() - t0;
        const simd = simdCount() > simd0;
        stack.pop();
        if (stack.length > 0) stack[stack.length - 1].nestedMs += ms;
        p.records.push({ name, key, parent, phase: p.phase, ms, selfMs: ms - frame.nestedMs, ours, simd, inputs: params.inputs, attrs: params.attrs, out });
      }
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...config, kernelFunc: timed });
  }
  return p;
}

/**
 * Tags kernels with their phase — model.apply (forward), the rest of the engine's 'forward' tidy (the
 * loss), the 'backward' tidy, optimizer.applyGradients — and sums each phase's wall time while the
 * profiler is active ('forward+loss' is the whole 'forward' tidy).
 */
function installPhaseHooks(p: Profiler, model: tf.LayersModel, optimizer: tf.Optimizer): { wall: Record<string, number>; restore(): void } {
  const engine = tf.engine();
  const tidy = engine.tidy;
  const apply = model.apply;
  const applyGradients = optimizer.applyGradients;
  const wall: Record<string, number> = {};
  const withPhase = <T>(phase: Phase, label: string, f: () => T): T => {
    const prev = p.phase;
    p.phase = phase;
    const t0 = performance.now();
    try {
      return f();
    } finally {
      if (p.active) wall[label] = (wall[label] ?? 0) + performance.now() - t0;
      p.phase = prev;
    }
  };
  engine.tidy = function (this: ReturnType<typeof tf.engine>, nameOrFn: unknown, fn?: unknown): tf.TensorContainer {
    const call = (): tf.TensorContainer => (tidy as (a: unknown, b?: unknown) => tf.TensorContainer).call(this, nameOrFn, fn);
    if (nameOrFn === 'forward') return withPhase('forward', 'forward+loss', call);
    if (nameOrFn === 'backward') return withPhase('backward', 'backward', call);
    return call();
  } as typeof engine.tidy;
  model.apply = function (this: tf.LayersModel, ...args: Parameters<tf.LayersModel['apply']>) {
    const out = withPhase('forward', 'forward', () => apply.apply(this, args));
    // Back in the loss closure: what follows model.apply is the loss.
    if (p.phase === 'forward') p.phase = 'loss';
    return out;
  };
  optimizer.applyGradients = function (this: tf.Optimizer, ...args: Parameters<tf.Optimizer['applyGradients']>): void {
    withPhase('optimizer', 'optimizer', () => applyGradients.apply(this, args));
  };
  return {
    wall,
    restore: () => {
      engine.tidy = tidy;
      model.apply = apply;
      optimizer.applyGradients = applyGradients;
    },
  };
}

/** Counts wasm buffers made (backend.move: kernel outputs and uploads) and their bytes while `on`. */
function installAllocCounter(backend: WasmBackendLike): { on: boolean; buffers: number; bytes: number; uploads: number; uploadBytes: number; restore(): void } {
  const move = backend.move;
  const c = {
    on: false,
    buffers: 0,
    bytes: 0,
    uploads: 0,
    uploadBytes: 0,
    restore: () => {
      backend.move = move;
    },
  };
  backend.move = function (this: WasmBackendLike, dataId, values, shape, dtype, refCount) {
    if (c.on && dtype !== 'string') {
      const bytes = size(shape) * (dtype === 'bool' ? 1 : 4);
      c.buffers++;
      c.bytes += bytes;
      if (values != null) {
        c.uploads++;
        c.uploadBytes += bytes;
      }
    }
    move.call(this, dataId, values, shape, dtype, refCount);
  };
  return c;
}

/** The id the next tensor will get (tensor ids are consecutive across the engine). */
function nextTensorId(): number {
  const probe = tf.scalar(0);
  const id = probe.id;
  probe.dispose();
  return id + 1;
}

// ---------------------------------------------------------------------------------------------
// Results

interface KernelRow {
  /** "Parent › Kernel(transposes)" */
  kernel: string;
  impl: Impl;
  phases: string;
  callsPerStep: number;
  selfMsPerStep: number;
  inclMsPerStep: number;
  share: number;
  /** GFLOP/s over the call's inclusive time (convolutions and matrix products). */
  gflops: number | null;
  gflopPerStep: number;
  /** MiB written as outputs per step (the data the kernel moves out; a copy's whole cost). */
  mbOutPerStep: number;
}

interface PhaseRow {
  phase: Phase;
  wallMsPerStep: number | null;
  kernelMsPerStep: number;
  topLevelCalls: number;
  jsMsPerStep: number | null;
}

interface CallRow {
  kernel: string;
  phase: Phase;
  shapes: string;
  ms: number;
  gflop: number;
  gflops: number;
}

interface MicroVariant {
  label: string;
  ms: number;
  gflops: number;
  reps: number;
}

interface MicroRow {
  id: string;
  kernel: string;
  shapes: string;
  callsPerStep: number;
  inStepMs: number;
  gflop: number;
  variants: MicroVariant[];
  torch?: { op: string; ms: number; gflops: number } | null;
  torchSpec?: TorchOp | null;
}

interface PresetResult {
  preset: string;
  batch: number;
  params: number;
  stepMs: number;
  /** Median of the timed steps (less sensitive to the shared machine's bursts than the mean). */
  stepMsMedian: number;
  imagesPerSec: number;
  stepsTimed: number;
  profileSteps: number;
  stepMsProfiled: number;
  phaseWallMs: Record<string, number>;
  kernelMsPerStep: number;
  topLevelCallsPerStep: number;
  nestedCallsPerStep: number;
  jsOutsideKernelsMsPerStep: number;
  usPerTopLevelCall: number;
  byImpl: { impl: Impl; msPerStep: number; share: number }[];
  byPhase: PhaseRow[];
  kernels: KernelRow[];
  calls: CallRow[];
  stepGflop: number;
  /** Backward calls whose output is the gradient of the input batch itself (not needed for training), ms per step. */
  inputGradMsPerStep: number;
  inputGradCalls: string[];
  alloc: { buffersPerStep: number; mbPerStep: number; uploadsPerStep: number; uploadKbPerStep: number; tensorsPerStep: number; tensorsLeakedPerStep: number; heapMb: number };
  micro: MicroRow[];
  error?: string;
}

// ---------------------------------------------------------------------------------------------
// PyTorch

interface TorchOp {
  id: string;
  kind: 'conv_fwd' | 'conv_dx' | 'conv_dw' | 'mm';
  B?: number;
  H?: number;
  W?: number;
  Ci?: number;
  Co?: number;
  KH?: number;
  KW?: number;
  sh?: number;
  sw?: number;
  pad?: [number, number, number, number];
  bias?: boolean;
  M?: number;
  K?: number;
  N?: number;
  ta?: boolean;
  tb?: boolean;
}

const TORCH_SNIPPET = String.raw`
import json, sys, time, statistics
try:
    import torch
    import torch.nn.functional as F
except Exception as e:
    print(json.dumps({"error": "torch: " + str(e)}))
    sys.exit(0)
torch.set_num_threads(1)
req = json.load(sys.stdin)
budget = req["seconds"]
def timed(fn):
    fn(); fn()
    ts = []
    end = time.perf_counter() + budget
    while len(ts) < 3 or (time.perf_counter() < end and len(ts) < 50):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1000.0
res = {}
for op in req["ops"]:
    k = op["kind"]
    try:
        with torch.no_grad():
            if k == "mm":
                a = torch.rand((op["K"], op["M"]) if op["ta"] else (op["M"], op["K"]))
                b = torch.rand((op["N"], op["K"]) if op["tb"] else (op["K"], op["N"]))
                fa = (lambda: a.t()) if op["ta"] else (lambda: a)
                fb = (lambda: b.t()) if op["tb"] else (lambda: b)
                if op.get("bias"):
                    bias = torch.rand(op["N"])
                    fn = lambda: torch.addmm(bias, fa(), fb())
                else:
                    fn = lambda: torch.mm(fa(), fb())
            else:
                B, H, W, Ci, Co, KH, KW = op["B"], op["H"], op["W"], op["Ci"], op["Co"], op["KH"], op["KW"]
                pt, pb, pl, pr = op["pad"]
                stride = (op["sh"], op["sw"])
                x = torch.rand(B, Ci, H, W)
                if pt == pb and pl == pr:
                    padding = (pt, pl)
                else:
                    x = F.pad(x, (pl, pr, pt, pb))
                    padding = (0, 0)
                w = torch.rand(Co, Ci, KH, KW)
                bias = torch.rand(Co) if op.get("bias") else None
                y = F.conv2d(x, w, bias, stride, padding)
                dy = torch.rand_like(y)
                if k == "conv_fwd":
                    fn = lambda: F.conv2d(x, w, bias, stride, padding)
                else:
                    mask = [True, False, False] if k == "conv_dx" else [False, True, False]
                    fn = lambda: torch.ops.aten.convolution_backward(dy, x, w, None, stride, padding, (1, 1), False, (0, 0), 1, mask)
            res[op["id"]] = timed(fn)
    except Exception as e:
        res[op["id"]] = "error: " + str(e)
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.is_available(), "results": res}))
`;

/**
 * glibc malloc settings for the per-op PyTorch timings: without them every large temporary of an op run
 * alone is a fresh mmap, and on this VM (Firecracker) the page faults cost more than the op (a 64→64
 * conv at 14×14: 11-15 ms instead of 2.5 ms). In a training loop glibc's dynamic mmap threshold reaches
 * that steady state by itself (scripts/torch_bench.py's step times hardly change with these settings).
 */
const STEADY_MALLOC = { MALLOC_MMAP_THRESHOLD_: String(2 ** 30), MALLOC_TRIM_THRESHOLD_: String(2 ** 30), MALLOC_TOP_PAD_: String(2 ** 28) };

function runTorch(python: string, ops: TorchOp[], seconds: number): { torch?: string; error?: string; results: Record<string, number | string> } {
  if (!python || ops.length === 0) return { error: 'skipped', results: {} };
  const r = spawnSync(python, ['-c', TORCH_SNIPPET], { input: JSON.stringify({ ops, seconds }), encoding: 'utf8', timeout: 240_000, maxBuffer: 1 << 24, env: { ...process.env, ...STEADY_MALLOC } });
  if (r.error) return { error: `${python}: ${r.error.message}`, results: {} };
  try {
    const j = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { torch?: string; error?: string; results?: Record<string, number | string> };
    return { torch: j.torch, error: j.error, results: j.results ?? {} };
  } catch {
    return { error: `no JSON from ${python}: ${r.stderr.slice(-400)}`, results: {} };
  }
}

interface TorchStep {
  error?: string;
  torch?: string;
  results?: Record<string, Record<string, { imagesPerSec: number }>>;
}

function runTorchStep(python: string, presets: string[], batch: number): TorchStep {
  if (!python || !existsSync('scripts/torch_bench.py')) return { error: 'skipped' };
  const r = spawnSync(python, ['scripts/torch_bench.py', '--quick', '--threads', '1,2', '--batch', String(batch), '--presets', presets.join(',')], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  if (r.error || r.status !== 0) return { error: r.error?.message ?? r.stderr.slice(-400) };
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as TorchStep;
  } catch {
    return { error: 'no JSON from torch_bench.py' };
  }
}

// ---------------------------------------------------------------------------------------------
// Micro-benchmarks

function signature(r: CallRecord): string {
  const attrs = Object.entries(r.attrs)
    .filter(([k]) => k !== 'activation' || r.attrs.activation !== 'linear')
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return `${r.key}|${r.inputs.map((i) => `${i.name}:${i.shape.join('x')}`).join(';')}|${attrs}`;
}

function shapesText(r: Pick<CallRecord, 'inputs' | 'out'>): string {
  return `${r.inputs.map((i) => `${i.name} ${i.shape.join('×')}`).join(', ')} → ${r.out.join('×')}`;
}

function convPad(xShape: number[], filterShape: number[], attrs: tf.NamedAttrMap): { pad: [number, number, number, number]; sh: number; sw: number } {
  const strides = typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : (numberList(attrs.strides) ?? [1, 1]);
  const dil = typeof attrs.dilations === 'number' ? [attrs.dilations, attrs.dilations] : (numberList(attrs.dilations) ?? [1, 1]);
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    [strides[0], strides[1]],
    [dil[0], dil[1]],
    attrs.pad as 'same' | 'valid' | number,
    undefined,
    false,
    'channelsLast',
  );
  return { pad: [info.padInfo.top, info.padInfo.bottom, info.padInfo.left, info.padInfo.right], sh: info.strideHeight, sw: info.strideWidth };
}

/** The PyTorch op for a top-level call of the step (null where there is none to compare). */
function torchOpFor(id: string, r: CallRecord): TorchOp | null {
  const shape = (n: string): number[] | undefined => r.inputs.find((i) => i.name === n)?.shape;
  try {
    if (r.name === 'Conv2D' || r.name === 'FusedConv2D') {
      const x = shape('x');
      const f = shape('filter');
      if (!x || !f) return null;
      const { pad, sh, sw } = convPad(x, f, r.attrs);
      return { id, kind: 'conv_fwd', B: x[0], H: x[1], W: x[2], Ci: x[3], Co: f[3], KH: f[0], KW: f[1], sh, sw, pad, bias: shape('bias') != null };
    }
    if (r.name === 'Conv2DBackpropInput') {
      const x = numberList(r.attrs.inputShape);
      const f = shape('filter');
      if (!x || !f) return null;
      const { pad, sh, sw } = convPad(x, f, r.attrs);
      return { id, kind: 'conv_dx', B: x[0], H: x[1], W: x[2], Ci: x[3], Co: f[3], KH: f[0], KW: f[1], sh, sw, pad };
    }
    if (r.name === 'Conv2DBackpropFilter') {
      const x = shape('x');
      const f = numberList(r.attrs.filterShape);
      if (!x || !f) return null;
      const { pad, sh, sw } = convPad(x, f, r.attrs);
      return { id, kind: 'conv_dw', B: x[0], H: x[1], W: x[2], Ci: x[3], Co: f[3], KH: f[0], KW: f[1], sh, sw, pad };
    }
    if (r.name === 'BatchMatMul' || r.name === '_FusedMatMul') {
      const a = shape('a');
      const b = shape('b');
      if (!a || !b || size(a.slice(0, -2)) !== 1) return null;
      const ta = r.attrs.transposeA === true;
      const tb = r.attrs.transposeB === true;
      const M = ta ? a[a.length - 1] : a[a.length - 2];
      const K = ta ? a[a.length - 2] : a[a.length - 1];
      const N = tb ? b[b.length - 2] : b[b.length - 1];
      return { id, kind: 'mm', M, K, N, ta, tb, bias: shape('bias') != null };
    }
  } catch {
    return null;
  }
  return null;
}

interface Replay {
  inputs: tf.NamedTensorInfoMap;
  dispose(): void;
}

function makeInputs(descs: InputDesc[], transposeLast: ReadonlySet<string> = new Set()): Replay {
  const ts: tf.Tensor[] = [];
  const inputs: tf.NamedTensorInfoMap = {};
  for (const d of descs) {
    let shape = d.shape;
    if (transposeLast.has(d.name)) shape = [...shape.slice(0, -2), shape[shape.length - 1], shape[shape.length - 2]];
    const t = d.dtype === 'float32' ? tf.randomUniform(shape, -0.5, 0.5, 'float32') : tf.zeros(shape, d.dtype);
    ts.push(t);
    inputs[d.name] = t;
  }
  return { inputs, dispose: () => tf.dispose(ts) };
}

function timeKernel(
  backend: WasmBackendLike,
  kernel: tf.KernelFunc,
  descs: InputDesc[],
  attrs: tf.NamedAttrMap,
  fresh: boolean,
  budgetMs: number,
  transposeLast?: ReadonlySet<string>,
): { ms: number; reps: number } {
  const run = (r: Replay): number => {
    const t0 = performance.now();
    const out = kernel({ inputs: r.inputs, backend, attrs });
    const dt = performance.now() - t0;
    for (const o of Array.isArray(out) ? out : [out]) backend.disposeData(o.dataId);
    return dt;
  };
  const shared = fresh ? null : makeInputs(descs, transposeLast);
  const times: number[] = [];
  try {
    // One untimed call: the first call of a shape (and, with shared operands, XNNPACK's operator creation).
    {
      const r = shared ?? makeInputs(descs, transposeLast);
      run(r);
      if (!shared) r.dispose();
    }
    let total = 0;
    while (times.length < 3 || (total < budgetMs && times.length < 25)) {
      const r = shared ?? makeInputs(descs, transposeLast);
      const dt = run(r);
      if (!shared) r.dispose();
      times.push(dt);
      total += dt;
    }
  } finally {
    shared?.dispose();
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], reps: times.length };
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const presets = arg('presets', 'default,wiki-5-layer,dense').split(',').filter(Boolean);
  const batch = Number(arg('batch', '32'));
  const seconds = Number(arg('seconds', '4'));
  const profileSteps = Number(arg('profile-steps', '4'));
  const profileSeconds = Number(arg('profile-seconds', '2'));
  const microSeconds = Number(arg('micro-seconds', '0.4'));
  const micro = !flag('no-micro');
  const defaultPython = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const python = arg('python', process.env.PYTHON ?? defaultPython);
  const out = arg('out', '');
  const dataPath = arg('data', 'public/data/mnist.bin.gz');
  const load0 = os.loadavg();
  const t00 = performance.now();

  const pkg = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json');
  setWasmPaths(join(dirname(pkg), 'dist') + '/');
  // The stock kernels we replace, for the micro-benchmarks' comparison.
  const stockBatchMatMul = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc ?? null;
  const stockConvInput = tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc ?? null;
  registerTrainingKernels();
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  await tf.ready();
  const backend = wasmBackend();
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  const ourKernels = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName).filter((n) => isOurKernel(n, 'wasm')));
  console.log(`tfjs ${tf.version.tfjs} wasm (SIMD ${simd}, threads ${threads}); our wasm kernels: ${[...ourKernels].join(', ')}`);

  const data: DecodedDataset = decodeDataset(new Uint8Array(gunzipSync(readFileSync(dataPath))));
  const order = Uint32Array.from({ length: 4096 }, (_, i) => i);
  const torchOps: TorchOp[] = [];
  const results: PresetResult[] = [];

  for (const presetId of presets) {
    const preset = findPreset(presetId);
    if (!preset) throw new Error(`unknown preset ${presetId}`);
    const spec: ExperimentSpec = { ...structuredClone(preset.spec), batchSize: batch, backend: 'wasm' };
    const built = buildModel(spec, [data.height, data.width, data.channels]);
    const optimizer = makeTrainingOptimizer(spec);
    let from = 0;
    /** One step as the worker's loop takes it: a batch from the uint8 pixels, variantStep (→ trainStep). */
    const step = (): void => {
      if (from + batch > order.length) from = 0;
      const x = batchTensor(data, order, from, from + batch);
      from += batch;
      const r = variantStep(optimizer, spec, built, x);
      x.dispose();
      r.loss.dispose();
      r.terms?.dispose();
    };
    const res: PresetResult = {
      preset: presetId,
      batch,
      params: built.model.countParams(),
      stepMs: NaN,
      stepMsMedian: NaN,
      imagesPerSec: NaN,
      stepsTimed: 0,
      profileSteps,
      stepMsProfiled: NaN,
      phaseWallMs: {},
      kernelMsPerStep: NaN,
      topLevelCallsPerStep: 0,
      nestedCallsPerStep: 0,
      jsOutsideKernelsMsPerStep: NaN,
      usPerTopLevelCall: NaN,
      byImpl: [],
      byPhase: [],
      kernels: [],
      calls: [],
      stepGflop: 0,
      inputGradMsPerStep: 0,
      inputGradCalls: [],
      alloc: { buffersPerStep: 0, mbPerStep: 0, uploadsPerStep: 0, uploadKbPerStep: 0, tensorsPerStep: 0, tensorsLeakedPerStep: 0, heapMb: 0 },
      micro: [],
    };
    try {
      // 1. Throughput, no instrumentation.
      for (let i = 0; i < 3; i++) step();
      const t1 = performance.now();
      let n = 0;
      const times: number[] = [];
      while (n < 3 || performance.now() - t1 < seconds * 1000) {
        const t = performance.now();
        step();
        times.push(performance.now() - t);
        n++;
      }
      res.stepMs = (performance.now() - t1) / n;
      times.sort((a, b) => a - b);
      res.stepMsMedian = times[Math.floor(times.length / 2)];
      res.stepsTimed = n;
      res.imagesPerSec = (1000 * batch) / res.stepMs;
      console.log(`${presetId}: ${res.stepMs.toFixed(2)} ms/step (median ${res.stepMsMedian.toFixed(2)}), ${res.imagesPerSec.toFixed(0)} images/s (${n} steps)`);

      // 2. Allocation churn (its own pass: the counters cost a little).
      const alloc = installAllocCounter(backend);
      try {
        const mem0 = tf.memory().numTensors;
        const id0 = nextTensorId();
        alloc.on = true;
        for (let i = 0; i < profileSteps; i++) step();
        alloc.on = false;
        const id1 = nextTensorId();
        res.alloc = {
          buffersPerStep: alloc.buffers / profileSteps,
          mbPerStep: alloc.bytes / profileSteps / 2 ** 20,
          uploadsPerStep: alloc.uploads / profileSteps,
          uploadKbPerStep: alloc.uploadBytes / profileSteps / 1024,
          tensorsPerStep: (id1 - id0 - 1) / profileSteps,
          tensorsLeakedPerStep: (tf.memory().numTensors - mem0) / profileSteps,
          heapMb: backend.wasm.HEAPU8.length / 2 ** 20,
        };
      } finally {
        alloc.restore();
      }

      // 3. The step taken apart.
      const prof = installProfiler(ourKernels);
      const hooks = installPhaseHooks(prof, built.model, optimizer);
      const phaseWall = hooks.wall;
      try {
        step(); // warm the wrappers
        prof.records = [];
        // At least profileSteps steps, and more up to ~profileSeconds (noise on a shared machine), at most 50.
        const stepTimes: number[] = [];
        let lastStart = 0;
        const p0 = performance.now();
        while (stepTimes.length < profileSteps || (performance.now() - p0 < profileSeconds * 1000 && stepTimes.length < 50)) {
          lastStart = prof.records.length;
          prof.active = true;
          const t0 = performance.now();
          step();
          stepTimes.push(performance.now() - t0);
          prof.active = false;
        }
        const all = prof.records.map(toRecord);
        const last = all.slice(lastStart);
        const S = stepTimes.length;
        res.profileSteps = S;
        res.stepMsProfiled = stepTimes.reduce((a, b) => a + b, 0) / S;
        res.phaseWallMs = Object.fromEntries(Object.entries(phaseWall).map(([k, v]) => [k, v / S]));
        const top = all.filter((r) => r.parent == null);
        res.kernelMsPerStep = top.reduce((a, r) => a + r.ms, 0) / S;
        res.topLevelCallsPerStep = top.length / S;
        res.nestedCallsPerStep = (all.length - top.length) / S;
        res.jsOutsideKernelsMsPerStep = res.stepMsProfiled - res.kernelMsPerStep;
        res.usPerTopLevelCall = (1000 * res.jsOutsideKernelsMsPerStep) / res.topLevelCallsPerStep;

        // Per kernel (chain), self time.
        const rows = new Map<string, KernelRow & { phaseCounts: Map<Phase, number>; flopsTotal: number; inclForFlops: number }>();
        for (const r of all) {
          const chain = r.parent ? `${r.parent} › ${r.key}` : r.key;
          let row = rows.get(chain);
          if (!row) {
            row = {
              kernel: chain,
              impl: implOf(r.name, r.key, r.ours, r.simd),
              phases: '',
              callsPerStep: 0,
              selfMsPerStep: 0,
              inclMsPerStep: 0,
              share: 0,
              gflops: null,
              gflopPerStep: 0,
              mbOutPerStep: 0,
              phaseCounts: new Map(),
              flopsTotal: 0,
              inclForFlops: 0,
            };
            rows.set(chain, row);
          }
          row.callsPerStep += 1 / S;
          row.selfMsPerStep += r.selfMs / S;
          row.inclMsPerStep += r.ms / S;
          row.mbOutPerStep += (size(r.out) * 4) / S / 2 ** 20;
          row.phaseCounts.set(r.phase, (row.phaseCounts.get(r.phase) ?? 0) + 1 / S);
          if (r.flops > 0) {
            row.flopsTotal += r.flops;
            row.inclForFlops += r.ms;
          }
        }
        res.kernels = [...rows.values()]
          .map(({ phaseCounts, flopsTotal, inclForFlops, ...row }) => ({
            ...row,
            phases: PHASES.filter((ph) => phaseCounts.has(ph))
              .map((ph) => `${ph} ${+(phaseCounts.get(ph) ?? 0).toFixed(1)}`)
              .join(', '),
            share: row.selfMsPerStep / res.stepMsProfiled,
            gflops: flopsTotal > 0 ? flopsTotal / 1e6 / inclForFlops : null,
            gflopPerStep: flopsTotal / S / 1e9,
          }))
          .sort((a, b) => b.selfMsPerStep - a.selfMsPerStep);

        // By implementation.
        const impls = new Map<Impl, number>();
        for (const k of res.kernels) impls.set(k.impl, (impls.get(k.impl) ?? 0) + k.selfMsPerStep);
        impls.set('JS outside kernels', res.jsOutsideKernelsMsPerStep);
        res.byImpl = [...impls.entries()].map(([impl, ms]) => ({ impl, msPerStep: ms, share: ms / res.stepMsProfiled })).sort((a, b) => b.msPerStep - a.msPerStep);

        // By phase.
        const wallOf: Record<Phase, number | null> = {
          forward: phaseWall.forward != null ? phaseWall.forward / S : null,
          loss: phaseWall['forward+loss'] != null && phaseWall.forward != null ? (phaseWall['forward+loss'] - phaseWall.forward) / S : null,
          backward: phaseWall.backward != null ? phaseWall.backward / S : null,
          optimizer: phaseWall.optimizer != null ? phaseWall.optimizer / S : null,
          step: null,
        };
        const inPhases = (['forward', 'loss', 'backward', 'optimizer'] as const).reduce((a, ph) => a + (wallOf[ph] ?? 0), 0);
        wallOf.step = res.stepMsProfiled - inPhases;
        res.byPhase = PHASES.map((phase) => {
          const ks = top.filter((r) => r.phase === phase);
          const kernelMs = ks.reduce((a, r) => a + r.ms, 0) / S;
          const wall = wallOf[phase];
          return { phase, wallMsPerStep: wall, kernelMsPerStep: kernelMs, topLevelCalls: ks.length / S, jsMsPerStep: wall != null ? wall - kernelMs : null };
        });

        // The compute calls of the last step, one by one.
        res.calls = last
          .filter((r) => r.flops > 0)
          .map((r) => ({
            kernel: r.parent ? `${r.parent} › ${r.key}` : r.key,
            phase: r.phase,
            shapes: shapesText(r),
            ms: r.ms,
            gflop: r.flops / 1e9,
            gflops: r.flops / 1e6 / r.ms,
          }));
        res.stepGflop = last.filter((r) => r.parent == null).reduce((a, r) => a + r.flops, 0) / 1e9;
        // The gradient of the input images: tfjs' fused conv (and matMul) ops compute every input's
        // gradient in one customGrad, whether the input needs one or not.
        const inputShape = [batch, data.height, data.width, data.channels].join('x');
        const flatShape = [batch, data.height * data.width * data.channels].join('x');
        const inputGrads = all.filter((r) => r.parent == null && r.phase === 'backward' && r.flops > 0 && (r.out.join('x') === inputShape || r.out.join('x') === flatShape));
        res.inputGradMsPerStep = inputGrads.reduce((a, r) => a + r.ms, 0) / S;
        res.inputGradCalls = [...new Set(inputGrads.map((r) => `${r.key}: ${shapesText(r)}`))];
        console.log(
          `  profiled: ${res.stepMsProfiled.toFixed(2)} ms/step, kernels ${res.kernelMsPerStep.toFixed(2)} ms (${res.topLevelCallsPerStep} top-level + ${res.nestedCallsPerStep} nested calls), JS outside kernels ${res.jsOutsideKernelsMsPerStep.toFixed(2)} ms; ${res.stepGflop.toFixed(3)} GFLOP/step`,
        );

        // 4. Micro-benchmarks of the step's compute calls (unwrapped kernels).
        hooks.restore();
        prof.restore();
        if (micro) {
          const groups = new Map<string, { rec: CallRecord; count: number; ms: number }>();
          for (const r of last) {
            if (!COMPUTE.has(r.name)) continue;
            const sig = signature(r);
            const g = groups.get(sig);
            if (g) {
              g.count++;
              g.ms += r.ms;
            } else groups.set(sig, { rec: r, count: 1, ms: r.ms });
          }
          let idx = 0;
          for (const { rec, count, ms } of groups.values()) {
            const id = `${presetId}#${idx++}`;
            const kernel = tf.getKernel(rec.name, 'wasm')?.kernelFunc;
            if (!kernel) continue;
            const flops = rec.flops;
            const variant = (label: string, t: { ms: number; reps: number }): MicroVariant => ({ label, ms: t.ms, reps: t.reps, gflops: flops / 1e6 / t.ms });
            const variants: MicroVariant[] = [];
            const budget = microSeconds * 1000;
            const transposes = rec.key.includes('ᵀ');
            variants.push(variant('as in the step (fresh operands)', timeKernel(backend, kernel, rec.inputs, rec.attrs, true, budget)));
            if (XNN_GEMM.has(rec.name) && !transposes) {
              variants.push(variant('XNNPACK operator cached (same operands)', timeKernel(backend, kernel, rec.inputs, rec.attrs, false, budget)));
            }
            if (rec.name === 'BatchMatMul' && transposes && stockBatchMatMul) {
              variants.push(variant('stock tfjs-wasm (C++ loop with the transpose)', timeKernel(backend, stockBatchMatMul, rec.inputs, rec.attrs, true, budget)));
              const pre = new Set<string>();
              if (rec.attrs.transposeA === true) pre.add('a');
              if (rec.attrs.transposeB === true) pre.add('b');
              const noT = { ...rec.attrs, transposeA: false, transposeB: false };
              variants.push(variant('XNNPACK on pre-transposed operands (no Transpose)', timeKernel(backend, stockBatchMatMul, rec.inputs, noT, true, budget, pre)));
              variants.push(variant('XNNPACK on pre-transposed operands, operator cached', timeKernel(backend, stockBatchMatMul, rec.inputs, noT, false, budget, pre)));
            }
            if (rec.name === 'Conv2DBackpropInput' && rec.parent == null) {
              if (stockConvInput) variants.push(variant('stock tfjs-wasm Conv2DBackpropInput (C++ loop)', timeKernel(backend, stockConvInput, rec.inputs, rec.attrs, true, budget)));
              // Our other formulation: dy·Wᵀ with BatchMatMul, then col2im in JS (what stride > 1 uses).
              wasmConvPaths.inputGrad = 'matmul';
              try {
                variants.push(variant('ours, forced BatchMatMul + col2im (JS)', timeKernel(backend, kernel, rec.inputs, rec.attrs, true, budget)));
              } finally {
                wasmConvPaths.inputGrad = 'auto';
              }
            }
            if (rec.name === 'Conv2DBackpropFilter' && rec.parent == null) {
              // Both formulations (auto picks 'swapped' when Co < Ci at stride 1): which operand XNNPACK packs
              // as the "filter" (dy for normal, x for swapped) decides the operator-creation cost.
              for (const path of ['normal', 'swapped'] as const) {
                wasmConvPaths.filterGrad = path;
                try {
                  variants.push(variant(`ours, forced '${path}' formulation`, timeKernel(backend, kernel, rec.inputs, rec.attrs, true, budget)));
                } finally {
                  wasmConvPaths.filterGrad = 'auto';
                }
              }
            }
            const torchSpec = rec.parent == null ? torchOpFor(id, rec) : null;
            if (torchSpec) torchOps.push(torchSpec);
            res.micro.push({
              id,
              kernel: rec.parent ? `${rec.parent} › ${rec.key}` : rec.key,
              shapes: shapesText(rec),
              callsPerStep: count,
              inStepMs: ms / count,
              gflop: flops / 1e9,
              variants,
              torchSpec,
            });
          }
          console.log(`  micro-benchmarks: ${res.micro.length} shapes`);
        }
      } finally {
        if (prof.active) prof.active = false;
        prof.restore();
        hooks.restore();
      }
    } catch (e) {
      res.error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      console.error(`${presetId}: ${res.error}`);
    }
    optimizer.dispose();
    built.model.dispose();
    results.push(res);
  }

  // 5. PyTorch on the same shapes, and its whole step.
  let torchInfo: { torch?: string; error?: string } = {};
  if (micro && torchOps.length > 0 && python) {
    console.log(`PyTorch (1 thread) on ${torchOps.length} shapes…`);
    const t = runTorch(python, torchOps, microSeconds);
    torchInfo = { torch: t.torch, error: t.error };
    for (const r of results)
      for (const m of r.micro) {
        const v = m.torchSpec ? t.results[m.id] : undefined;
        m.torch = typeof v === 'number' && m.torchSpec ? { op: m.torchSpec.kind, ms: v, gflops: (m.gflop * 1e3) / v } : null;
      }
  }
  const torchStep = python && !flag('no-torch-step') ? (console.log('PyTorch whole step (scripts/torch_bench.py --quick)…'), runTorchStep(python, presets, batch)) : { error: 'skipped' };

  const result = {
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '',
    node: process.version,
    tfjs: tf.version.tfjs,
    wasmSimd: simd,
    wasmThreads: threads,
    loadAvgStart: load0,
    loadAvgEnd: os.loadavg(),
    runSeconds: (performance.now() - t00) / 1000,
    batch,
    seconds,
    profileSteps,
    microSeconds,
    python,
    torch: torchInfo,
    torchStep,
    ourKernels: [...ourKernels],
    presets: results,
    tensorsAfter: tf.memory().numTensors,
  };
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(`done in ${result.runSeconds.toFixed(0)} s; tensors left: ${result.tensorsAfter}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
