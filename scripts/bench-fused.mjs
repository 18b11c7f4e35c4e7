#!/usr/bin/env node
/**
 * `npm run bench:fused`: fused vs stock WebGPU training steps (#19) in Node (src/bench/fusedNode.ts),
 * on Dawn's Node binding. Without a GPU it runs on SwiftShader, the Vulkan driver Debian's Chromium
 * ships (software: the numbers are dispatch counts and relative speed, not GPU speed). Writes
 * bench/fused-results.json and bench/fused-results.md.
 *
 *   node scripts/bench-fused.mjs [--presets default,wiki-5-layer,dense] [--batches 32] [--steps 3]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
execFileSync('npx', ['vite', 'build', '--ssr', 'src/bench/fusedNode.ts', '--outDir', '.bench', '--emptyOutDir', '--logLevel', 'warn'], { stdio: 'inherit' });
const env = { ...process.env };
const chromiumDir = process.env.CHROMIUM_LIB_DIR ?? '/usr/lib/chromium';
if (!process.env.VK_ICD_FILENAMES && existsSync(`${chromiumDir}/vk_swiftshader_icd.json`)) {
  env.VK_ICD_FILENAMES = `${chromiumDir}/vk_swiftshader_icd.json`;
  env.LD_LIBRARY_PATH = [chromiumDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
}
const out = 'bench/fused-results.json';
const r = spawnSync(process.execPath, ['.bench/fusedNode.js', '--out', out, ...args], { stdio: 'inherit', env });
if (r.status !== 0) process.exit(r.status ?? 1);

const res = JSON.parse(readFileSync(out, 'utf8'));
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—');
const rows = [];
const keys = [...new Set(res.cells.map((c) => `${c.preset}|${c.batch}`))];
for (const key of keys) {
  const [preset, batch] = key.split('|');
  const f = res.cells.find((c) => c.preset === preset && String(c.batch) === batch && c.kernels === 'fused');
  const s = res.cells.find((c) => c.preset === preset && String(c.batch) === batch && c.kernels === 'stock');
  if (!f || !s) continue;
  rows.push(
    `| ${preset} | ${batch} | ${s.dispatchesPerStep} | ${f.dispatchesPerStep} | ${fmt(s.dispatchesPerStep / f.dispatchesPerStep)}× | ${fmt(s.msPerStep, 0)} | ${fmt(f.msPerStep, 0)} | ${fmt(s.imagesPerSec)} | ${fmt(f.imagesPerSec)} | ${fmt(f.imagesPerSec / s.imagesPerSec)}× | ${fmt(s.lossAfter, 4)} / ${fmt(f.lossAfter, 4)} |`,
  );
}
const md = `# Fused vs stock WebGPU training steps

- Date: ${res.date}; adapter: ${res.adapter}; ${res.cpus} × ${res.cpuModel}; Node ${res.node}; tfjs ${res.tfjs}
- Made by \`npm run bench:fused\` (scripts/bench-fused.mjs, src/bench/fusedNode.ts): tfjs-backend-webgpu in Node on Dawn's Node binding; same model, weights and MNIST batches for both; ${res.steps} timed steps after one warm-up step (capped in time), the GPU synchronised after every step, so "ms/step" includes the device's time. "Stock": the app's step on tfjs' kernels (flat optimizer, our registered kernels); "fused": the fused path (src/train/fused).
- Loss: the model's loss on the first batch after the steps (both paths train the same weights on the same batches, so the two should be close).
- Tensors left after all cells: ${res.tensorsAfter}.

| Model | Batch | Dispatches/step stock | fused | Fewer | ms/step stock | fused | images/s stock | fused | Speed-up | Loss after (stock / fused) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|
${rows.join('\n')}

Fused ops:
${[...new Set(res.cells.filter((c) => c.fusedOps).map((c) => `- ${c.preset}: ${c.fusedOps}`))].join('\n')}
`;
writeFileSync('bench/fused-results.md', md);
console.log(md);
