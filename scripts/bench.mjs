#!/usr/bin/env node
// `npm run bench`: measures the playground in headless Chromium (the flags of playwright.config.ts)
// and writes bench/results.json and bench/results.md.
//
//   1. training throughput of the app's worker loop, driven through the UI like a user, per model × backend;
//   2. the same model trained with plain model.fit on the main thread (bench.html), and the ratio;
//   3. the cost of the live views (the app's Live views switch on vs off, alternating windows);
//   4. main-thread responsiveness while training (long tasks > 50 ms, requestAnimationFrame rate);
//   5. tensor memory after each of 20 epochs of the tiny preset on wasm;
//   6. the share of a wasm training step spent in our custom kernels (kernelStats);
//   7. a native yardstick: scripts/torch_bench.py (PyTorch on the CPU) when torch imports.
//
// Usage: node scripts/bench.mjs [--quick] [--no-build] [--port 4174] [--models a,b] [--backends a,b]
//                               [--skip worker,plain,views,memory,kernels,torch] [--out bench] [--report-only]
//                               [--torch-only] [--no-isolation]
// --report-only: rewrite results.md from results.json. --torch-only: rerun only the PyTorch yardstick and
// merge it into results.json (then rewrite results.md), e.g. after the machine's BLAS changed.
// --quick: a ~2 min smoke run (short windows; every model on wasm, the default model on cpu).
// Every cell that fails records its error and the bench goes on. The full run takes ~21 min on 2 cores.
// PyTorch: `python3` (or Debian's /usr/bin/python3, where apt's python3-torch lives) must import torch.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
const list = (name, fallback) => option(name, fallback.join(',')).split(',').map((s) => s.trim()).filter(Boolean);

const QUICK = flag('quick');
const NO_ISOLATION = flag('no-isolation');
const MODELS = list('models', ['default', 'wiki-5-layer', 'dense']);
const BACKENDS = list('backends', ['webgpu', 'webgl', 'wasm', 'cpu']);
const SKIP = new Set(list('skip', []));
const OUT = path.resolve(ROOT, option('out', 'bench'));
const BATCH = 32;
/** 281 full batches of 32: every step is a full batch (the worker's last batch of an epoch is otherwise smaller). */
const TRAIN_IMAGES = 8992;
const STEPS_PER_EPOCH = Math.ceil(TRAIN_IMAGES / BATCH);

/**
 * Timings (s). windows: timed windows per cell (interleaved cells: `viewPairs` rounds of views on, views off,
 * model.fit); startCap: from Train to the first loss read-back (backend start, data, first step with its
 * shader compilation); measureCap: timed windows of one worker cell; plainCap: one model.fit cell.
 */
const T = QUICK
  ? { warmupS: 1.5, windowS: 2, windows: 2, viewPairs: 1, startCapS: 15, measureCapS: 8, plainCapS: 10, kernelSteps: { default: 5, 'wiki-5-layer': 2, dense: 5 }, kernelWarmup: 2, slowPlainBelow: 2 }
  : { warmupS: 3, windowS: 3, windows: 3, viewPairs: 5, startCapS: 40, measureCapS: 90, plainCapS: 90, kernelSteps: { default: 20, 'wiki-5-layer': 5, dense: 20 }, kernelWarmup: 3, slowPlainBelow: 2 };

/**
 * Which (model, backend) cells to run, in run order: wasm first (Auto's pick here, the numbers that
 * matter most), then the small models on cpu, webgl, webgpu, and the 64-kernel model on those last
 * (on SwiftShader its first step compiles for a minute, and the GPU process stays busy after the page
 * closes). --quick runs every model on wasm and the default model on cpu, unless --models/--backends
 * name the cells.
 */
const RUN_ORDER = ['wasm', 'cpu', 'webgl', 'webgpu'];
const isSlow = ({ model, backend }) => model === 'wiki-5-layer' && backend !== 'wasm';
/**
 * Cells measured interleaved (worker with views on, off, then model.fit, round by round, so a change in
 * the machine's load hits all three): all but the slowest here (SwiftShader WebGPU's conv models run a
 * few images/s; the 64-kernel model anywhere but wasm), which get one worker cell then one model.fit cell.
 */
const interleave = (c) => !isSlow(c) && !(c.backend === 'webgpu' && c.model !== 'dense');
const ALL_CELLS = RUN_ORDER.filter((b) => BACKENDS.includes(b)).flatMap((backend) => MODELS.map((model) => ({ model, backend })));
const CELLS = [...ALL_CELLS.filter((c) => !isSlow(c)), ...ALL_CELLS.filter(isSlow)].filter(
  ({ model, backend }) => !QUICK || argv.includes('--backends') || argv.includes('--models') || backend === 'wasm' || (model === 'default' && backend === 'cpu'),
);

const MODEL_LABEL = {
  default: 'Default conv AE (16-4 filters, 7×7×4 code)',
  'wiki-5-layer': '5-layer conv AE, 64 kernels + batch norm',
  dense: 'Dense AE 784-256-32-256-784',
};

const started = Date.now();
const log = (msg) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const errorText = (e) => (e instanceof Error ? e.message.split('\n')[0] : String(e));
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
async function withTimeout(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${(ms / 1000).toFixed(0)} s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Browser flags: the ones playwright.config.ts gives Chromium (read from the file, so they stay the same).

function chromiumArgs() {
  const fallback = [
    '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader',
    '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
  ];
  try {
    const src = fs.readFileSync(path.join(ROOT, 'playwright.config.ts'), 'utf8');
    const block = /CHROMIUM_ARGS\s*=\s*\[([\s\S]*?)\]/.exec(src);
    const args = block ? [...block[1].matchAll(/'([^']+)'|"([^"]+)"/g)].map((m) => m[1] ?? m[2]) : [];
    return args.length > 0 ? args : fallback;
  } catch {
    return fallback;
  }
}
const CHROMIUM = process.env.CHROMIUM_PATH ?? process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH ?? '/usr/bin/chromium';

// ---------------------------------------------------------------------------------------------
// Build and serve.

function build() {
  // The production build (as users get it): long tasks and throughput are measured on what ships.
  log('building the app (vite build --mode production)…');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--mode', 'production', '--logLevel', 'warn'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status})`);
}

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function freePort(preferred) {
  for (let p = preferred; p < preferred + 40; p++) if (await portFree(p)) return p;
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function startPreview(port) {
  const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`vite preview exited: ${output.trim()}`);
    try {
      const r = await fetch(`${base}/bench.html`);
      if (r.ok) return { child, base };
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  child.kill('SIGTERM');
  throw new Error(`vite preview did not answer on ${base}: ${output.trim()}`);
}

// ---------------------------------------------------------------------------------------------
// In-page probes (run in every page before its own scripts).

/** Records frames (rAF), long tasks and the arrival of each loss read-back in the app. */
function installProbe() {
  const P = { frames: [], longtasks: [], slowFrames: [], arrivals: [], lastStep: -1, longtaskError: null };
  window.__benchProbe = P;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        // A long task's attribution names only its frame (container); long-animation-frame entries, where the
        // browser has them, name the scripts: both are kept, the longest task's go into the report.
        const where = (e.attribution ?? []).map((a) => [a.containerType, a.containerName || a.containerSrc].filter(Boolean).join(' ')).filter(Boolean);
        P.longtasks.push([e.startTime, e.duration, [e.name, ...where].join('; ')]);
      }
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) {
    P.longtaskError = String(e);
  }
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (e.duration < 50) continue;
        const scripts = (e.scripts ?? [])
          .slice()
          .sort((a, b) => b.duration - a.duration)
          .slice(0, 3)
          .map((sc) => `${sc.invoker || '?'} → ${sc.sourceFunctionName || '(anonymous)'} ${(sc.sourceURL || '').split('/').pop()}:${sc.sourceCharPosition} ${Math.round(sc.duration)} ms`);
        P.slowFrames.push([e.startTime, e.duration, scripts.join(' | ') || `no script: style, layout, paint (render ${Math.round(e.duration - (e.renderStart ? e.renderStart - e.startTime : 0))} ms)`]);
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  } catch {
    // long-animation-frame is Chromium-only (123+): it only adds detail.
  }
  const frame = () => {
    P.frames.push(performance.now());
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  setInterval(() => {
    const hooks = window.__aePlayground;
    if (!hooks) return;
    const s = hooks.snapshot();
    const n = s.trainLoss.length;
    const step = n > 0 ? s.trainLoss[n - 1].step : 0;
    if (step !== P.lastStep) {
      P.arrivals.push([performance.now(), step, s.imagesPerSec]);
      P.lastStep = step;
    }
  }, 20);
}

