import { expect, test, type Page } from '@playwright/test';

/**
 * Main-thread long tasks while the default model trains with live views on (issue 14, item 10): the page
 * must keep every task under 50 ms — the training runs in a worker; what is left on the main thread
 * (the loss chart, 16 reconstructions, the code's heat maps, the store updates behind them) has to fit
 * between frames, even on a 2-core machine where the worker takes one core.
 *
 * Measured with the browser's own PerformanceObserver ('longtask', buffered), installed before the app's
 * scripts run; 'long-animation-frame' entries (when the browser has them) name the scripts behind a task, for
 * the failure message. No test hooks: everything goes through the UI, so this runs on the production build.
 *
 * The window: from one second after the first reconstructions are drawn (the panels' first render, with
 * the worker's start-up, falls before it) for WINDOW_S seconds, with at least one epoch end (test
 * evaluation, a new test point on the chart) inside it.
 */
const WINDOW_S = 40;
const LONG_TASK_MS = 50;

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

  const t0 = await page.evaluate(() => performance.now());
  const epochAtStart = await epoch();
  const reconSteps = new Set<number>();
  const end = Date.now() + WINDOW_S * 1000;
  while (Date.now() < end) {
    reconSteps.add(await reconStep());
    await page.waitForTimeout(500);
  }
  const t1 = await page.evaluate(() => performance.now());
  const epochAtEnd = await epoch();

  // The window saw what it claims to: training went on (epoch ends included) and the live views followed it.
  await expect(page.getByLabel('Live views')).toBeChecked();
  expect(epochAtEnd, 'at least one epoch ended inside the window').toBeGreaterThan(epochAtStart);
  // Views refresh at most once a second on 2 cores (every 400 ms with more): a third of that is plenty.
  expect(reconSteps.size, `distinct reconstruction steps seen: ${[...reconSteps].join(', ')}`).toBeGreaterThanOrEqual(WINDOW_S / 3);

  // The observer works in this browser: a 120 ms task of our own must show up (so zero below means zero).
  await page.evaluate(
    () =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          const until = performance.now() + 120;
          while (performance.now() < until) {
            // busy on purpose
          }
          setTimeout(resolve, 200);
        }, 0),
      ),
  );
  const p = await probe(page);
  expect(p.error).toBeNull();
  expect(p.tasks.some((t) => t.start >= t1 && t.duration >= 100), 'the probe sees a deliberate 120 ms task').toBe(true);

  const inWindow = p.tasks.filter((t) => t.start >= t0 && t.start <= t1);
  const frames = p.frames.filter((f) => f.start + f.duration >= t0 && f.start <= t1);
  const report = [
    `${inWindow.length} long task(s) in ${((t1 - t0) / 1000).toFixed(1)} s:`,
    ...inWindow.map((t) => `  at ${((t.start - t0) / 1000).toFixed(1)} s: ${t.duration.toFixed(0)} ms (${t.attribution})`),
    `slow animation frames: ${frames.length}`,
    ...frames.map((f) => `  at ${((f.start - t0) / 1000).toFixed(1)} s: ${f.duration.toFixed(0)} ms, blocking ${f.blocking.toFixed(0)} ms: ${f.scripts.join(' | ') || 'no script (style, layout, paint)'}`),
  ].join('\n');
  console.log(report);
  expect(inWindow, report).toEqual([]);
});
