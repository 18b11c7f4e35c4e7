#!/usr/bin/env node
/**
 * `npm run bench:wasm-profile`: where a WASM training step goes (#19, "The CPU path"). Builds
 * src/bench/wasmProfile.ts for Node (vite, SSR build, into .bench/wasm-profile/) and runs it: per preset,
 * images/s of the app's step on tfjs-backend-wasm (SIMD, one thread), a per-kernel breakdown of a step
 * (self times, nested calls, phases, JS outside kernels), allocation churn, micro-benchmarks of every
 * convolution and matrix product at the step's shapes (GFLOP/s; XNNPACK operator fresh vs cached; the
 * stock kernels we replace), and PyTorch (1 thread) on the same shapes and on the whole step
 * (scripts/torch_bench.py) when a python with torch is there.
 *
 * Writes bench/wasm-profile.json and bench/wasm-profile.md. The "Findings" section of an existing
 * bench/wasm-profile.md (between the <!-- findings --> markers) is kept: it is written by hand.
 *
 *   node scripts/bench-wasm-profile.mjs [--no-build] [--presets default,wiki-5-layer,dense] [--seconds 4]
 *        [--profile-steps 4] [--profile-seconds 2] [--micro-seconds 0.4] [--no-micro] [--python /usr/bin/python3 | ''] [--no-torch-step]
 *        [--report-only]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const OUT_JSON = 'bench/wasm-profile.json';
const OUT_MD = 'bench/wasm-profile.md';
const passOn = args.filter((a) => a !== '--no-build' && a !== '--report-only');

if (!args.includes('--report-only')) {
  if (!args.includes('--no-build')) {
    const { build } = await import('vite');
    // Our own inline config (not vite.config.ts): no React plugin, no public/ copy, its own folder under .bench.
    await build({
      configFile: false,
      logLevel: 'warn',
      build: { ssr: 'src/bench/wasmProfile.ts', outDir: '.bench/wasm-profile', emptyOutDir: true, copyPublicDir: false, target: 'node20', sourcemap: true },
    });
  }
  mkdirSync('bench', { recursive: true });
  const r = spawnSync(process.execPath, ['--enable-source-maps', '.bench/wasm-profile/wasmProfile.js', '--out', OUT_JSON, ...passOn], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const res = JSON.parse(readFileSync(OUT_JSON, 'utf8'));
const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—');
const pct = (x) => (Number.isFinite(x) ? `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%` : '—');
const sig = (x) => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? fmt(x, 0) : Math.abs(x) >= 10 ? fmt(x, 1) : Math.abs(x) >= 1 ? fmt(x, 2) : fmt(x, 3)) : '—');
const load = (l) => (l ? l.map((v) => v.toFixed(2)).join(' / ') : '?');

const torchImg = (preset) => {
  const r = res.torchStep?.results?.[preset];
  if (!r) return null;
  const one = r['1']?.imagesPerSec;
  const two = r['2']?.imagesPerSec;
  return { one, two, best: Math.max(one ?? 0, two ?? 0) || null };
};

const L = [];
L.push('# Where a WASM training step goes (#19, "The CPU path")');
L.push('');
L.push(`- Date: ${res.date}; ${res.cpus} × ${res.cpuModel}; Node ${res.node}; tfjs ${res.tfjs} wasm, SIMD ${res.wasmSimd}, threads ${res.wasmThreads} (one thread, as in the app's worker without cross-origin isolation)`);
L.push(`- Load average (1/5/15 min) at start ${load(res.loadAvgStart)}, at end ${load(res.loadAvgEnd)} — a shared 2-core machine: timings are noisy (±10-20%)`);
L.push(`- Made by \`node scripts/bench-wasm-profile.mjs\` (src/bench/wasmProfile.ts) in ${fmt(res.runSeconds, 0)} s: batch ${res.batch}, MNIST, each preset's optimizer (Adam) and loss (BCE), the app's model builder, kernels (registerTrainingKernels), flat optimizer and step (variantStep → trainStep). Throughput: steps for ${res.seconds} s after 3 warm-up steps, no instrumentation. Breakdown: mean of ${res.presets.map((p) => `${p.profileSteps} (${p.preset})`).join(', ')} steps with every wasm kernel wrapped in a timer.`);
if (res.torch?.torch || res.torchStep?.torch) L.push(`- PyTorch ${res.torch?.torch ?? res.torchStep?.torch} (${res.python}) on the CPU; micro-benchmarks with torch.set_num_threads(1), NCHW; whole step: scripts/torch_bench.py --quick (1 and 2 threads).`);
else L.push(`- PyTorch: ${res.torch?.error ?? res.torchStep?.error ?? 'not run'}`);
L.push('');

L.push('## Step time');
L.push('');
L.push('"JS outside kernels" = step time − time inside the kernels (top-level calls): tfjs-layers, the tape, tidy, tensor bookkeeping, uploads. The profiled step is slower than the plain one by the wrappers\' cost (~1-2 µs a call) and noise.');
L.push('');
L.push('| Model | Params | ms/step (mean; median) | images/s | PyTorch CPU images/s (1 thr / 2 thr) | Ours / best PyTorch | Profiled ms/step | In kernels (ms) | JS outside kernels (ms, share) | Kernel calls/step (top / nested) | JS µs per top-level call | GFLOP/step (conv+GEMM) | Effective GFLOP/s | PyTorch 1-thr effective GFLOP/s |');
L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const p of res.presets) {
  const t = torchImg(p.preset);
  L.push(
    `| ${p.preset} | ${p.params.toLocaleString('en-US')} | ${fmt(p.stepMs, 2)}; ${fmt(p.stepMsMedian, 2)} | ${fmt(p.imagesPerSec, 0)} | ${t ? `${fmt(t.one, 0)} / ${fmt(t.two, 0)}` : '—'} | ${t?.best ? `${fmt(p.imagesPerSec / t.best, 2)}×` : '—'} | ${fmt(p.stepMsProfiled, 2)} | ${fmt(p.kernelMsPerStep, 2)} | ${fmt(p.jsOutsideKernelsMsPerStep, 2)} (${pct(p.jsOutsideKernelsMsPerStep / p.stepMsProfiled)}) | ${fmt(p.topLevelCallsPerStep, 0)} / ${fmt(p.nestedCallsPerStep, 0)} | ${fmt(p.usPerTopLevelCall, 1)} | ${fmt(p.stepGflop, 3)} | ${fmt(p.stepGflop / (p.stepMs / 1000), 1)} | ${t?.one ? fmt((p.stepGflop * t.one) / res.batch, 1) : '—'} |`,
  );
}
L.push('');

L.push('## By implementation');
L.push('');
L.push('Self times (a kernel that calls others is charged only its own code). "XNNPACK conv/GEMM": wasm\'s Conv2D, FusedConv2D, depthwise, BatchMatMul and _FusedMatMul without transposes (incl. XNNPACK operator creation and weight packing, which happen inside the call). "XNNPACK other": binary ops, pooling, clamp, sigmoid, PReLU. "wasm C++": tfjs-wasm\'s own loops (Transpose, Sum, Step, Log, Neg, Slice, Concat, Select…). "our JS": the JavaScript of our registered kernels (kernels.ts: layout loops, overlapping-window MaxPoolGrad, slice copies). "our SIMD wasm": calls that ran our own SIMD module (src/train/worker/simd: one-channel convolutions, few-channel filter gradients, MaxPoolGrad of disjoint windows, upsampling, matrix products, the fused Adam step and binary cross-entropy).');
L.push('');
const impls = ['XNNPACK conv/GEMM', 'XNNPACK other', 'wasm C++ (not XNNPACK)', 'our JS', 'our SIMD wasm', 'JS outside kernels'];
L.push(`| Model | ${impls.join(' | ')} |`);
L.push(`|---|${impls.map(() => '---:').join('|')}|`);
for (const p of res.presets) {
  const cell = (i) => {
    const r = p.byImpl.find((b) => b.impl === i);
    return r ? `${fmt(r.msPerStep, 2)} (${pct(r.share)})` : '—';
  };
  L.push(`| ${p.preset} | ${impls.map(cell).join(' | ')} |`);
}
L.push('');

L.push('## By phase');
L.push('');
L.push('Wall time of each phase (forward: model.apply; loss: the rest of the engine\'s forward tidy; backward: the engine\'s backward tidy; optimizer: applyGradients; "rest of step": batch upload, tape set-up, disposal), the time in kernels called in it, and the JavaScript around them.');
L.push('');
L.push('| Model | Phase | Wall ms | Kernels ms | Top-level kernel calls | JS ms |');
L.push('|---|---|---:|---:|---:|---:|');
for (const p of res.presets) {
  for (const ph of p.byPhase) {
    L.push(`| ${p.preset} | ${ph.phase === 'step' ? 'rest of step' : ph.phase} | ${fmt(ph.wallMsPerStep, 2)} | ${fmt(ph.kernelMsPerStep, 2)} | ${fmt(ph.topLevelCalls, 0)} | ${fmt(ph.jsMsPerStep, 2)} |`);
  }
}
L.push('');

L.push('## Allocation churn per step');
L.push('');
L.push('wasm buffers made (backend.move: every kernel output and every upload from JS, each a malloc and later a free), their size, uploads (tensors made from JS values: the batch, scalars such as the learning rate or clip bounds), tensors created (engine ids; reshapes and clones included), and tensors left over (should be 0).');
L.push('');
L.push('| Model | wasm buffers | MiB allocated | Uploads | Upload KiB | Tensors created | Tensors left over | wasm heap so far (MiB) |');
L.push('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const p of res.presets) {
  const a = p.alloc;
  L.push(`| ${p.preset} | ${fmt(a.buffersPerStep, 0)} | ${fmt(a.mbPerStep, 1)} | ${fmt(a.uploadsPerStep, 0)} | ${fmt(a.uploadKbPerStep, 1)} | ${fmt(a.tensorsPerStep, 0)} | ${fmt(a.tensorsLeakedPerStep, 1)} | ${fmt(a.heapMb, 0)} |`);
}
L.push('');

L.push('## Kernels per model');
L.push('');
L.push('Self ms per step (nested calls as "Parent › Child"; BatchMatMul/_FusedMatMul tagged with their transposes), calls per phase, MiB of outputs per step (Reshape\'s share its input\'s buffer; every other kernel writes a new one), and GFLOP/s over the whole call for convolutions and matrix products. Rows under 1% of the step are summed at the end.');
for (const p of res.presets) {
  L.push('');
  L.push(`### ${p.preset} (${fmt(p.stepMsProfiled, 2)} ms/step profiled)`);
  L.push('');
  L.push('| Kernel | Implementation | Calls per step (by phase) | Self ms | Share | Incl. ms | MiB out | GFLOP/step | GFLOP/s |');
  L.push('|---|---|---|---:|---:|---:|---:|---:|---:|');
  const big = p.kernels.filter((k) => k.share >= 0.01);
  const small = p.kernels.filter((k) => k.share < 0.01);
  for (const k of big) {
    L.push(`| ${k.kernel} | ${k.impl} | ${k.phases} | ${fmt(k.selfMsPerStep, 2)} | ${pct(k.share)} | ${fmt(k.inclMsPerStep, 2)} | ${fmt(k.mbOutPerStep, 1)} | ${k.gflopPerStep > 0 ? fmt(k.gflopPerStep, 3) : ''} | ${k.gflops != null ? fmt(k.gflops, 1) : ''} |`);
  }
  if (small.length > 0) {
    const ms = small.reduce((a, k) => a + k.selfMsPerStep, 0);
    const calls = small.reduce((a, k) => a + k.callsPerStep, 0);
    const mb = small.reduce((a, k) => a + k.mbOutPerStep, 0);
    L.push(`| ${small.length} others (${small.slice(0, 8).map((k) => k.kernel).join(', ')}${small.length > 8 ? ', …' : ''}) | | ${fmt(calls, 0)} calls | ${fmt(ms, 2)} | ${pct(ms / p.stepMsProfiled)} | | ${fmt(mb, 1)} | | |`);
  }
  L.push(`| JS outside kernels | | | ${fmt(p.jsOutsideKernelsMsPerStep, 2)} | ${pct(p.jsOutsideKernelsMsPerStep / p.stepMsProfiled)} | | | | |`);
}
L.push('');

L.push('## Convolutions and matrix products, call by call (last profiled step)');
for (const p of res.presets) {
  L.push('');
  L.push(`### ${p.preset}`);
  L.push('');
  L.push('| Kernel | Phase | Shapes | ms | GFLOP | GFLOP/s |');
  L.push('|---|---|---|---:|---:|---:|');
  for (const c of p.calls) L.push(`| ${c.kernel} | ${c.phase} | ${c.shapes} | ${sig(c.ms)} | ${fmt(c.gflop, 4)} | ${fmt(c.gflops, 1)} |`);
}
L.push('');

L.push('## Micro-benchmarks at the step\'s shapes');
L.push('');
L.push(`Each distinct convolution / matrix product call of a step replayed alone on the unwrapped kernels, median of ≥ 3 reps (≥ ${res.microSeconds} s). "Fresh operands": new input tensors every call, as in training, where every weight is a new tensor after each update and every activation and gradient is new: XNNPACK's operator (keyed on the filter / B tensor) is created every call, packing (and, for conv, first transposing) that operand. "Cached": the same operands every call, so the operator is reused. PyTorch: one thread, NCHW, the same op (conv2d; aten.convolution_backward for the input and weight gradients; mm/addmm with the same transposes), with glibc malloc held in its steady state (MALLOC_MMAP_THRESHOLD_ etc.: run alone, every large temporary is a fresh mmap whose page faults cost more than the op on this VM).`);
for (const p of res.presets) {
  L.push('');
  L.push(`### ${p.preset}`);
  L.push('');
  L.push('| Kernel | Shapes | Calls/step | In step ms | GFLOP | Variant | ms | GFLOP/s | PyTorch 1-thr ms | PyTorch GFLOP/s | Ours (as in step) / PyTorch time |');
  L.push('|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|');
  for (const m of p.micro) {
    m.variants.forEach((v, i) => {
      const first = i === 0;
      L.push(
        `| ${first ? m.kernel : ''} | ${first ? m.shapes : ''} | ${first ? m.callsPerStep : ''} | ${first ? sig(m.inStepMs) : ''} | ${first ? fmt(m.gflop, 4) : ''} | ${v.label} | ${sig(v.ms)} | ${fmt(v.gflops, 1)} | ${first && m.torch ? sig(m.torch.ms) : ''} | ${first && m.torch ? fmt(m.torch.gflops, 1) : ''} | ${first && m.torch ? `${fmt(v.ms / m.torch.ms, 1)}×` : ''} |`,
      );
    });
  }
}
L.push('');

L.push('## Summary: the step\'s convolutions and matrix products at each rate');
L.push('');
L.push('Top-level compute calls of one step (what the model needs): their time inside the step, the same calls replayed alone (fresh operands; cached operator), and PyTorch on the same shapes (1 thread); "rest of step" = step − compute calls in the step. "Input-image gradient": backward calls whose output is the gradient of the input batch, which training does not need (tfjs\' fused conv2d computes the gradients of all its inputs in one customGrad).');
L.push('');
L.push('"XNNPACK arithmetic floor": the XNNPACK calls the compute kernels come down to (top-level, or nested in our Conv2DBackpropFilter/Input and BatchMatMul with transposes) at their cached-operator times, without operator creation, weight packing, layout transposes or JS: what these formulations cost with free data movement.');
L.push('');
L.push('| Model | Step ms | Compute calls in step ms | Rest of step ms | Replayed, fresh ms | In step / replayed | XNNPACK arithmetic floor ms | PyTorch same ops ms | PyTorch whole step ms (1 thr) | Input-image gradient ms |');
L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const p of res.presets) {
  const top = p.micro.filter((m) => !m.kernel.includes(' › '));
  const inStep = top.reduce((a, m) => a + m.inStepMs * m.callsPerStep, 0);
  const fresh = top.reduce((a, m) => a + (m.variants[0]?.ms ?? NaN) * m.callsPerStep, 0);
  // Leaf XNNPACK calls at their cached-operator time: top-level XNNPACK kernels, the XNNPACK calls nested in
  // our composite kernels, and the transposed matrix products on pre-transposed operands.
  const cachedOf = (m) => m.variants.find((v) => v.label.includes('cached'))?.ms;
  const composite = (m) => /^Conv2DBackprop(Filter|Input)(\(|$)/.test(m.kernel);
  const cached = p.micro.filter((m) => !composite(m) && !/› Transpose/.test(m.kernel)).reduce((a, m) => a + (cachedOf(m) ?? m.variants[0]?.ms ?? NaN) * m.callsPerStep, 0);
  const torchMs = top.every((m) => m.torch) ? top.reduce((a, m) => a + m.torch.ms * m.callsPerStep, 0) : NaN;
  const t = torchImg(p.preset);
  L.push(
    `| ${p.preset} | ${fmt(p.stepMsProfiled, 2)} | ${fmt(inStep, 2)} | ${fmt(p.stepMsProfiled - inStep, 2)} | ${fmt(fresh, 2)} | ${fmt(inStep / fresh, 2)}× | ${fmt(cached, 2)} | ${fmt(torchMs, 2)} | ${t?.one ? fmt((1000 * res.batch) / t.one, 2) : '—'} | ${p.inputGradMsPerStep > 0 ? `${fmt(p.inputGradMsPerStep, 2)} (${p.inputGradCalls.join('; ')})` : '0'} |`,
  );
}
L.push('');

L.push('## Levers: time per step that each change could remove');
L.push('');
L.push('Derived from the tables above (profiled step; the micro-benchmarks for the first and last columns). Overlaps: operator creation is part of the XNNPACK calls\' time (also of the floor\'s complement); the input-image gradient is whole calls (its XNNPACK time, creation and JS included); the other columns are disjoint self times. The floor is what the XNNPACK arithmetic of the step\'s convolutions and matrix products costs in these formulations, i.e. what stays if every other column went to zero.');
L.push('');
L.push('| Model | Profiled step ms | XNNPACK operator creation + packing (replayed fresh − cached) | Layout Transposes inside our kernels | Our kernels\' JS | Identity copies (tensors saved for the tape) | Input-image gradient | Optimizer phase kernels | JS outside kernels | XNNPACK arithmetic floor |');
L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const p of res.presets) {
  let creation = 0;
  for (const m of p.micro) {
    const fresh = m.variants[0]?.ms;
    const cached = m.variants.find((v) => v.label === 'XNNPACK operator cached (same operands)')?.ms;
    const preFresh = m.variants.find((v) => v.label === 'XNNPACK on pre-transposed operands (no Transpose)')?.ms;
    const preCached = m.variants.find((v) => v.label === 'XNNPACK on pre-transposed operands, operator cached')?.ms;
    if (cached != null && fresh != null) creation += Math.max(0, fresh - cached) * m.callsPerStep;
    else if (preFresh != null && preCached != null) creation += Math.max(0, preFresh - preCached) * m.callsPerStep;
  }
  const selfOf = (pred) => p.kernels.filter(pred).reduce((a, k) => a + k.selfMsPerStep, 0);
  const transposes = selfOf((k) => k.kernel.endsWith('› Transpose'));
  const ourJs = p.byImpl.find((b) => b.impl === 'our JS')?.msPerStep ?? 0;
  const identity = selfOf((k) => k.kernel === 'Identity');
  const opt = p.byPhase.find((b) => b.phase === 'optimizer')?.kernelMsPerStep ?? NaN;
  const cachedOf = (m) => m.variants.find((v) => v.label.includes('cached'))?.ms;
  const composite = (m) => /^Conv2DBackprop(Filter|Input)(\(|$)/.test(m.kernel);
  const floor = p.micro.filter((m) => !composite(m) && !/› Transpose/.test(m.kernel)).reduce((a, m) => a + (cachedOf(m) ?? m.variants[0]?.ms ?? NaN) * m.callsPerStep, 0);
  const cell = (ms) => `${fmt(ms, 2)} (${pct(ms / p.stepMsProfiled)})`;
  L.push(`| ${p.preset} | ${fmt(p.stepMsProfiled, 2)} | ${cell(creation)} | ${cell(transposes)} | ${cell(ourJs)} | ${cell(identity)} | ${cell(p.inputGradMsPerStep)} | ${cell(opt)} | ${cell(p.jsOutsideKernelsMsPerStep)} | ${cell(floor)} |`);
}
L.push('');

const FINDINGS_START = '<!-- findings -->';
const FINDINGS_END = '<!-- /findings -->';
let findings = `${FINDINGS_START}\n## Findings\n\n(Written by hand from a run's numbers; kept when the tables are regenerated.)\n${FINDINGS_END}`;
if (existsSync(OUT_MD)) {
  const old = readFileSync(OUT_MD, 'utf8');
  const a = old.indexOf(FINDINGS_START);
  const b = old.indexOf(FINDINGS_END);
  if (a >= 0 && b > a) findings = old.slice(a, b + FINDINGS_END.length);
}
const md = `${L.join('\n')}\n${findings}\n`;
writeFileSync(OUT_MD, md);
console.log(`wrote ${OUT_JSON} and ${OUT_MD}`);