/** Main-thread stats over [t0, t1] (page clock): frames per second and long tasks. */
function pageStatsFn({ t0, t1 }) {
  const P = window.__benchProbe;
  const secs = Math.max(1e-3, (t1 - t0) / 1000);
  const frames = P.frames.filter((t) => t >= t0 && t <= t1).length;
  const tasks = P.longtasks.filter(([s]) => s >= t0 && s <= t1);
  const longest = tasks.reduce((a, t) => (!a || t[1] > a[1] ? t : a), null);
  // The slow animation frame that holds the longest task, for its scripts.
  const frame = longest ? P.slowFrames.find(([fs, fd]) => fs <= longest[0] + 1 && longest[0] <= fs + fd) : null;
  return {
    longTaskMax: longest ? { ms: longest[1], atS: (longest[0] - t0) / 1000, attribution: longest[2], scripts: frame ? frame[2] : null } : null,
    fps: frames / secs,
    longTasks: tasks.length,
    longTaskMs: tasks.reduce((a, [, d]) => a + d, 0),
    longTaskMaxMs: tasks.reduce((a, [, d]) => Math.max(a, d), 0),
    longTaskError: P.longtaskError,
  };
}

/**
 * One timed window of the worker loop, in the page (the Live views switch is set before): waits at least `ms` and until two loss read-backs arrived in the
 * window (at most `maxMs`), and returns the training rate from the read-back arrivals (steps × batch
 * over wall time, leaving out intervals that contain an epoch end and its test evaluation), the
 * worker's own images/s figures, the frame rate and the long tasks.
 */
async function windowFn({ ms, maxMs, hide, batch, stepsPerEpoch }) {
  const P = window.__benchProbe;
  const t0 = performance.now();
  const inWindow = () => P.arrivals.filter(([t]) => t >= t0);
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const el = performance.now() - t0;
    if ((el >= ms && inWindow().length >= 2) || el >= maxMs) break;
  }
  const t1 = performance.now();
  const arr = inWindow();
  let steps = 0;
  let secs = 0;
  let excluded = 0;
  for (let i = 1; i < arr.length; i++) {
    const [ta, sa] = arr[i - 1];
    const [tb, sb] = arr[i];
    // An epoch ends at step k·stepsPerEpoch, then the worker evaluates the test split: leave that out.
    if (Math.floor(sa / stepsPerEpoch) !== Math.floor(sb / stepsPerEpoch) || (sa % stepsPerEpoch === 0 && sa > 0)) {
      excluded++;
      continue;
    }
    steps += sb - sa;
    secs += (tb - ta) / 1000;
  }
  const workerRates = arr.map((a) => a[2]).filter((v) => v > 0);
  const sorted = workerRates.sort((a, b) => a - b);
  return {
    hidden: hide,
    seconds: (t1 - t0) / 1000,
    arrivals: arr.length,
    steps,
    excludedIntervals: excluded,
    imagesPerSec: secs > 0 ? (steps * batch) / secs : null,
    workerImagesPerSec: sorted.length ? sorted[Math.floor(sorted.length / 2)] : null,
    t0,
    t1,
  };
}

// ---------------------------------------------------------------------------------------------
// Cells.

async function closePage(page) {
  await withTimeout(page.close(), 20_000, 'page.close').catch(() => {});
}

async function openApp(context, base) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(errorText(e)));
  await page.goto(`${base}/`);
  await page.getByLabel('Preset').waitFor();
  return { page, errors };
}

async function snapshot(page) {
  return page.evaluate(() => window.__aePlayground.snapshot());
}

async function configure(page, { preset, backend, epochs, trainSize, batchSize, liveViews = true }) {
  await page.getByLabel('Preset').selectOption(preset);
  if (!liveViews) await page.getByLabel('Live views').setChecked(false);
  if (batchSize) await page.getByLabel('Batch size').fill(String(batchSize));
  await page.getByLabel('Epochs').fill(String(epochs));
  await page.getByLabel('Training images').fill(String(trainSize));
  await page.getByLabel('Backend').selectOption(backend);
  const train = page.getByRole('button', { name: 'Train' });
  if (!(await train.isEnabled())) {
    const why = await page.locator('#train-blocker').textContent().catch(() => null);
    throw new Error(`Train is disabled: ${why ?? 'unknown reason'}`);
  }
  await train.click();
}

/** Waits for a phase in `phases` (or an error), up to `ms`. */
async function waitPhase(page, phases, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const s = await snapshot(page);
    if (phases.includes(s.phase)) return s;
    if (s.phase === 'error') throw new Error(`training failed: ${await page.locator('.phase').textContent().catch(() => 'error')}`);
    if (Date.now() > end) throw new Error(`phase '${s.phase}' after ${(ms / 1000).toFixed(0)} s, waiting for ${phases.join('/')}`);
    await sleep(200);
  }
}

/** The phase line and any alert of the app, for error messages. */
async function appStatus(page) {
  const phase = await page.locator('.phase').first().textContent({ timeout: 2000 }).catch(() => null);
  const alerts = (await page.getByRole('alert').allTextContents().catch(() => [])).map((a) => a.replace(/\s*✕\s*$/, '').trim());
  return [phase, ...alerts].filter(Boolean).join(' | ');
}

/**
 * Opens the app, trains `model` on `backend` through the UI (Preset, Batch size, Epochs, Training
 * images, Backend, Train) and waits for the first loss read-back, then `warmupS`. Fills `cell`.
 */
async function startTraining(context, base, model, backend, cell, liveViews = true) {
  const app = await openApp(context, base);
  const { page } = app;
  await configure(page, { preset: model, backend, epochs: 1000, trainSize: TRAIN_IMAGES, batchSize: BATCH, liveViews });
  const t0 = Date.now();
  let wasActive = false;
  for (;;) {
    const s = await snapshot(page);
    if (s.phase === 'error') throw new Error(`training failed: ${await appStatus(page)}`);
    if (['loading', 'building', 'training'].includes(s.phase)) wasActive = true;
    else if (wasActive && s.phase === 'idle') throw new Error(`the run stopped: ${await appStatus(page)}`);
    if (s.trainLoss.length > 0) {
      cell.actualBackend = s.backend;
      break;
    }
    if (Date.now() - t0 > T.startCapS * 1000) {
      cell.upperBound = BATCH / T.startCapS;
      throw new Error(`no training step finished within ${T.startCapS} s (phase ${s.phase})`);
    }
    await sleep(100);
  }
  cell.firstStepS = (Date.now() - t0) / 1000;
  cell.reason = await page.getByTestId('backend-reason').textContent({ timeout: 2000 }).catch(() => null);
  if (backend === 'wasm') {
    const kernels = page.getByTestId('kernel-path');
    cell.wasmThreads = Number(await kernels.getAttribute('data-threads', { timeout: 5000 }).catch(() => null)) || null;
    cell.kernels = await kernels.getAttribute('title', { timeout: 2000 }).catch(() => null);
  }
  if (cell.actualBackend !== backend) throw new Error(`${backend} is not available: the app ran ${cell.actualBackend} (${cell.reason})`);
  await sleep(T.warmupS * 1000);
  return { ...app, t0 };
}

