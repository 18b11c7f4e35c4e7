import os from 'node:os';
import { expect, test, type Page } from '@playwright/test';

/**
 * Main-thread long tasks while the default model trains with live views on (issue 14, item 10): the page
 * must keep every task under 50 ms — the training runs in a worker; what is left on the main thread
 * (the loss chart, 16 reconstructions, the code's heat maps, the store updates behind them) has to fit
 * between frames, even on a 2-core machine where the worker takes one core.
 *
 * Two measures over the same window:
 * - the browser's PerformanceObserver ('longtask', buffered), installed before the app's scripts run: tasks
 *   over 50 ms of wall time. 'long-animation-frame' entries (where the browser has them) name the scripts.
 * - a Chromium trace of the same window: each main-thread task's CPU time (the trace's thread time). On a
 *   machine shared with other work (the test machine runs four jobs on 2 cores: load averages of 8–16)
 *   the renderer's main thread waits for a core in the middle of its tasks: there a 5 ms task shows up as a
 *   300 ms long task, and no page could have none. Its CPU time does not move with the load.
 * The test fails when any task takes over CPU_BUDGET_MS of CPU (half the 50 ms, the other half left for
 * sharing the cores with the worker; the recharts chart this replaced took 30–45 ms of CPU once a second),
 * and, when the machine is not oversubscribed (1-minute load average at most 1.5 per core, so the
 * worker, the views helper and the page each get a core's share), when any task is over 50 ms of wall time.
 * Under heavier load it reports the wall-time long tasks (console and annotation) without failing on them.
 *
 * No test hooks: everything goes through the UI, so this runs on the production build.
 *
 * The window: from one second after the first reconstructions are drawn (the panels' first render, with
 * the worker's start-up, falls before it) for WINDOW_S seconds, with at least one epoch end (test
 * evaluation, a new test point on the chart) inside it.
 */
const WINDOW_S = 40;
const LONG_TASK_MS = 50;
const CPU_BUDGET_MS = 25;
const MAX_LOAD_PER_CPU = 1.5;

interface LongTask {
  start: number;
  duration: number;
  attribution: string;
}

interface SlowFrame {
  start: number;
  duration: number;
  blocking: number;
  scripts: string[];
}

interface Probe {
  tasks: LongTask[];
  frames: SlowFrame[];
  error: string | null;
}

declare global {
  interface Window {
    __longTaskProbe?: Probe;
  }
}

/** Runs in the page before its own scripts. */
function installLongTaskProbe(): void {
  const probe: Probe = { tasks: [], frames: [], error: null };
  window.__longTaskProbe = probe;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const attr = (e as PerformanceEntry & { attribution?: { containerType?: string; containerName?: string; containerSrc?: string }[] }).attribution ?? [];
        probe.tasks.push({
          start: e.startTime,
          duration: e.duration,
          attribution: [e.name, ...attr.map((a) => [a.containerType, a.containerName, a.containerSrc].filter(Boolean).join(' '))].join('; '),
        });
      }
    }).observe({ type: 'longtask', buffered: true });
  } catch (err) {
    probe.error = String(err);
  }
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const f = e as PerformanceEntry & {
          blockingDuration?: number;
          scripts?: { invoker?: string; sourceFunctionName?: string; sourceURL?: string; sourceCharPosition?: number; duration: number }[];
        };
        if (e.duration < LONG_TASK_MS) continue;
        probe.frames.push({
          start: e.startTime,
          duration: e.duration,
          blocking: f.blockingDuration ?? 0,
          scripts: (f.scripts ?? []).map((s) => `${s.invoker ?? '?'} → ${s.sourceFunctionName || '(anonymous)'} ${(s.sourceURL ?? '').split('/').pop() ?? ''}:${s.sourceCharPosition ?? '?'} ${Math.round(s.duration)} ms`),
        });
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  } catch {
    // Not every browser has long-animation-frame: it only adds detail to the failure message.
  }
}

const probe = async (page: Page): Promise<Probe> =>
  page.evaluate(() => {
    const p = window.__longTaskProbe;
    if (!p) throw new Error('long-task probe missing');
    return p;
  });

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/**
 * CPU time (ms) of each task of the renderer's main thread in a Chromium trace, inside the window
 * (between the page's 'longtasks-window-start' and '-end' marks, largest first) and after it.
 */
