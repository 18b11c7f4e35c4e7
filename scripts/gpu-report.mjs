#!/usr/bin/env node
// Writes bench/<DIR>-results.md (bench/gpu-results.md for the default bench/gpu) from what `bash scripts/gpu-bench.sh run DIR` left in DIR (default
// bench/gpu): webgpu-node.json (tfjs WebGPU in Node on Dawn) and torch-cuda-b*.json (PyTorch CUDA).
//
//   node scripts/gpu-report.mjs [DIR]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dir = path.resolve(ROOT, process.argv[2] ?? 'bench/gpu');
const read = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const fmt = (v) => (v == null ? '—' : v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(a / b < 0.1 ? 3 : 2)}×` : '—');

const web = read('webgpu-node.json');
const torch = Object.fromEntries(
  fs
    .readdirSync(dir)
    .filter((f) => /^torch-cuda-b\d+\.json$/.test(f) && fs.statSync(path.join(dir, f)).size > 0)
    .map((f) => {
      const t = read(f);
      return [t.batchSize, t];
    }),
);
const cell = (preset, batchSize, mode, backend = 'webgpu') =>
  web.cells.find((c) => c.preset === preset && c.batchSize === batchSize && c.mode === mode && (c.backend ?? 'webgpu') === backend);
const torchRate = (preset, batchSize) => {
  const r = torch[batchSize]?.results?.[preset];
  return r ? Object.values(r)[0]?.imagesPerSec ?? null : null;
};
const gpuCells = web.cells.filter((c) => (c.backend ?? 'webgpu') === 'webgpu');
const presets = [...new Set(gpuCells.map((c) => c.preset))];
const batches = [...new Set(gpuCells.map((c) => c.batchSize))];
const anyTorch = Object.values(torch)[0];

const L = [];
// The GPU's name as the adapter gives it (nvidia-h100-80gb-hbm3 -> H100).
const gpuName = (/nvidia-(h\d+|a\d+|l\d+)/i.exec(web.adapter?.device ?? '')?.[1] ?? web.adapter?.device ?? 'GPU').toUpperCase();
L.push(`# Real-GPU results: tfjs WebGPU on an NVIDIA ${gpuName} (Node + Dawn), PyTorch CUDA beside it`);
L.push('');
L.push(`- Date: ${web.date}; ${web.machine.cpus} × ${web.machine.cpuModel}, ${Math.round(web.machine.memGiB)} GiB, ${web.machine.platform}`);
L.push(`- Adapter: ${web.adapter.vendor} ${web.adapter.device} (${web.adapter.description}), Vulkan; tfjs ${web.tfjs} \`${web.backend}\` backend in Node ${web.node} with Dawn's Node binding (npm \`webgpu\`) as \`navigator.gpu\` — no browser on that machine.`);
if (anyTorch) L.push(`- PyTorch ${anyTorch.torch}, ${anyTorch.device}; same layers, Adam, BCE; ${anyTorch.data}.`);
L.push(`- Images/s, median of ${web.windows} windows of ${web.seconds} s after a warm-up. "Loop" = the worker's training loop code (batch uploaded per step, losses read back every 250 ms with one read-back in flight; "views" = 16 reconstructions + codes every 400 ms, or less often to stay under ~4% of the time, as the app does: src/train/cadence.ts); "fit" = plain \`model.fit\` with the data on the GPU. Tensors after each cell: ${[...new Set(web.cells.map((c) => c.tensorsAfter))].join(', ')}.`);
L.push(`- The loop's optimizer: ${web.loopOptimizer ?? 'stock tf.train.adam — this run predates the flat optimizer, which the app now trains with (about half the kernel launches per step; not yet measured on a GPU)'}; model.fit: stock tf.train.adam.`);
L.push(`- Made by \`bash scripts/gpu-bench.sh prepare\` here, \`bash scripts/gpu-bench.sh run OUT\` there (device tool), \`node scripts/gpu-report.mjs ${path.relative(ROOT, dir)}\`. Raw: ${path.relative(ROOT, dir)}/.`);
L.push('');
// Runs since #19 also time the loop on tfjs' stock kernels (the fused path switched off): "Loop, stock".
const hasStock = web.cells.some((c) => c.mode === 'loop-stock');
L.push(`| Model | Batch | Loop, views on | Loop, views off |${hasStock ? ' Loop, stock kernels | Fused / stock |' : ''} model.fit | Loop / fit | PyTorch CUDA | Loop / PyTorch |`);
L.push(`|---|---:|---:|---:|${hasStock ? '---:|---:|' : ''}---:|---:|---:|---:|`);
for (const b of batches) {
  for (const p of presets) {
    const on = cell(p, b, 'loop')?.imagesPerSec;
    const off = cell(p, b, 'loop-no-views')?.imagesPerSec;
    const stock = cell(p, b, 'loop-stock')?.imagesPerSec;
    const fit = cell(p, b, 'fit')?.imagesPerSec;
    const t = torchRate(p, b);
    L.push(`| ${p} | ${b} | ${fmt(on)} | ${fmt(off)} |${hasStock ? ` ${fmt(stock)} | ${ratio(on, stock)} |` : ''} ${fmt(fit)} | ${ratio(on, fit)} | ${fmt(t)} | ${ratio(on, t)} |`);
  }
}
const wasmCells = web.cells.filter((c) => c.backend === 'wasm');
if (wasmCells.length) {
  L.push('');
  L.push(`Auto's rule on this machine: it picks WebGPU (a hardware adapter). The same loop (views on, batch 32) on the machine's CPU through WASM (SIMD ${web.wasm?.simd ? 'on' : 'off'}, one thread as in the app without cross-origin isolation):`);
  L.push('');
  L.push(`| Model | WebGPU (${gpuName}) | WASM (one CPU thread) | WebGPU / WASM | Faster |`);
  L.push('|---|---:|---:|---:|---|');
  for (const p of presets) {
    const g = cell(p, 32, 'loop')?.imagesPerSec;
    const w = cell(p, 32, 'loop', 'wasm')?.imagesPerSec;
    L.push(`| ${p} | ${fmt(g)} | ${fmt(w)} | ${ratio(g, w)} | ${g && w ? (g >= w ? 'WebGPU (Auto\'s pick)' : 'WASM') : '—'} |`);
  }
}
const errors = web.cells.filter((c) => c.error);
if (errors.length) {
  L.push('');
  for (const c of errors) L.push(`- ${c.backend ?? 'webgpu'} ${c.preset} b${c.batchSize} ${c.mode}: ${c.error}`);
}
L.push('');
// The report goes beside the raw files' folder: bench/gpu -> bench/gpu-results.md, bench/gpu-h200 -> bench/gpu-h200-results.md.
const out = path.join(path.dirname(dir), `${path.basename(dir) === 'gpu' ? 'gpu' : path.basename(dir)}-results.md`);
fs.writeFileSync(out, L.join('\n'));
console.log(`wrote ${path.relative(ROOT, out)}`);