async function measureWindow(page, hide, maxMs) {
  // The app's own switch: off, the worker computes no reconstructions or codes mid-epoch and the chart stops redrawing.
  const live = page.getByLabel('Live views');
  if ((await live.isChecked()) === hide) {
    await live.setChecked(!hide);
    await sleep(300);
  }
  const w = await withTimeout(
    page.evaluate(windowFn, { ms: T.windowS * 1000, maxMs, hide, batch: BATCH, stepsPerEpoch: STEPS_PER_EPOCH }),
    maxMs + 15_000,
    'window',
  );
  return Object.assign(w, await page.evaluate(pageStatsFn, { t0: w.t0, t1: w.t1 }));
}

function responsiveness(ws) {
  const secs = ws.reduce((a, w) => a + w.seconds, 0);
  if (secs <= 0) return null;
  const n = ws.reduce((a, w) => a + w.longTasks, 0);
  return {
    seconds: secs,
    fps: ws.reduce((a, w) => a + w.fps * w.seconds, 0) / secs,
    longTasks: n,
    longTasksPerSec: n / secs,
    longTaskMs: ws.reduce((a, w) => a + w.longTaskMs, 0),
    longTaskMaxMs: ws.reduce((a, w) => Math.max(a, w.longTaskMaxMs), 0),
    longTaskMax: ws.map((w) => w.longTaskMax).reduce((a, t) => (t && (!a || t.ms > a.ms) ? t : a), null),
  };
}

/** Worker-loop throughput, frame rate and long tasks from a cell's windows (views on, and off if any). */
function summarizeWindows(cell) {
  const visible = cell.windows.filter((w) => !w.hidden);
  const hidden = cell.windows.filter((w) => w.hidden);
  cell.imagesPerSec = median(visible.map((w) => w.imagesPerSec));
  cell.workerImagesPerSec = median(visible.map((w) => w.workerImagesPerSec));
  cell.responsiveness = responsiveness(visible);
  if (hidden.length) {
    cell.hiddenImagesPerSec = median(hidden.map((w) => w.imagesPerSec));
    cell.responsivenessHidden = responsiveness(hidden);
  }
  return visible;
}

/**
 * Training throughput of the app's worker loop in the slow cells, driven through the UI, with Live views
 * off: model.fit computes no views, and here a views pass (its own batch shape) first compiles its own
 * shaders on SwiftShader for tens of seconds, more than a 40 s cap can spread. The views' cost is measured
 * in the interleaved cells.
 */
async function workerCell(context, base, model, backend) {
  const cell = { model, backend, load1: os.loadavg()[0], windows: [], viewsOff: true };
  let app = null;
  try {
    app = await startTraining(context, base, model, backend, cell, false);
    const { page } = app;
    const measureStart = Date.now();
    for (let i = 0; i < T.windows; i++) {
      const left = T.measureCapS * 1000 - (Date.now() - measureStart);
      if (i > 0 && left < T.windowS * 1000 * 0.5) {
        cell.capped = true;
        break;
      }
      cell.windows.push(await measureWindow(page, false, Math.max(T.windowS * 1000, left)));
    }
    const visible = summarizeWindows(cell);
    if (visible.filter((w) => w.imagesPerSec !== null).length < Math.min(2, visible.length)) {
      // Too slow for timed windows (a step takes seconds): every read-back since measuring began (after
      // the warm-up), or since the first step if that is all there is.
      const all = await page.evaluate(() => window.__benchProbe.arrivals.map(([t, s]) => [t, s]));
      const after = all.filter(([t]) => t >= visible[0].t0);
      const use = after.length >= 2 ? after : all;
      if (use.length >= 2) {
        const [ta, sa] = use[0];
        const [tb, sb] = use[use.length - 1];
        cell.imagesPerSec = ((sb - sa) * BATCH) / ((tb - ta) / 1000);
        cell.note = `capped: too slow for timed windows; ${sb - sa} steps over ${((tb - ta) / 1000).toFixed(1)} s ${after.length >= 2 ? 'after the warm-up' : 'since the first step'}`;
      } else {
        cell.imagesPerSec = null;
        cell.upperBound = BATCH / Math.max(1, (Date.now() - app.t0) / 1000);
        cell.note = `capped: fewer than 2 loss read-backs in ${((Date.now() - app.t0) / 1000).toFixed(0)} s`;
      }
    }
  } catch (e) {
    cell.error = errorText(e);
  } finally {
    if (app?.errors.length) cell.pageErrors = app.errors;
    if (app) await closePage(app.page);
  }
  return cell;
}

/**
 * The worker loop with live views on, with them off, and plain model.fit
 * on bench.html, interleaved round by round so that a change in the machine's load hits all three.
 * The app is paused (its Pause button) while model.fit runs, and the bench page idles while the worker trains.
 */
async function interleavedCell(context, base, model, backend) {
  const cell = { model, backend, load1: os.loadavg()[0], windows: [], interleaved: true };
  const plain = { model, backend, load1: cell.load1, windows: [], interleaved: true };
  let app = null;
  let bench = null;
  const withViews = !SKIP.has('views');
  try {
    app = await startTraining(context, base, model, backend, cell);
    const pauseApp = async () => {
      await app.page.getByRole('button', { name: 'Pause' }).click();
      await waitPhase(app.page, ['paused'], 30_000);
    };
    const resumeApp = async () => {
      await app.page.bringToFront();
      await app.page.getByRole('button', { name: 'Resume' }).click();
      await waitPhase(app.page, ['training'], 30_000);
      await sleep(300);
    };
    if (!SKIP.has('plain')) {
      await pauseApp();
      bench = await openBench(context, base);
      const prep = await withTimeout(
        bench.page.evaluate((args) => window.__bench.prepareFit(args), { preset: model, backend, batchSize: BATCH, trainSize: TRAIN_IMAGES }),
        (T.startCapS + 20) * 1000,
        'prepareFit',
      );
      Object.assign(plain, { backend: prep.backend, reason: prep.reason, warmupMs: prep.warmupMs, batchSize: BATCH, capped: false });
      await resumeApp();
    }
    for (let round = 0; round < T.viewPairs; round++) {
      cell.windows.push({ round, ...(await measureWindow(app.page, false, T.windowS * 1000 * 4)) });
      if (withViews) cell.windows.push({ round, ...(await measureWindow(app.page, true, T.windowS * 1000 * 4)) });
      if (bench) {
        await pauseApp();
        await bench.page.bringToFront();
        const w = await withTimeout(bench.page.evaluate((secs) => window.__bench.fitWindow(secs), T.windowS), T.windowS * 1000 * 6 + 10_000, 'fitWindow');
        Object.assign(w, await bench.page.evaluate(pageStatsFn, { t0: w.t0, t1: w.t1 }), { round });
        plain.windows.push(w);
        if (round < T.viewPairs - 1) await resumeApp();
      }
    }
    summarizeWindows(cell);
    if (bench) {
      plain.imagesPerSec = median(plain.windows.map((w) => w.imagesPerSec));
      plain.finalLoss = plain.windows[plain.windows.length - 1]?.loss ?? null;
      plain.responsiveness = responsiveness(plain.windows);
    }
  } catch (e) {
    cell.error = errorText(e);
    if (!plain.imagesPerSec) plain.error = `interleaved with the worker loop: ${cell.error}`;
  } finally {
    if (app?.errors.length) cell.pageErrors = app.errors;
    if (bench?.errors.length) plain.pageErrors = bench.errors;
    if (app) await closePage(app.page);
    if (bench) await closePage(bench.page);
  }
  return { cell, plain: SKIP.has('plain') ? null : plain };
}

