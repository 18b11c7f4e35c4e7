import { expect, test, type Page } from '@playwright/test';
import { snapshot, useTinyExperiment, waitForPhase, type Snapshot } from './helpers';

async function fault(page: Page, kind: 'loseDevice' | 'hang' | 'crash' | 'crashViews' | 'kill'): Promise<void> {
  await page.evaluate((k) => window.__aePlayground?.fault(k), kind);
}

test.describe('faults and bad input: a clear message, nothing lost', () => {
  test('a diverging loss pauses training, restores the weights from before the blow-up, and Resume trains on from them', async ({ page }) => {
    await page.goto('/');
    // SGD (momentum 0.9) at 0.5 on a linear output: the loss wobbles for a few dozen steps, then explodes to infinity.
    await useTinyExperiment(page, { trainSize: 512, epochs: 2, backend: 'cpu' });
    await page.getByLabel('Decoder layer 2 activation').selectOption('linear');
    await page.getByLabel('Loss').selectOption('mse');
    await page.getByLabel('Optimizer').selectOption('sgd');
    await page.getByLabel('Learning rate').fill('0.5');
    await page.getByRole('button', { name: 'Train' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'The loss became NaN or infinite' });
    await expect(alert).toBeVisible({ timeout: 90_000 });
    await expect(page.getByRole('alert').filter({ hasText: 'Lower the learning rate' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();
    await waitForPhase(page, ['paused'], 30_000);
    const before = (await snapshot(page)).trainLoss;
    const badStep = before.findIndex((p) => !Number.isFinite(p.loss));
    expect(badStep, 'the curve so far is kept, up to and past the bad step').toBeGreaterThan(0);
    // The level before the blow-up: the run's first steps.
    const startLoss = Math.max(...before.slice(0, 3).map((p) => p.loss));
    expect(Number.isFinite(startLoss)).toBe(true);

    // Paused means paused.
    await page.waitForTimeout(1000);
    expect((await snapshot(page)).trainLoss.length).toBe(before.length);

    await page.getByRole('button', { name: 'Resume' }).click();
    // What Resume trained: the points that differ from the curve at the pause (a resumed epoch re-sends its steps).
    const trainedSinceResume = async (): Promise<{ resumed: Snapshot['trainLoss']; phase: string }> => {
      const s = await snapshot(page);
      const firstNew = s.trainLoss.findIndex((p, i) => before[i] === undefined || before[i].step !== p.step || !Object.is(before[i].loss, p.loss));
      return { resumed: firstNew < 0 ? [] : s.trainLoss.slice(firstNew), phase: s.phase };
    };
    // Three steps trained, or fewer and paused again (the same learning rate can blow up again).
    await expect
      .poll(async () => {
        const { resumed, phase } = await trainedSinceResume();
        return resumed.length >= 3 || (resumed.length > 0 && phase === 'paused');
      }, { timeout: 90_000 })
      .toBe(true);
    const { resumed } = await trainedSinceResume();
    console.log(
      `blew up at step ${before[badStep].step} (start ${startLoss.toPrecision(3)}); after Resume: ` +
        resumed.slice(0, 12).map((p) => `${p.step}:${p.loss.toPrecision(3)}`).join(' '),
    );
    // The first step after Resume computes its loss on the restored weights: the level of before the
    // blow-up (the run's start), not the astronomically large or infinite losses of the weights at the bad step.
    expect(resumed[0].loss).toBeLessThan(5 * startLoss);
    // And it trains on from them with finite losses. (At the same learning rate the loss may explode again
    // some steps later, as it did the first time: the app then pauses again. Hence only the first steps.)
    expect(resumed.slice(0, 3).filter((p) => !Number.isFinite(p.loss)).map((p) => p.step)).toEqual([]);
    expect(resumed.length).toBeGreaterThanOrEqual(3);
    await page.getByRole('button', { name: 'Reset' }).click();
  });

  test('a lost WebGPU device: the page says so and training continues on the next backend', async ({ page }) => {
    await page.goto('/');
    await useTinyExperiment(page, { trainSize: 48, epochs: 3, backend: 'webgpu' });
    await page.getByRole('button', { name: 'Train' }).click();
    await expect(page.getByTestId('backend')).toHaveText('WebGPU', { timeout: 60_000 });
    await expect.poll(async () => (await snapshot(page)).testLoss.length, { timeout: 120_000 }).toBeGreaterThan(0);
    await fault(page, 'loseDevice');
    await expect(page.getByRole('alert').filter({ hasText: 'The WebGPU device was lost' })).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('backend')).not.toHaveText('WebGPU');
    await waitForPhase(page, ['done', 'error']);
    const snap = await snapshot(page);
    expect(snap.phase).toBe('done');
    expect(snap.testLoss.length).toBe(3);
  });

  for (const kind of ['kill', 'crash', 'hang'] as const) {
    test(`a worker that ${kind === 'kill' ? 'dies silently' : kind === 'crash' ? 'crashes' : 'hangs'} is noticed and replaced; spec and curves are kept`, async ({ page }) => {
      await page.goto('/');
      await useTinyExperiment(page, { trainSize: 512, epochs: 5, backend: 'cpu' });
      await page.getByLabel('Seed').fill('9');
      await page.getByRole('button', { name: 'Train' }).click();
      await expect.poll(async () => (await snapshot(page)).trainLoss.length, { timeout: 60_000 }).toBeGreaterThan(2);
      const before = (await snapshot(page)).trainLoss.length;
      await fault(page, kind);
      await expect(page.getByRole('alert').filter({ hasText: /training worker (stopped responding|failed)/ })).toBeVisible({ timeout: 20_000 });
      await expect(page.getByRole('button', { name: 'Train' })).toBeVisible();
      expect((await snapshot(page)).trainLoss.length).toBeGreaterThanOrEqual(before);
      await expect(page.getByLabel('Seed')).toHaveValue('9');
      // The new worker trains.
      await page.getByLabel('Epochs').fill('1');
      await page.getByLabel('Training images').fill('64');
      await page.getByRole('button', { name: 'Train' }).click();
      await waitForPhase(page, ['done', 'error']);
      expect((await snapshot(page)).phase).toBe('done');
    });
  }

  test('absurd settings and too-large models are refused at the field, before training', async ({ page }) => {
    await page.goto('/');
    await page.getByLabel('Batch size').fill('0');
    await expect(page.getByRole('alert').filter({ hasText: 'Batch size must be between 1 and 1024' }).first()).toBeVisible();
    await expect(page.getByRole('button', { name: 'Train' })).toBeDisabled();
    await page.getByLabel('Batch size').fill('32');
    await page.getByLabel('Learning rate').fill('1000000000');
    await expect(page.getByRole('alert').filter({ hasText: 'Learning rate must be between' }).first()).toBeVisible();
    await page.getByLabel('Learning rate').fill('0.001');
    await page.getByLabel('Encoder layer 1 filters').fill('10000');
    await expect(page.getByRole('alert').filter({ hasText: 'Filters must be between 1 and 512' }).first()).toBeVisible();
    await expect(page.getByRole('button', { name: 'Train' })).toBeDisabled();
    await page.getByLabel('Encoder layer 1 filters').fill('512');
    await page.getByLabel('Batch size').fill('1024');
    await expect(page.getByRole('alert').filter({ hasText: /one layer's output needs 1\.5 GiB/ }).first()).toBeVisible();
    await expect(page.getByRole('button', { name: 'Train' })).toBeDisabled();
    await page.getByLabel('Batch size').fill('32');
    await expect(page.getByRole('button', { name: 'Train' })).toBeEnabled();
  });

  test('switching data set, editing or resetting during training never leaves two trainings running', async ({ page }) => {
    await page.goto('/');
    await useTinyExperiment(page, { trainSize: 256, epochs: 2, backend: 'cpu' });
    const runs: number[] = [];
    for (const edit of ['dataset', 'seed', 'reset'] as const) {
      await page.getByRole('button', { name: 'Train' }).click();
      await expect.poll(async () => (await snapshot(page)).trainLoss.length, { timeout: 60_000 }).toBeGreaterThan(0);
      if (edit === 'dataset') await page.getByLabel('Data set').selectOption('fashion-mnist');
      if (edit === 'seed') await page.getByLabel('Seed').fill('5');
      if (edit === 'reset') await page.getByRole('button', { name: 'Reset' }).click();
      await expect(page.getByRole('button', { name: 'Train' })).toBeVisible();
    }
    await page.getByLabel('Epochs').fill('1');
    await page.getByRole('button', { name: 'Train' }).click();
    await waitForPhase(page, ['done', 'error']);
    // Three memory reports after the run: each request answered (waited for, not slept on).
    for (let i = 0; i < 3; i++) {
      const reports = (await snapshot(page)).memoryLog.length;
      await page.evaluate(() => window.__aePlayground?.requestMemory());
      await expect.poll(async () => (await snapshot(page)).memoryLog.length).toBeGreaterThan(reports);
    }
    const snap = await snapshot(page);
    runs.push(...snap.memoryLog.map((m) => m.runsActive));
    expect(Math.max(...runs)).toBeLessThanOrEqual(1);
    // The finished run's curve is one clean run: steps 1..N once each.
    expect(snap.trainLoss.map((p) => p.step)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  test('untrusted files never reach the DOM as HTML, and the page has a strict CSP', async ({ page }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/');
    // The served page's policy: script only from the app's own files (and WebAssembly compilation).
    const csp = (await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')) ?? '';
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .filter((d) => d[0])
        .map(([name, ...sources]) => [name.toLowerCase(), sources.map((v) => v.toLowerCase())]),
    );
    expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    for (const name of ['script-src-elem', 'script-src-attr']) expect(directives.has(name), `${name} would override script-src`).toBe(false);
    // And the browser enforces it: an inline script put into the page does not run, and is reported.
    const injectInline = (): Promise<{ ran: boolean; violated: string | null }> =>
      page.evaluate(
        () =>
          new Promise((resolve) => {
            const w = window as Window & { __inlineRan?: number };
            let violated: string | null = null;
            document.addEventListener('securitypolicyviolation', (e) => {
              violated = e.effectiveDirective;
            });
            const el = document.createElement('script');
            el.textContent = 'window.__inlineRan = 1;';
            document.head.appendChild(el);
            // Violation events are queued as tasks: let them arrive.
            setTimeout(() => resolve({ ran: w.__inlineRan === 1, violated }), 200);
          }),
      );
    const blocked = await injectInline();
    expect(blocked.ran).toBe(false);
    expect(blocked.violated).toMatch(/^script-src/);
    const payload = '<img src=x onerror="window.__pwned=1">';
    const file = JSON.stringify({ app: 'autoencoder-playground', version: 1, experiment: { dataset: payload, encoder: [{ kind: payload }], decoder: 'x' } });
    await page.getByLabel('Import experiment file').setInputFiles({ name: `${payload}.json`, mimeType: 'application/json', buffer: Buffer.from(file) });
    await expect(page.getByRole('alert').first()).toBeVisible();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.evaluate(() => (window as Window & { __pwned?: number }).__pwned)).toBeUndefined();
    await page.goto(`/#x=${encodeURIComponent(payload)}`);
    await expect(page.getByRole('alert').first()).toBeVisible();
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(errors).toEqual([]);
    // Control: the same injection on a page without the policy does run (the check above can fail).
    await page.goto('about:blank');
    expect(await injectInline()).toEqual({ ran: true, violated: null });
  });

  test('soak: many epochs on a tiny model keep the tensor count flat', async ({ page }) => {
    await page.goto('/');
    await useTinyExperiment(page, { trainSize: 32, epochs: 25, backend: 'wasm' });
    await page.getByRole('button', { name: 'Train' }).click();
    await waitForPhase(page, ['done', 'error'], 170_000);
    const snap = await snapshot(page);
    expect(snap.phase).toBe('done');
    const epochs = snap.memoryLog.slice(0, 25).map((m) => m.numTensors);
    console.log(`tensor count after each of 25 epochs: ${epochs.join(',')}`);
    expect(epochs.length).toBe(25);
    expect(new Set(epochs).size).toBe(1);
    // The live-views helper (CPU backends) keeps its own tensors flat too.
    const helper = snap.memoryLog.map((m) => m.viewsHelperTensors).filter((v) => v !== null);
    console.log(`live-views helper tensor counts: ${helper.join(',')}`);
    expect(new Set(helper).size).toBeLessThanOrEqual(1);
  });

  test('on a CPU backend a helper thread draws the live views; if it fails, the training thread takes over', async ({ page }) => {
    await page.goto('/');
    test.skip((await page.evaluate(() => navigator.hardwareConcurrency)) < 2, 'one core: the app does not start the helper');
    // Long enough to outlast every check below (WASM trains the default model at ~1,400 images/s here).
    await page.getByLabel('Training images').fill('6000');
    await page.getByLabel('Epochs').fill('8');
    await page.getByLabel('Backend').selectOption('wasm');
    await page.getByRole('button', { name: 'Train' }).click();
    const grid = page.getByTestId('reconstructions');
    const reconStep = async (): Promise<number> => Number(/step (\d+)/.exec((await page.getByTestId('reconstruction-step').textContent()) ?? '')?.[1] ?? -1);
    await expect(grid).toHaveAttribute('data-rendered-by', 'helper', { timeout: 90_000 });
    // The helper's renders follow training, and its tensor count stays flat from render to render.
    const first = await reconStep();
    await expect.poll(reconStep, { timeout: 10_000 }).toBeGreaterThan(first);
    const helperTensors = async (): Promise<(number | null)[]> => {
      const before = (await snapshot(page)).memoryLog.length;
      await page.evaluate(() => window.__aePlayground?.requestMemory());
      await expect.poll(async () => (await snapshot(page)).memoryLog.length).toBeGreaterThan(before);
      return (await snapshot(page)).memoryLog.slice(before).map((m) => m.viewsHelperTensors);
    };
    const a = await helperTensors();
    await page.waitForTimeout(1500);
    const b = await helperTensors();
    expect(a[0]).not.toBeNull();
    expect(b).toEqual(a);
    // A crashed helper: a clear note, the views go on from the training thread, training goes on.
    await fault(page, 'crashViews');
    await expect(page.getByText(/live-views helper thread failed/)).toBeVisible({ timeout: 20_000 });
    await expect(grid).toHaveAttribute('data-rendered-by', 'worker', { timeout: 10_000 });
    const after = await reconStep();
    await expect.poll(reconStep, { timeout: 10_000 }).toBeGreaterThan(after);
    expect((await snapshot(page)).phase).toBe('training');
    await page.getByRole('button', { name: 'Reset' }).click();
  });
});
