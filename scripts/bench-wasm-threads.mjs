#!/usr/bin/env node
// `npm run bench:wasm-threads`: what multi-threaded WASM gives the app (#19, the CPU path). Runs the app's
// worker loop on WASM (scripts/bench.mjs, live views on, as a user trains) for the three models, round by
// round, served with COOP/COEP (cross-origin isolated: the worker's thread plan, src/model/wasmThreadPlan.ts)
// and without them (--no-isolation: tfjs-wasm's one-thread build everywhere), then PyTorch on the CPU
// (best of 1 and 2 threads) once; writes bench/wasm-threads.md and bench/wasm-threads.json. ~8 min on 2 cores.
//
// Usage: node scripts/bench-wasm-threads.mjs [--rounds 2] [--no-build] [--out bench]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const ROUNDS = Number(option('rounds', '2'));
const OUT = path.resolve(ROOT, option('out', 'bench'));
const MODELS = ['default', 'wiki-5-layer', 'dense'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wasm-threads-'));
const log = (s) => console.log(`[wasm-threads] ${s}`);

function bench(tag, extra) {
  const out = path.join(tmp, tag);
  const args = ['scripts/bench.mjs', '--backends', 'wasm', '--models', MODELS.join(','), '--out', out, ...extra];
  log(`node ${args.join(' ')}`);
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench.mjs ${tag} exited ${r.status}`);
  return JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
}

const runs = [];
let built = argv.includes('--no-build');
for (let round = 0; round < ROUNDS; round++) {
  for (const isolated of [true, false]) {
    const skip = ['plain', 'views', 'memory', 'kernels', ...(round === ROUNDS - 1 && !isolated ? [] : ['torch'])];
    const r = bench(`r${round}-${isolated ? 'iso' : 'plain'}`, [...(built ? ['--no-build'] : []), '--skip', skip.join(','), ...(isolated ? [] : ['--no-isolation'])]);
    built = true;
    runs.push({ round, isolated, results: r });
  }
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x) => (x == null ? '—' : Math.round(x).toLocaleString('en-US'));
const torch = runs.find((r) => r.results.torch?.results)?.results.torch ?? null;
const rows = MODELS.map((model) => {
  const cells = (isolated) => runs.filter((r) => r.isolated === isolated).map((r) => r.results.worker.find((c) => c.model === model) ?? {});
  const iso = cells(true);
  const plain = cells(false);
  const perRound = iso.map((c, i) => (c.imagesPerSec && plain[i]?.imagesPerSec ? c.imagesPerSec / plain[i].imagesPerSec : null));
  const t = torch?.results?.[model] ?? {};
  const torchBest = Math.max(...Object.values(t).map((v) => v.imagesPerSec ?? 0));
  const isoMedian = median(iso.map((c) => c.imagesPerSec));
  const plainMedian = median(plain.map((c) => c.imagesPerSec));
  return {
    model,
    threads: iso.map((c) => c.wasmThreads ?? null),
    threadsWithout: plain.map((c) => c.wasmThreads ?? null),
    isolated: iso.map((c) => c.imagesPerSec ?? null),
    notIsolated: plain.map((c) => c.imagesPerSec ?? null),
    gainPerRound: perRound,
    torch: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.imagesPerSec])),
    torchBest: torchBest > 0 ? torchBest : null,
    best: Math.max(isoMedian ?? 0, plainMedian ?? 0) || null,
    errors: [...iso, ...plain].map((c) => c.error).filter(Boolean),
  };
});

const result = { date: new Date().toISOString(), rounds: ROUNDS, machine: { cpuModel: os.cpus()[0]?.model?.trim(), cpus: os.cpus().length }, rows };
fs.mkdirSync(OUT, { recursive: true });
fs.writeFileSync(path.join(OUT, 'wasm-threads.json'), JSON.stringify(result, null, 2));
const L = [];
L.push('# Multi-threaded WASM (#19, the CPU path)');
L.push('');
L.push(`- Date: ${result.date}; ${result.machine.cpuModel} × ${result.machine.cpus} logical CPUs; \`npm run bench:wasm-threads\` (${ROUNDS} rounds)`);
L.push('- The app\'s worker loop on WASM (scripts/bench.mjs: live views on, batch 32, 8,992 MNIST images, images/s = median of 3 windows of 3 s), served with COOP/COEP (cross-origin isolated: the worker gives each model the threads of its plan, src/model/wasmThreadPlan.ts, on tfjs-wasm\'s threaded build, or the one-thread build for one thread) and without them (tfjs-wasm\'s one-thread build), alternating round by round. PyTorch: scripts/torch_bench.py on the same machine, CPU, best of 1 and 2 threads.');
L.push('');
L.push('| Model | Threads (isolated) | Isolated, images/s per round | Not isolated, per round | Isolated / not, per round | PyTorch CPU 1 / 2 threads | Best of ours / PyTorch best |');
L.push('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const t = Object.entries(r.torch).map(([, v]) => fmt(v)).join(' / ') || '—';
  L.push(`| ${r.model} | ${r.threads.join(', ')} | ${r.isolated.map(fmt).join(', ')} | ${r.notIsolated.map(fmt).join(', ')} | ${r.gainPerRound.map((g) => (g == null ? '—' : `${g.toFixed(2)}×`)).join(', ')} | ${t} | ${r.best && r.torchBest ? `${(r.best / r.torchBest).toFixed(2)}×` : '—'} |`);
}
const errs = rows.flatMap((r) => r.errors.map((e) => `${r.model}: ${e}`));
if (errs.length) L.push('', 'Errors:', ...errs.map((e) => `- ${e}`));
fs.writeFileSync(path.join(OUT, 'wasm-threads.md'), `${L.join('\n')}\n`);
log(`wrote ${path.relative(ROOT, path.join(OUT, 'wasm-threads.md'))}`);
console.log(L.join('\n'));
