/**
 * Fused vs stock WebGPU training steps (#19), in Node: tfjs-backend-webgpu on Dawn's Node binding (npm
 * `webgpu`) — over SwiftShader where there is no GPU (scripts/bench-fused.mjs points the Vulkan loader at
 * Chromium's), or a real GPU's Vulkan driver. For each preset and batch size, with the same model,
 * weights and batches:
 * - stock: the app's step on tfjs' own kernels (training.ts trainStep with the flat optimizer, our
 *   registered kernels, as the app trains on WebGPU without the fused path);
 * - fused: the fused path (src/train/worker/fusedTrainer.ts), as the app trains now.
 * Reported per step: compute dispatches (counted by wrapping GPUComputePassEncoder.dispatchWorkgroups),
 * milliseconds with the GPU synchronised after every step (so the device's time is in it), images/s,
 * and the loss after the timed steps (both paths train the same model on the same batches).
 *
 *   node .bench/fused-node.mjs [--presets default,wiki-5-layer,dense] [--batches 32] [--steps 3] [--out file.json]
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import { decodeDataset } from '../data/decode';
import { findPreset } from '../model/presets';
import type { ExperimentSpec } from '../model/spec';
import type * as T from '@tensorflow/tfjs';

interface Cell {
  preset: string;
  batch: number;
  kernels: 'stock' | 'fused';
  dispatchesPerStep: number;
  msPerStep: number;
  stepsTimed: number;
  firstStepMs: number;
  imagesPerSec: number;
  lossAfter: number;
  fusedOps?: string;
  /** Fused: the slowest dispatches, each timed alone. */
  profile?: string[];
  error?: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const presets = arg('presets', 'default,wiki-5-layer,dense').split(',');
  const batches = arg('batches', '32').split(',').map(Number);
  const steps = Number(arg('steps', '3'));
  const maxSeconds = Number(arg('max-seconds', '120'));
  const out = arg('out', '');
  const dataPath = arg('data', 'public/data/mnist.bin.gz');

  const dawn = (await import('webgpu')) as unknown as { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: `node ${process.version}` }, configurable: true });
  Object.defineProperty(globalThis, 'window', { value: globalThis, configurable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter (is a Vulkan driver there? scripts/bench-fused.mjs points at Chromium’s SwiftShader)');
  const adapterName = `${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.device} ${adapter.info.description}`.trim();

  // Count compute dispatches: tfjs' and ours both go through GPUComputePassEncoder.dispatchWorkgroups.
  const passProto = (globalThis as unknown as { GPUComputePassEncoder: { prototype: GPUComputePassEncoder } }).GPUComputePassEncoder.prototype;
  const original = passProto.dispatchWorkgroups;
  let dispatches = 0;
  passProto.dispatchWorkgroups = function (this: GPUComputePassEncoder, x: number, y?: number, z?: number) {
    dispatches++;
    return original.call(this, x, y, z);
  };

  const tf: typeof T = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-webgpu');
  const { buildModel } = await import('../train/worker/buildModel');
  const { makeTrainingOptimizer, trainStep, pixelsOf } = await import('../train/worker/training');
  const { FusedTrainer } = await import('../train/worker/fusedTrainer');
  const { registerTrainingKernels } = await import('../train/worker/kernels');
  if (!(await tf.setBackend('webgpu'))) throw new Error('tf.setBackend("webgpu") failed');
  await tf.ready();
  registerTrainingKernels();
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;

  const data = decodeDataset(new Uint8Array(gunzipSync(readFileSync(dataPath))));
  const order = Uint32Array.from({ length: 4096 }, (_, i) => i);
  console.log(`adapter: ${adapterName}; tfjs ${tf.version.tfjs} webgpu; ${os.cpus().length} CPUs`);

  const cells: Cell[] = [];
  for (const preset of presets) {
    const p = findPreset(preset);
    if (!p) throw new Error(`unknown preset ${preset}`);
    for (const batch of batches) {
      for (const kernels of ['fused', 'stock'] as const) {
        const spec: ExperimentSpec = { ...structuredClone(p.spec), batchSize: batch, backend: 'webgpu' };
        const inputShape = [28, 28, 1];
        const built = buildModel(spec, inputShape);
        const optimizer = makeTrainingOptimizer(spec);
        const fused = kernels === 'fused' ? FusedTrainer.create(spec, built.model, inputShape) : null;
        if (kernels === 'fused' && !fused?.trainer) throw new Error(`${preset}: no fused path (${fused?.report.detail})`);
        const trainer = fused?.trainer ?? null;
        const step = async (i: number): Promise<number> => {
          const px = pixelsOf(data, order, (i * batch) % 4096, (i * batch) % 4096 + batch);
          const before = dispatches;
          let loss: T.Scalar;
          if (trainer) {
            loss = trainer.step(px, batch, optimizer, spec.learningRate);
          } else {
            const x = tf.tensor4d(px, [batch, 28, 28, 1]);
            loss = trainStep(optimizer, spec, built.model, x);
            x.dispose();
          }
          await loss.data();
          loss.dispose();
          await device.queue.onSubmittedWorkDone();
          return dispatches - before;
        };
        const cell: Cell = { preset, batch, kernels, dispatchesPerStep: 0, msPerStep: 0, stepsTimed: 0, firstStepMs: 0, imagesPerSec: 0, lossAfter: NaN };
        if (fused?.trainer) cell.fusedOps = fused.report.detail;
        try {
          const t0 = performance.now();
          await step(0); // shader compilation and first allocations
          cell.firstStepMs = performance.now() - t0;
          const counts: number[] = [];
          const t1 = performance.now();
          let i = 1;
          while (i <= steps && (performance.now() - t1) / 1000 < maxSeconds) counts.push(await step(i++));
          cell.stepsTimed = counts.length;
          cell.msPerStep = (performance.now() - t1) / counts.length;
          cell.dispatchesPerStep = Math.round(counts.reduce((a, b) => a + b, 0) / counts.length);
          cell.imagesPerSec = (1000 * batch) / cell.msPerStep;
          const xe = tf.tensor4d(pixelsOf(data, order, 0, batch), [batch, 28, 28, 1]);
          const { lossFn } = await import('../train/worker/training');
          const le = tf.tidy(() => lossFn(spec, xe, built.model.predict(xe) as T.Tensor));
          cell.lossAfter = (await le.data())[0];
          tf.dispose([xe, le]);
          if (trainer) {
            const prof = await trainer.profile(pixelsOf(data, order, 0, batch), batch);
            cell.profile = prof.sort((a, b) => b.ms - a.ms).slice(0, 8).map((p) => `${p.label} ${p.ms.toFixed(1)} ms`);
            console.log(`  slowest fused dispatches: ${cell.profile.join('; ')}`);
          }
        } catch (e) {
          cell.error = e instanceof Error ? e.message : String(e);
        }
        trainer?.dispose();
        optimizer.dispose();
        built.model.dispose();
        cells.push(cell);
        console.log(
          `${preset} batch ${batch} ${kernels}: ${cell.dispatchesPerStep} dispatches/step, ${cell.msPerStep.toFixed(1)} ms/step (${cell.stepsTimed} steps; first ${cell.firstStepMs.toFixed(0)} ms), ${cell.imagesPerSec.toFixed(1)} images/s, loss after ${cell.lossAfter.toFixed(4)}${cell.error ? ` ERROR ${cell.error}` : ''}`,
        );
      }
    }
  }
  const result = { date: new Date().toISOString(), adapter: adapterName, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? '', node: process.version, tfjs: tf.version.tfjs, steps, cells, tensorsAfter: tf.memory().numTensors };
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(`tensors left: ${result.tensorsAfter}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