async function openBench(context, base) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(errorText(e)));
  await page.goto(`${base}/bench.html`);
  await page.waitForFunction(() => window.__bench?.ready === true, null, { timeout: 30_000 });
  return { page, errors };
}

/** Plain model.fit on the bench page's main thread (a cell of its own, after the worker's). */
async function plainCell(context, base, model, backend) {
  const cell = { model, backend, load1: os.loadavg()[0] };
  let opened = null;
  try {
    opened = await openBench(context, base);
    const { page } = opened;
    const r = await withTimeout(
      page.evaluate((args) => window.__bench.plainFit(args), { preset: model, backend, seconds: T.windowS, windows: T.windows, capSeconds: T.plainCapS, batchSize: BATCH, trainSize: TRAIN_IMAGES }),
      (T.plainCapS + 25) * 1000,
      'plainFit',
    );
    Object.assign(cell, r);
    if (r.imagesPerSec === null && r.lowerBound === null) cell.error = 'no timed window completed';
    if (r.windows.length > 0) cell.responsiveness = responsiveness([{ seconds: r.windows.reduce((a, w) => a + w.seconds, 0), ...(await page.evaluate(pageStatsFn, { t0: r.windows[0].t0, t1: r.windows[r.windows.length - 1].t1 })) }]);
  } catch (e) {
    cell.error = errorText(e);
    const timedOut = /timed out after (\d+)/.exec(cell.error);
    if (timedOut) cell.upperBound = BATCH / Number(timedOut[1]);
  } finally {
    if (opened?.errors.length) cell.pageErrors = opened.errors;
    if (opened) await closePage(opened.page);
  }
  return cell;
}

async function memoryCell(context, base) {
  const cell = { preset: 'tiny', backend: 'wasm', trainSize: 64, epochs: 20, batchSize: 'preset (16)' };
  const { page, errors } = await openApp(context, base);
  try {
    await configure(page, { preset: 'tiny', backend: 'wasm', epochs: 20, trainSize: 64 });
    const s = await waitPhase(page, ['done'], 120_000);
    cell.actualBackend = s.backend;
    cell.batchSize = await page.getByLabel('Batch size').inputValue();
    const log = s.memoryLog;
    // One entry per epoch, then one when the run ends.
    cell.perEpoch = log.slice(0, 20);
    cell.afterRun = log.slice(20);
    const t = cell.perEpoch.map((m) => m.numTensors);
    const b = cell.perEpoch.map((m) => m.numBytes);
    cell.tensors = { first: t[0], last: t[t.length - 1], max: Math.max(...t) };
    cell.bytes = { first: b[0], last: b[b.length - 1], max: Math.max(...b) };
    cell.flat = t.length === 20 && t.every((v) => v === t[0]) && b.every((v) => v === b[0]);
  } catch (e) {
    cell.error = errorText(e);
  } finally {
    if (errors.length) cell.pageErrors = errors;
    await closePage(page);
  }
  return cell;
}

async function autoCell(context, base) {
  const cell = {};
  const { page, errors } = await openApp(context, base);
  try {
    await configure(page, { preset: 'tiny', backend: 'auto', epochs: 1, trainSize: 64 });
    const s = await waitPhase(page, ['done'], 90_000);
    cell.backend = s.backend;
    cell.reason = await page.getByTestId('backend-reason').textContent().catch(() => null);
  } catch (e) {
    cell.error = errorText(e);
  } finally {
    if (errors.length) cell.pageErrors = errors;
    await closePage(page);
  }
  return cell;
}

async function benchPageCall(context, base, what, fn, args, timeoutMs) {
  let opened = null;
  try {
    opened = await openBench(context, base);
    const r = await withTimeout(opened.page.evaluate(fn, args), timeoutMs, what);
    return opened.errors.length ? { ...r, pageErrors: opened.errors } : r;
  } catch (e) {
    return { error: errorText(e), ...(opened?.errors.length ? { pageErrors: opened.errors } : {}) };
  } finally {
    if (opened) await closePage(opened.page);
  }
}

// ---------------------------------------------------------------------------------------------
// PyTorch yardstick.

/** BLAS implementations fast enough for a fair yardstick (torch_bench.py's blasKind). */
const FAST_BLAS = ['openblas', 'mkl', 'blis', 'atlas'];

/**
 * Why a PyTorch result must not be compared with ours, or null when it may. Debian's torch is built with
 * BLAS_INFO=generic and calls whatever libblas.so.3 the alternatives system selects: netlib's reference
 * BLAS (libblas3, /usr/lib/x86_64-linux-gnu/blas/libblas.so.3.*) makes its dense layers ~7× slower than
 * OpenBLAS, so a ratio against it flatters us. Older results.json files have no blasKind: the resolved
 * libblas.so.3 path tells.
 */
const torchBlasKind = (t) => t.blasKind ?? (/\/blas\/libblas\.so/.test(t.blasLibrary ?? '') ? 'reference' : /openblas/.test(t.blasLibrary ?? '') ? 'openblas' : 'unknown');

function torchBlasProblem(t) {
  if (!t || t.error) return null;
  const kind = torchBlasKind(t);
  if (FAST_BLAS.includes(kind)) return null;
  if (kind !== 'reference' && t.blas !== 'generic') return null; // e.g. pip's torch: MKL linked in statically
  const lib = t.blasProvider ?? t.blasLoaded?.find((p) => /blas/.test(path.basename(p))) ?? t.blasLibrary ?? 'libblas.so.3';
  return `PyTorch ran on ${kind === 'reference' ? 'the generic reference BLAS' : 'an unidentified BLAS (torch built with BLAS_INFO=generic)'} (${path.basename(lib)}), under which its dense layers run several times slower than with an optimized BLAS, so no ratio is reported. Fix: \`apt-get install libopenblas0\` (or \`update-alternatives --set libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3\`), then \`npm run bench -- --torch-only\``;
}

/**
 * Why a PyTorch result run apart from the browser cells (--torch-only) is not comparable with them, or null:
 * the machine's 1-minute load average then (the worse of its start and end) was over the browser run's
 * plus one, e.g. 3.5 against 2 on 2 cores: then PyTorch shares its core with other work.
 */
function torchLoadProblem(results) {
  const t = results.torch;
  if (!t?.torchOnly || !t.loadStart || !results.machine?.loadStart) return null;
  const torchLoad = Math.max(t.loadStart[0], t.loadEnd?.[0] ?? 0);
  const appLoad = Math.max(results.machine.loadStart[0], results.machine.loadEnd?.[0] ?? 0);
  if (torchLoad <= appLoad + 1) return null;
  return `PyTorch ran apart from the browser cells, at a 1-minute load average of ${torchLoad.toFixed(1)} on ${results.machine.cpus} CPUs against ${appLoad.toFixed(1)} during them, so its numbers are low and the ratio flatters us; rerun \`npm run bench -- --torch-only\` on a quieter machine (or the whole bench)`;
}

