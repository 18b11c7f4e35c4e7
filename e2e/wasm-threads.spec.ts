import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { createServer, get, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
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

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/**
 * A static host that cannot set headers (as GitHub Pages): the e2e build's files with a content type
 * and nothing else, no COOP/COEP. On a free port; closed by the caller.
 */
async function serveWithoutHeaders(root: string): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '/');
    const path = decodeURIComponent((req.url ?? '/').split(/[?#]/)[0]);
    const file = normalize(join(root, path === '/' ? 'index.html' : path));
    if (!file.startsWith(normalize(root))) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address == null || typeof address === 'string') throw new Error('no port');
  return { url: `http://127.0.0.1:${address.port}`, server, requests };
}

/** The response headers of one plain GET (no browser, no service worker in between). */
function headersOf(url: string): Promise<Record<string, string | string[] | undefined>> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      res.resume();
      resolve(res.headers);
    }).on('error', reject);
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

    // The same page served without COOP/COEP, in a browser where no service worker may run (so the
    // coi-serviceworker fallback cannot add the headers): tfjs-wasm's one-thread build, and the page says why.
    const context = await browser.newContext({ serviceWorkers: 'block' });
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

  test('on a host without COOP/COEP the service worker isolates the page after one reload, and the 64-kernel model gets its threads', async ({ browser, page: origin }) => {
    test.setTimeout(240_000);
    // A share link made in the app: the 64-kernel preset on 64 images.
    await origin.goto('/');
    await origin.getByLabel('Preset').selectOption('wiki-5-layer');
    await origin.getByLabel('Training images').fill('64');
    await origin.getByLabel('Epochs').fill('1');
    await expect.poll(() => new URL(origin.url()).hash).toMatch(/^#x=/);
    const link = new URL(origin.url()).hash;
    const { url, server, requests } = await serveWithoutHeaders('dist-e2e');
    const context = await browser.newContext();
    try {
      // The host really sends neither header: read without a browser.
      const direct = await headersOf(`${url}/`);
      expect(direct['cross-origin-opener-policy']).toBeUndefined();
      expect(direct['cross-origin-embedder-policy']).toBeUndefined();
      requests.length = 0;

      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      test.skip(cores < 2, 'one logical core: no thread pool to test');
      // The share link opens on the static host; the reload keeps it.
      await page.goto(`${url}/${link}`);
      await expect
        .poll(async () => {
          try {
            return await page.evaluate(() => window.crossOriginIsolated && navigator.serviceWorker.controller != null);
          } catch {
            return false; // the page is reloading
          }
        }, { timeout: 30_000 })
        .toBe(true);
      // The page was fetched twice: once plain, once through the service worker after its reload.
      expect(requests.filter((r) => r === '/')).toHaveLength(2);
      expect(requests.filter((r) => r === '/coi-serviceworker.js').length).toBeGreaterThanOrEqual(1);
      expect(page.url()).toBe(`${url}/${link}`);
      await expect(page.getByLabel('Training images')).toHaveValue('64');

      const threaded = await trainOnWasm(page, 'wiki-5-layer', 64);
      expect(Number(threaded.threads)).toBe(Math.min(8, Math.max(2, Math.floor(cores / 2))));
      expect(threaded.title).toMatch(/carry the step/);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
