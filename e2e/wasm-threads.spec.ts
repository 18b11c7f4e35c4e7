import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { snapshot, waitForPhase } from './helpers';

/**
 * #19, the CPU path: multi-threaded WASM. The served app is cross-origin isolated (COOP/COEP from
 * vite preview, as from `npm start`), so tfjs-wasm loads its threaded build, and the worker gives
 * XNNPACK a thread pool where its convolutions carry the step (src/model/wasmThreadPlan.ts).
 */

/** What a host without the headers serves: the same files, no COOP/COEP. */
async function withoutIsolation(context: BrowserContext): Promise<void> {
  await context.route('**/*', async (route) => {
    const response = await route.fetch();
    const headers = { ...response.headers() };
    delete headers['cross-origin-opener-policy'];
    delete headers['cross-origin-embedder-policy'];
    await route.fulfill({ response, headers });
  });
}

async function trainOnWasm(page: Page, preset: string, trainSize: number): Promise<{ threads: string | null; title: string | null; losses: number[] }> {
  await page.getByLabel('Preset').selectOption(preset);
  await page.getByLabel('Training images').fill(String(trainSize));
  await page.getByLabel('Epochs').fill('1');
  await page.getByLabel('Backend').selectOption('wasm');
  await page.getByRole('button', { name: 'Train' }).click();
  await waitForPhase(page, ['done', 'error']);
  const snap = await snapshot(page);
  expect(snap.phase).toBe('done');
  const kernels = page.getByTestId('kernel-path');
  return { threads: await kernels.getAttribute('data-threads'), title: await kernels.getAttribute('title'), losses: snap.trainLoss.map((p) => p.loss) };
}

test.describe('multi-threaded WASM (#19)', () => {
  test('the 64-kernel model trains on a thread pool, the dense one on one thread, and both threads and one agree on the losses', async ({ page, browser }) => {
    test.setTimeout(240_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    test.skip(cores < 2, 'one logical core: no thread pool to test');
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);

    const threaded = await trainOnWasm(page, 'wiki-5-layer', 64);
    // tfjs-wasm's own count (pthreadpool's), not ours: half the logical cores, at least 2.
    expect(Number(threaded.threads)).toBe(Math.min(8, Math.max(2, Math.floor(cores / 2))));
    await expect(page.getByTestId('kernel-path')).toContainText(`${threaded.threads} threads`);
    expect(threaded.title).toMatch(/carry the step/);
    // Small convolutions and GEMMs: the backend restarts on one thread for the dense model.
    const dense = await trainOnWasm(page, 'dense', 64);
    expect(dense.threads).toBe('1');
    expect(dense.title).toMatch(/small/);
    expect(errors).toEqual([]);

    // The same page served without COOP/COEP: tfjs-wasm's one-thread build, and the page says why.
    const context = await browser.newContext();
    await withoutIsolation(context);
    const plain = await context.newPage();
    await plain.goto('/');
    expect(await plain.evaluate(() => window.crossOriginIsolated)).toBe(false);
    const single = await trainOnWasm(plain, 'wiki-5-layer', 64);
    expect(single.threads).toBe('1');
    expect(single.title).toMatch(/not cross-origin isolated/);
    await context.close();
    // Independent truth for the threaded build: the one-thread build's losses on the same seeded run.
    expect(threaded.losses.length).toBe(2);
    expect(single.losses.length).toBe(2);
    threaded.losses.forEach((loss, i) => expect(Math.abs(loss - single.losses[i])).toBeLessThan(1e-4 * Math.abs(single.losses[i]) + 1e-6));
  });
});