function torchCell() {
  const candidates = ['python3', '/usr/bin/python3'];
  const python = candidates.find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
  if (!python) return { error: 'torch not installed' };
  const args = [path.join(ROOT, 'scripts/torch_bench.py'), '--presets', MODELS.join(',')];
  if (QUICK) args.push('--quick');
  else args.push('--seconds', '2');
  const loadStart = os.loadavg();
  const date = new Date().toISOString();
  const r = spawnSync(python, args, { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  const run = { date, loadStart, loadEnd: os.loadavg() };
  if (r.status !== 0) return { error: `torch_bench.py failed (exit ${r.status}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}` };
  try {
    const lines = r.stdout.trim().split('\n');
    return { ...JSON.parse(lines[lines.length - 1]), ...run };
  } catch (e) {
    return { error: `torch_bench.py printed no JSON: ${errorText(e)}`, ...run };
  }
}

// ---------------------------------------------------------------------------------------------
// Report.

const fmt = (v, digits = 3) => {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(digits)).toString();
};
const ratio = (a, b) => (a && b ? a / b : null);
const fmtRatio = (r) => (r === null || r === undefined ? '—' : `${fmt(r, 2)}×`);

/**
 * Interleaved cells: the worker/model.fit ratio per round (each round's worker window against the
 * model.fit window right after it), then the median over rounds — steadier than a ratio of medians on a
 * machine whose load drifts.
 */
function pairedRatio(w, p, hidden) {
  if (!w?.interleaved || !p?.windows?.length) return null;
  return perRound(w.windows.filter((x) => x.hidden === hidden), p.windows);
}

/** Views on / off per round (the on window against the off window of the same round), and the median. */
function viewsPairedRatio(c) {
  const ws = c.windows ?? [];
  return perRound(ws.filter((w) => !w.hidden), ws.filter((w) => w.hidden));
}

/** Windows a and b paired by round: a's rate over b's, per round with both, and their median. */
function perRound(a, b) {
  const per = b
    .map((y) => {
      const x = a.find((w) => w.round !== undefined && w.round === y.round);
      return x?.imagesPerSec && y.imagesPerSec ? x.imagesPerSec / y.imagesPerSec : null;
    })
    .filter((r) => r !== null);
  return per.length ? { median: median(per), rounds: per } : null;
}

function summarize(results) {
  const MODELS = results.models;
  const BACKENDS = results.backends;
  const rows = [];
  for (const model of MODELS) {
    for (const backend of BACKENDS) {
      const w = results.worker.find((c) => c.model === model && c.backend === backend);
      const p = results.plain.find((c) => c.model === model && c.backend === backend);
      if (!w && !p) continue;
      rows.push({
        model,
        backend,
        pairedRatio: pairedRatio(w, p, false),
        pairedRatioOff: pairedRatio(w, p, true),
        worker: w?.imagesPerSec ?? null,
        workerDetached: w?.hiddenImagesPerSec ?? null,
        plain: p?.imagesPerSec ?? null,
        ratio: ratio(w?.imagesPerSec, p?.imagesPerSec),
        ratioDetached: ratio(w?.hiddenImagesPerSec, p?.imagesPerSec),
        workerError: w?.error ?? null,
        plainError: p?.error ?? null,
        workerUpperBound: w?.upperBound ?? null,
        plainUpperBound: p?.upperBound ?? null,
        workerNote: w?.note ?? null,
        workerViewsOff: w?.viewsOff ?? false,
        plainCapped: p?.capped ?? false,
        plainLowerBound: p?.lowerBound ?? null,
        plainSkipped: p?.skipped ?? null,
      });
    }
  }
  const best = {};
  for (const model of MODELS) {
    const cands = rows.filter((r) => r.model === model && r.worker);
    cands.sort((a, b) => b.worker - a.worker);
    const torchRes = results.torch?.results?.[model];
    const torchBest = torchRes ? Object.entries(torchRes).filter(([, v]) => v.imagesPerSec).sort((a, b) => b[1].imagesPerSec - a[1].imagesPerSec)[0] : undefined;
    const blasProblem = torchBlasProblem(results.torch);
    best[model] = cands.length
      ? {
          backend: cands[0].backend,
          imagesPerSec: cands[0].worker,
          torchImagesPerSec: torchBest ? torchBest[1].imagesPerSec : null,
          torchThreads: torchBest ? Number(torchBest[0]) : null,
          // No ratio against a reference BLAS (torchBlasProblem): the yardstick would be ~7× too short on the dense AE.
          vsTorch: torchBest && !blasProblem ? cands[0].worker / torchBest[1].imagesPerSec : null,
          vsTorchRefused: torchBest && blasProblem ? true : undefined,
          vsTorchLoaded: torchBest && !blasProblem && torchLoadProblem(results) ? true : undefined,
        }
      : null;
  }
  return { rows, best };
}

function markdown(results) {
  const { rows, best } = results.summary;
  const T = results.settings;
  const MODELS = results.models;
  const BACKENDS = results.backends;
  const m = results.machine;
  const L = [];
  L.push(`# Benchmark results${results.quick ? ' (quick smoke run — not representative)' : ''}`);
  L.push('');
  L.push(`- Date: ${results.date}`);
  L.push(`- Browser: ${results.browser.version} (headless, \`${results.browser.executable}\`, the flags of playwright.config.ts: WebGPU and WebGL on SwiftShader, i.e. software)`);
  L.push(`- Machine: ${m.cpuModel} × ${m.cpus} logical CPUs, ${m.memoryGiB} GiB RAM, ${m.os}; Node ${m.node}`);
  L.push(`- Load average (1/5/15 min): at start ${m.loadStart.map((v) => v.toFixed(2)).join(' / ')}, at end ${m.loadEnd.map((v) => v.toFixed(2)).join(' / ')} — the machine was shared with other work, so numbers are noisy`);
  const threadCells = (results.worker ?? []).filter((c) => c.backend === 'wasm' && c.wasmThreads != null).map((c) => `${c.model} ${c.wasmThreads}`);
  L.push(`- tfjs ${results.env?.tfjs ?? '?'}; wasm SIMD ${results.env?.wasmSimd ?? '?'}, threaded build at start ${results.env?.wasmThreads ?? "?"} (crossOriginIsolated ${results.env?.crossOriginIsolated ?? '?'}${results.noIsolation ? ', served without COOP/COEP (--no-isolation)' : ''}); XNNPACK threads per model (the worker's plan, src/model/wasmThreadPlan.ts): ${threadCells.length ? threadCells.join(', ') : 'not recorded'}`);
  L.push(`- Batch size ${BATCH}, MNIST, ${TRAIN_IMAGES} training images, Adam, binary cross-entropy. Throughput = median of ${T.windows} windows of ≥ ${T.windowS} s after ${T.warmupS} s of warm-up (interleaved cells: ${T.viewPairs} rounds, below); slow cells capped (${T.startCapS} s to the first step, ~${T.measureCapS} s of measuring, ${T.plainCapS} s per model.fit cell).`);
  L.push(`- Models (app presets): ${MODELS.map((mm) => `\`${mm}\` = ${MODEL_LABEL[mm] ?? mm}`).join('; ')}`);
  L.push(`- Run time: ${(results.durationS / 60).toFixed(1)} min`);
  L.push('');
  L.push('## Training throughput (images/s)');
  L.push('');
  L.push('"Worker loop": the app as a user drives it (Preset, Backend, Epochs, Training images, Train), loss chart and reconstructions on screen; the rate is steps × 32 over wall time between loss read-backs (intervals with an epoch end and its test evaluation left out). "model.fit": plain `model.compile` + `await model.fit(x, x, {batchSize: 32, epochs: 1, shuffle: true})` on the main thread of bench.html, with the app\'s model builder, kernels, backend choice and data (on WASM on one thread: a page\'s main thread may not block for a pthread pool, while the worker loop gets the threads of its plan). The three are interleaved round by round (worker with live views on, with them off, the app paused while model.fit runs), so load changes hit all of them — except for the slowest cells (conv models on SwiftShader WebGPU, the 64-kernel model off wasm), where the model.fit cell runs right after the worker cell. Ratios of interleaved cells are per round (a worker window against the model.fit window right after it; median, and each round in brackets). The worker loop trains with the flat optimizer (src/train/worker/flatOptimizer.ts: the stock Adam on the small weight tensors as one vector); model.fit with the stock tf.train.adam.');
  L.push('');
  L.push('| Model | Backend | Worker loop | model.fit (main thread) | Worker / fit (per round) | Worker, live views off | Views off / fit (per round) |');
  L.push('|---|---|---:|---:|---:|---:|---:|');
  const cellText = (v, upper, error, capped, lower = null, skipped = null) => {
    if (v !== null) return fmt(v) + (capped ? ' ⁽ᶜ⁾' : '');
    if (lower) return `≥ ${fmt(lower, 2)} ⁽ᵇ⁾`;
    if (upper) return `< ${fmt(upper, 2)} ⁽ᵗ⁾`;
    if (skipped) return 'skipped ⁽ˢ⁾';
    return error ? `failed ⁽ᶠ⁾` : '—';
  };
  for (const r of rows) {
    const w = cellText(r.worker, r.workerUpperBound, r.workerError, Boolean(r.workerNote)) + (r.workerViewsOff && !r.workerError ? ' ⁽ᵛ⁾' : '');
    const p = cellText(r.plain, r.plainUpperBound, r.plainError, r.plainCapped, r.plainLowerBound, r.plainSkipped);
    const paired = (pr, plainRatio) => (pr ? `${fmtRatio(pr.median)} (${pr.rounds.map((x) => x.toFixed(2)).join(', ')})` : fmtRatio(plainRatio));
    L.push(`| ${r.model} | ${r.backend} | ${w} | ${p} | ${paired(r.pairedRatio, r.ratio)} | ${fmt(r.workerDetached)} | ${paired(r.pairedRatioOff, r.ratioDetached)} |`);
  }
  L.push('');
  L.push(`⁽ᶜ⁾ capped: too slow for full windows; the figure comes from the few steps that finished. ⁽ᵗ⁾ nothing finished within the cap (on SwiftShader the first step includes shader compilation): an upper bound. ⁽ᵇ⁾ only the first (cold) batch fit in the cap: a lower bound. ⁽ˢ⁾ skipped: the worker loop ran under ${T.slowPlainBelow} images/s here or no step in its cap, so model.fit would be one cold batch. ⁽ᶠ⁾ see Failures. ⁽ᵛ⁾ a slow cell, measured alone: the worker loop with Live views off, as model.fit computes no views (on SwiftShader a views pass first compiles shaders for its own batch shape, for longer than the cap can spread). "Live views off" is measured in the interleaved cells (next sections).`);
  L.push('');
  L.push('## Best backend vs native PyTorch (CPU)');
  L.push('');
  const t = results.torch;
  if (t?.error) L.push(`PyTorch: ${t.error}.`);
  else if (t) {
    const loaded = t.blasProvider ? `sgemm_ from ${t.blasProvider}` : t.blasLoaded?.length ? t.blasLoaded.map((p) => path.basename(p)).join(', ') : t.blasLibrary ? path.basename(t.blasLibrary) : 'not read';
    const when = t.date ? ` Run ${t.date}${t.torchOnly ? ' (the PyTorch part alone, `--torch-only`, merged into the browser cells of the run above)' : ''}; load average (1/5/15 min) ${t.loadStart.map((v) => v.toFixed(2)).join(' / ')} at its start, ${t.loadEnd.map((v) => v.toFixed(2)).join(' / ')} at its end.` : '';
    L.push(`PyTorch ${t.torch} (${t.executable}), same layers, batch ${t.batchSize}, ${t.data}; torch's BLAS_INFO: ${t.blas}; BLAS loaded: ${torchBlasKind(t)}${t.blasKind ? '' : ', from the libblas.so.3 link'} (${loaded}) — dense layers use it, convolutions use oneDNN. Best of ${t.threads.join(' and ')} thread(s).${when}`);
    const problem = torchBlasProblem(t);
    if (problem) {
      L.push('');
      L.push(`**No ratio:** ${problem}.`);
    }
    const loadNote = torchLoadProblem(results);
    if (loadNote && !problem) {
      L.push('');
      L.push(`⁽ˡ⁾ **Not comparable:** ${loadNote}.`);
    }
  }
  L.push('');
  L.push('| Model | Fastest backend here | Worker loop | PyTorch CPU | Ours / PyTorch | Auto picks |');
  L.push('|---|---|---:|---:|---:|---|');
  for (const model of MODELS) {
    const b = best[model];
    const tr = t?.results?.[model];
    const torchCellText = tr ? Object.entries(tr).map(([th, v]) => (v.imagesPerSec ? `${fmt(v.imagesPerSec)} (${th} thr)` : `failed (${th} thr)`)).join(', ') : '—';
    L.push(`| ${model} | ${b?.backend ?? '—'} | ${fmt(b?.imagesPerSec)} | ${torchCellText} | ${b?.vsTorchRefused ? 'none (reference BLAS)' : `${fmtRatio(b?.vsTorch)}${b?.vsTorchLoaded ? ' ⁽ˡ⁾' : ''}`} | ${results.auto?.backend ?? results.auto?.error ?? '—'} |`);
  }
  L.push('');
  if (results.auto?.reason) L.push(`Auto here: ${results.auto.reason}.`);
  const fastest = [...new Set(MODELS.map((mm) => best[mm]?.backend).filter(Boolean))];
  if (results.auto?.backend && fastest.length) {
    L.push(fastest.every((b) => b === results.auto.backend) ? `Auto's pick (${results.auto.backend}) is the fastest backend measured for every model.` : `Auto picks ${results.auto.backend}; fastest measured: ${MODELS.map((mm) => `${mm} → ${best[mm]?.backend ?? '—'}`).join(', ')}.`);
  }
  L.push('');
  L.push('## Cost of the live views');
  L.push('');
  L.push('The bench flips the app\'s **Live views** switch (Training panel) between timed windows. On: 16 reconstructions and their codes are computed every 400 ms — every second on a machine with two cores or fewer, like this one — (less often where that would take over 4% of the time; on WASM and CPU by a helper thread from weights the training worker copies out, on GPU backends by the training worker), the page draws them and redraws the loss chart once a second. Off: none until the epoch ends, and the chart holds still. So the ratio is everything the views cost: the forward passes and read-backs, and the main thread\'s React, layout, paint and SVG — which, on 2 cores, compete with the training worker for CPU.');
  L.push('');
  L.push('"On / off" is per round, like the ratios above (each round\'s views-on window against the views-off window right after it; median, and each round in brackets).');
  L.push('');
  L.push('| Model | Backend | Views on (img/s) | Views off (img/s) | On / off (per round) | fps on / off | Long tasks on / off |');
  L.push('|---|---|---:|---:|---:|---:|---:|');
  for (const c of results.views) {
    if (c.error) {
      L.push(`| ${c.model} | ${c.backend} | failed: ${c.error} | | | | |`);
      continue;
    }
    const vr = viewsPairedRatio(c);
    const onOff = vr ? `${fmtRatio(vr.median)} (${vr.rounds.map((x) => x.toFixed(2)).join(', ')})` : fmtRatio(ratio(c.imagesPerSec, c.hiddenImagesPerSec));
    L.push(`| ${c.model} | ${c.backend} | ${fmt(c.imagesPerSec)} | ${fmt(c.hiddenImagesPerSec)} | ${onOff} | ${fmt(c.responsiveness?.fps, 2)} / ${fmt(c.responsivenessHidden?.fps, 2)} | ${c.responsiveness?.longTasks ?? '—'} / ${c.responsivenessHidden?.longTasks ?? '—'} |`);
  }
  L.push('');
  L.push('## Main-thread responsiveness while training');
  L.push('');
  L.push('During the timed windows (views shown): requestAnimationFrame callbacks per second and long tasks (> 50 ms, PerformanceObserver "longtask"). For contrast, the same during plain model.fit on the main thread.');
  L.push('');
  L.push('| Model | Backend | Worker loop: fps | long tasks (per s, max ms) | model.fit: fps | long tasks (per s, max ms) |');
  L.push('|---|---|---:|---:|---:|---:|');
  for (const model of MODELS) {
    for (const backend of BACKENDS) {
      const w = results.worker.find((c) => c.model === model && c.backend === backend);
      const p = results.plain.find((c) => c.model === model && c.backend === backend);
      if (!w && !p) continue;
      const wr = w?.responsiveness;
      const pr = p?.responsiveness;
      L.push(
        `| ${model} | ${backend} | ${wr ? fmt(wr.fps, 2) : '—'} | ${wr ? `${wr.longTasks} (${fmt(wr.longTasksPerSec, 2)}/s, max ${fmt(wr.longTaskMaxMs, 2)})` : '—'} | ${pr ? fmt(pr.fps, 2) : '—'} | ${pr ? `${pr.longTasks} (${fmt(pr.longTasksPerSec, 2)}/s, max ${fmt(pr.longTaskMaxMs, 2)})` : '—'} |`,
      );
    }
  }
  L.push('');
  const longest = [];
  for (const c of results.worker) {
    const t = c.responsiveness?.longTaskMax;
    if (t) longest.push(`${c.model} on ${c.backend}: ${fmt(t.ms, 2)} ms at ${fmt(t.atS, 2)} s into a window (${t.attribution}${t.scripts ? `; scripts: ${t.scripts}` : ''})`);
  }
  if (longest.length) {
    L.push('Longest task per worker cell (views shown), with its attribution (a long task names only its frame; the scripts come from the long-animation-frame entry that holds it, where there is one):');
    L.push('');
    for (const l of longest) L.push(`- ${l}`);
    L.push('');
  }
  L.push('## Tensor memory over 20 epochs (tiny preset, 64 images, wasm)');
  L.push('');
  const mem = results.memory;
  if (mem?.error) L.push(`Failed: ${mem.error}`);
  else if (mem) {
    L.push(`Batch size ${mem.batchSize} (the tiny preset's), from snapshot().memoryLog (one report after each epoch).`);
    L.push('');
    L.push('| | First epoch | Last epoch | Max |');
    L.push('|---|---:|---:|---:|');
    L.push(`| tf tensors | ${mem.tensors.first} | ${mem.tensors.last} | ${mem.tensors.max} |`);
    L.push(`| tf bytes | ${mem.bytes.first.toLocaleString('en-US')} | ${mem.bytes.last.toLocaleString('en-US')} | ${mem.bytes.max.toLocaleString('en-US')} |`);
    L.push('');
    L.push(mem.flat ? 'Flat: the same count and bytes after every epoch.' : `Not flat over ${mem.perEpoch.length} reports.`);
    if (mem.afterRun?.length) L.push(`After the run ends: ${mem.afterRun.map((a) => `${a.numTensors} tensors, ${a.numBytes.toLocaleString('en-US')} bytes`).join('; ')}.`);
  }
  L.push('');
  L.push('## WASM: share of a training step in our custom kernels');
  L.push('');
  L.push('Measured on bench.html (main thread, wasm), steps written like the worker loop (batch from uint8 pixels, `optimizer.minimize`). "Ours" comes from `kernelStats` (our kernels always time themselves): "all" includes the wasm kernels they are built from (XNNPACK Conv2D, BatchMatMul, average pooling and depthwise convolution, wasm\'s Transpose), "own code" is the rest, our JavaScript (index arithmetic, small layout loops, MaxPoolGrad). Sum and Mean count only where ours runs (over all axes but the last); LeakyRelu (one XNNPACK PReLU call), ResizeNearestNeighborGrad and the BatchMatMul wrapper are not timed by kernelStats. The breakdown wraps every wasm kernel in a timer (exclusive times) in a second run.');
  L.push('');
  L.push('| Model | Step (ms) | Our kernels, all (ms, share) | Our kernels, own code (ms, share) | Step with all kernels timed (ms) | All kernels\' share | Top kernels (ms/step) |');
  L.push('|---|---:|---:|---:|---:|---:|---|');
  for (const k of results.kernels) {
    if (k.error) {
      L.push(`| ${k.preset} | failed: ${k.error} | | | | |`);
      continue;
    }
    const ours = k.ours.filter((o) => o.calls > 0).map((o) => `${o.kernel} ${fmt(o.msPerStep, 2)}`).join(', ');
    const top = k.top.slice(0, 5).map((o) => `${o.kernel} ${fmt(o.msPerStep, 2)}`).join(', ');
    const oursText = ours ? `${fmt(k.oursShare * k.stepMs)} (${(k.oursShare * 100).toFixed(0)}%: ${ours})` : 'none run (no conv or pooling)';
    const own = k.ours.filter((o) => o.calls > 0 && o.ownMsPerStep != null).map((o) => `${o.kernel} ${fmt(o.ownMsPerStep, 2)}`).join(', ');
    const ownText = k.oursOwnShare == null ? 'not measured' : own ? `${fmt(k.oursOwnShare * k.stepMs)} (${(k.oursOwnShare * 100).toFixed(0)}%: ${own})` : '—';
    L.push(`| ${k.preset} | ${fmt(k.stepMs)} | ${oursText} | ${ownText} | ${fmt(k.stepMsWrapped)} | ${(k.kernelsShare * 100).toFixed(0)}% | ${top} |`);
  }
  L.push('');
  if (results.errors.length) {
    L.push('## Failures');
    L.push('');
    for (const e of results.errors) L.push(`- ${e}`);
    L.push('');
  }
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main.