function cpuTimes(buffer: Buffer): { inWindow: number[]; after: number[] } {
  const { traceEvents } = JSON.parse(buffer.toString('utf8')) as { traceEvents: TraceEvent[] };
  const mainThreads = new Set(traceEvents.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const mark = (name: string) => traceEvents.find((e) => e.name === name && mainThreads.has(`${e.pid}:${e.tid}`))?.ts ?? traceEvents.find((e) => e.name === name)?.ts;
  const start = mark('longtasks-window-start');
  const end = mark('longtasks-window-end');
  if (start === undefined || end === undefined) throw new Error('the trace has no window marks');
  const tasks = traceEvents.filter((e) => e.name === 'RunTask' && e.ph === 'X' && mainThreads.has(`${e.pid}:${e.tid}`));
  const cpu = (e: TraceEvent) => (e.tdur ?? e.dur ?? 0) / 1000;
  return {
    inWindow: tasks.filter((e) => e.ts >= start && e.ts <= end).map(cpu).sort((a, b) => b - a),
    after: tasks.filter((e) => e.ts > end).map(cpu),
  };
}

const numberIn = async (page: Page, testId: string, re: RegExp): Promise<number> => Number(re.exec((await page.getByTestId(testId).textContent()) ?? '')?.[1] ?? -1);

test('no main-thread task over 50 ms while the default model trains with live views on', async ({ page }) => {
  test.setTimeout(WINDOW_S * 1000 + 150_000);
  await page.addInitScript(installLongTaskProbe);
  await page.goto('/');
  await page.getByLabel('Preset').selectOption('default');
  // 281 batches of 32 per epoch: an epoch ends every few seconds on WASM, so the window holds epoch ends.
  await page.getByLabel('Training images').fill('8992');
  await page.getByLabel('Epochs').fill('1000');
  await page.getByLabel('Backend').selectOption('wasm');
  await expect(page.getByLabel('Live views')).toBeChecked();
  await page.getByRole('button', { name: 'Train' }).click();

  const reconStep = () => numberIn(page, 'reconstruction-step', /step (\d+)/);
  const epoch = () => numberIn(page, 'epoch', /^(\d+) \//);
  await expect.poll(reconStep, { timeout: 90_000 }).toBeGreaterThan(0);
  await page.waitForTimeout(1000);

  const browser = page.context().browser();
  if (!browser) throw new Error('no browser');
  await browser.startTracing(page, { categories: ['toplevel', 'blink.user_timing', 'devtools.timeline', 'disabled-by-default-devtools.timeline'] });
  const loadBefore = os.loadavg()[0];
  const t0 = await page.evaluate(() => {
    performance.mark('longtasks-window-start');
    return performance.now();
  });
  const epochAtStart = await epoch();
  const reconSteps = new Set<number>();
  const end = Date.now() + WINDOW_S * 1000;
  while (Date.now() < end) {
    reconSteps.add(await reconStep());
    await page.waitForTimeout(500);
  }
  const t1 = await page.evaluate(() => {
    performance.mark('longtasks-window-end');
    return performance.now();
  });
  const loadAfter = os.loadavg()[0];
  const epochAtEnd = await epoch();

  // The window saw what it claims to: training went on (epoch ends included) and the live views followed it.
  await expect(page.getByLabel('Live views')).toBeChecked();
  expect(epochAtEnd, 'at least one epoch ended inside the window').toBeGreaterThan(epochAtStart);
  // Views refresh at most once a second on 2 cores (every 400 ms with more): a third of that is plenty.
  expect(reconSteps.size, `distinct reconstruction steps seen: ${[...reconSteps].join(', ')}`).toBeGreaterThanOrEqual(WINDOW_S / 3);

  // The observer and the trace work in this browser: a deliberate task of ours — at least 150 ms of wall
  // time and 10^8 loop iterations (~100 ms of CPU here, whatever the load) — must show up in both.
  await page.evaluate(
    () =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          const until = performance.now() + 150;
          let x = 1;
          for (let i = 0; i < 1e8 || performance.now() < until; i++) x = (x * 1103515245 + 12345) | 0;
          (window as Window & { __sink?: number }).__sink = x;
          setTimeout(resolve, 200);
        }, 0),
      ),
  );
  const trace = cpuTimes(await browser.stopTracing());
  const p = await probe(page);
  expect(p.error).toBeNull();
  // The trace works too: the same deliberate task shows its CPU time.
  expect(trace.after.some((ms) => ms >= 2 * CPU_BUDGET_MS), `CPU times after the window: ${trace.after.map((ms) => ms.toFixed(0)).join(', ')}`).toBe(true);
  expect(p.tasks.some((t) => t.start >= t1 && t.duration >= 100), 'the probe sees the deliberate task').toBe(true);

  const inWindow = p.tasks.filter((t) => t.start >= t0 && t.start <= t1);
  const frames = p.frames.filter((f) => f.start + f.duration >= t0 && f.start <= t1);
  const report = [
    `${inWindow.length} long task(s) in ${((t1 - t0) / 1000).toFixed(1)} s:`,
    ...inWindow.map((t) => `  at ${((t.start - t0) / 1000).toFixed(1)} s: ${t.duration.toFixed(0)} ms (${t.attribution})`),
    `slow animation frames: ${frames.length}`,
    ...frames.map((f) => `  at ${((f.start - t0) / 1000).toFixed(1)} s: ${f.duration.toFixed(0)} ms, blocking ${f.blocking.toFixed(0)} ms: ${f.scripts.join(' | ') || 'no script (style, layout, paint)'}`),
  ].join('\n');
  const load = Math.max(loadBefore, loadAfter);
  const oversubscribed = load > MAX_LOAD_PER_CPU * os.cpus().length;
  const cpuTop = trace.inWindow.slice(0, 5).map((ms) => ms.toFixed(1)).join(', ');
  const summary = `wall-time long tasks: ${inWindow.length}, longest ${Math.max(0, ...inWindow.map((t) => t.duration)).toFixed(0)} ms; main-thread tasks: ${trace.inWindow.length}, most CPU: ${cpuTop} ms; load average ${loadBefore.toFixed(1)} → ${loadAfter.toFixed(1)} on ${os.cpus().length} CPUs`;
  console.log(`${summary}\n${report}`);
  test.info().annotations.push({ type: 'long tasks', description: summary });
  expect(trace.inWindow.length, 'the trace saw the main thread during the window').toBeGreaterThan(WINDOW_S);
  expect(trace.inWindow.filter((ms) => ms > CPU_BUDGET_MS), `main-thread tasks over ${CPU_BUDGET_MS} ms of CPU (${summary})`).toEqual([]);
  if (oversubscribed) {
    test.info().annotations.push({ type: 'not asserted', description: `load average ${load.toFixed(1)} > ${MAX_LOAD_PER_CPU} per CPU: wall-time long tasks reported, not asserted` });
    return;
  }
  expect(inWindow, report).toEqual([]);
});