/** --report-only: rewrite results.md from an existing results.json (after editing the report code). */
function reportOnly() {
  const file = path.join(OUT, 'results.json');
  const results = JSON.parse(fs.readFileSync(file, 'utf8'));
  results.models ??= ['default', 'wiki-5-layer', 'dense'];
  results.backends ??= ['webgpu', 'webgl', 'wasm', 'cpu'];
  results.summary = summarize(results);
  fs.writeFileSync(path.join(OUT, 'results.md'), `${markdown(results)}\n`);
  log(`rewrote ${path.relative(ROOT, path.join(OUT, 'results.md'))} from ${path.relative(ROOT, file)}`);
}

/**
 * --torch-only: reruns only the PyTorch yardstick (scripts/torch_bench.py, the usual windows) and merges it
 * into the existing results.json (replacing its `torch` entry, with its own date and load average), then
 * rewrites results.md. For when the machine's BLAS changed (e.g. after `apt-get install libopenblas0`).
 */
function torchOnly() {
  const file = path.join(OUT, 'results.json');
  const results = JSON.parse(fs.readFileSync(file, 'utf8'));
  log('PyTorch yardstick only (merged into the existing results.json)…');
  results.torch = { ...torchCell(), torchOnly: true };
  log(`torch: ${results.torch.error ?? Object.entries(results.torch.results).map(([k, v]) => `${k} ${Object.entries(v).map(([th, x]) => `${fmt(x.imagesPerSec)}@${th}`).join('/')}`).join(', ')}`);
  results.errors = results.errors.filter((e) => !e.startsWith('torch: '));
  if (results.torch.error) results.errors.push(`torch: ${results.torch.error}`);
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  reportOnly();
}

async function main() {
  if (flag('report-only')) {
    reportOnly();
    return;
  }
  if (flag('torch-only')) {
    torchOnly();
    return;
  }
  const results = {
    date: new Date().toISOString(),
    quick: QUICK,
    noIsolation: NO_ISOLATION,
    models: MODELS,
    backends: BACKENDS,
    batchSize: BATCH,
    trainImages: TRAIN_IMAGES,
    settings: T,
    machine: {
      cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
      cpus: os.cpus().length,
      memoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      loadStart: os.loadavg(),
      loadEnd: null,
    },
    browser: { executable: CHROMIUM, args: chromiumArgs(), version: null },
    env: null,
    auto: null,
    worker: [],
    plain: [],
    views: [],
    memory: null,
    kernels: [],
    torch: null,
    errors: [],
  };
  let server = null;
  let browser = null;
  const stopServer = () => {
    if (server && server.child.exitCode === null) server.child.kill('SIGTERM');
  };
  process.on('SIGINT', () => {
    stopServer();
    process.exit(130);
  });
  try {
    if (!flag('no-build')) build();
    if (!fs.existsSync(path.join(ROOT, 'dist/bench.html'))) throw new Error('dist/bench.html is missing: build first (npx vite build)');
    const port = await freePort(Number(option('port', '4174')));
    server = await startPreview(port);
    log(`vite preview on ${server.base}`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: results.browser.args, headless: true });
    results.browser.version = `Chromium ${browser.version()}`;
    // --no-isolation: serve the pages without COOP/COEP, as a host that cannot set headers would, in a
    // browser that runs no service worker (so the app's coi-serviceworker fallback cannot add them back):
    // tfjs-wasm then loads its one-thread build, to measure what the threads give.
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, serviceWorkers: NO_ISOLATION ? 'block' : 'allow' });
    await context.addInitScript(installProbe);
    if (NO_ISOLATION) {
      await context.route('**/*', async (route) => {
        const response = await route.fetch();
        const headers = { ...response.headers() };
        delete headers['cross-origin-opener-policy'];
        delete headers['cross-origin-embedder-policy'];
        await route.fulfill({ response, headers });
      });
    }
    const base = server.base;

    results.env = await benchPageCall(context, base, 'env', () => window.__bench.env(), undefined, 60_000);
    results.auto = await autoCell(context, base);
    log(`Auto picks ${results.auto.backend ?? results.auto.error}`);

    if (!SKIP.has('memory')) {
      results.memory = await memoryCell(context, base);
      log(`memory: ${results.memory.error ?? `tensors ${JSON.stringify(results.memory.tensors)}, flat ${results.memory.flat}`}`);
    }
    if (!SKIP.has('kernels')) {
      for (const preset of MODELS) {
        const steps = T.kernelSteps[preset] ?? 5;
        const r = await benchPageCall(context, base, 'kernelShare', (args) => window.__bench.kernelShare(args), { preset, steps, warmupSteps: T.kernelWarmup, batchSize: BATCH }, 180_000);
        results.kernels.push({ preset, ...r });
        log(`kernels ${preset}: ${r.error ?? `step ${fmt(r.stepMs)} ms, ours ${(r.oursShare * 100).toFixed(0)}%`}`);
      }
    }
    const plainLog = (c) => log(`model.fit ${c.model} ${c.backend}: ${c.skipped ? `skipped (${c.skipped})` : (c.error ?? `${fmt(c.imagesPerSec ?? c.lowerBound)} img/s${c.capped ? ' (capped)' : ''}`)}`);
    for (const { model, backend } of CELLS) {
      if (interleave({ model, backend }) && !SKIP.has('worker')) {
        const { cell, plain } = await interleavedCell(context, base, model, backend);
        results.worker.push(cell);
        if (!SKIP.has('views')) results.views.push(cell);
        log(`worker ${model} ${backend}: ${cell.error ?? `${fmt(cell.imagesPerSec)} img/s (views off: ${fmt(cell.hiddenImagesPerSec)})`}`);
        if (plain) {
          results.plain.push(plain);
          plainLog(plain);
        }
        continue;
      }
      let w = null;
      if (!SKIP.has('worker')) {
        w = await workerCell(context, base, model, backend);
        results.worker.push(w);
        log(`worker ${model} ${backend}: ${w.error ?? `${fmt(w.imagesPerSec)} img/s${w.note ? ` [${w.note}]` : ''}`}`);
      }
      if (!SKIP.has('plain')) {
        // Where the worker loop managed under slowPlainBelow images/s (or no step at all in its cap), a
        // model.fit figure would be one cold batch: skip it to keep the bench short, and say so.
        const tooSlow = w && (Boolean(w.upperBound) || (typeof w.imagesPerSec === 'number' && w.imagesPerSec < T.slowPlainBelow));
        const c = tooSlow
          ? { model, backend, skipped: `the worker loop ran ${w.imagesPerSec ? `${fmt(w.imagesPerSec)} img/s` : `under ${fmt(w.upperBound, 2)} img/s`} here` }
          : await plainCell(context, base, model, backend);
        results.plain.push(c);
        plainLog(c);
      }
      await sleep(500);
    }
    await browser.close();
    browser = null;
    stopServer();
    if (!SKIP.has('torch')) {
      log('PyTorch yardstick…');
      results.torch = torchCell();
      log(`torch: ${results.torch.error ?? Object.entries(results.torch.results).map(([k, v]) => `${k} ${Object.entries(v).map(([th, x]) => `${fmt(x.imagesPerSec)}@${th}`).join('/')}`).join(', ')}`);
    }
  } catch (e) {
    results.errors.push(`bench aborted: ${errorText(e)}`);
    log(`aborted: ${errorText(e)}`);
  } finally {
    await browser?.close().catch(() => {});
    stopServer();
  }
  for (const c of [...results.worker.map((x) => ({ ...x, what: 'worker loop' })), ...results.plain.map((x) => ({ ...x, what: 'model.fit' }))]) {
    if (c.error) results.errors.push(`${c.what} ${c.model} on ${c.backend}: ${c.error}`);
    if (c.pageErrors) results.errors.push(`${c.what} ${c.model} on ${c.backend}: page errors: ${c.pageErrors.join('; ')}`);
  }
  for (const [what, c] of [['env', results.env], ['auto', results.auto], ['memory', results.memory], ['torch', results.torch], ...results.kernels.map((k) => [`kernel share ${k.preset}`, k])]) {
    if (c?.error) results.errors.push(`${what}: ${c.error}`);
  }
  results.machine.loadEnd = os.loadavg();
  results.durationS = (Date.now() - started) / 1000;
  results.summary = summarize(results);
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const md = markdown(results);
  fs.writeFileSync(path.join(OUT, 'results.md'), `${md}\n`);
  log(`wrote ${path.relative(ROOT, path.join(OUT, 'results.json'))} and results.md in ${(results.durationS / 60).toFixed(1)} min`);
}

await main();
