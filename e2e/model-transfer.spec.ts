import { readFileSync } from 'node:fs';
import { expect, test, type Download, type Page } from '@playwright/test';
import { snapshot, useTinyExperiment, waitForPhase } from './helpers';

/** The shown canvases' RGBA bytes: the originals and the reconstructions, by their labels. */
async function shownImages(page: Page): Promise<{ originals: number[][]; reconstructions: number[][] }> {
  return page.evaluate(() => {
    const read = (prefix: string): number[][] =>
      Array.from(document.querySelectorAll<HTMLCanvasElement>('[data-testid="reconstructions"] canvas'))
        .filter((c) => (c.getAttribute('aria-label') ?? '').startsWith(prefix))
        .map((c) => {
          const ctx = c.getContext('2d');
          if (!ctx) throw new Error('a canvas without a 2D context');
          return Array.from(ctx.getImageData(0, 0, c.width, c.height).data);
        });
    return { originals: read('Test image '), reconstructions: read('Reconstruction of test image ') };
  });
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  a.forEach((img, i) => {
    expect(img.length).toBe(b[i].length);
    img.forEach((v, k) => (max = Math.max(max, Math.abs(v - b[i][k]))));
  });
  return max;
}

test('Export model downloads model.json + weights; Import model after a reload shows the same reconstructions and experiment', async ({ page }, testInfo) => {
  await page.goto('/');
  // 480 images in batches of 16: 30 steps on WASM.
  await useTinyExperiment(page, { trainSize: 480, epochs: 1, backend: 'wasm' });
  await expect(page.getByRole('button', { name: 'Export model' })).toBeDisabled();
  await page.getByRole('button', { name: 'Train' }).click();
  await waitForPhase(page, ['done', 'error']);
  await expect(page.getByTestId('step')).toHaveText('30 / 30');
  await expect(page.getByTestId('reconstructions').locator('canvas:not([aria-label^="PCA"])')).toHaveCount(32);
  const before = await shownImages(page);
  expect(before.reconstructions.length).toBe(16);
  const hash = new URL(page.url()).hash;
  expect(hash).toMatch(/^#x=/);
  const shapes = await page.getByTestId('layer-shape').allTextContents();

  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: 'Export model' }).click();
  await expect.poll(() => downloads.length).toBe(2);
  const byName = new Map(downloads.map((d) => [d.suggestedFilename(), d]));
  expect([...byName.keys()].sort()).toEqual(['model.json', 'model.weights.bin']);
  const jsonPath = testInfo.outputPath('model.json');
  const binPath = testInfo.outputPath('model.weights.bin');
  await byName.get('model.json')?.saveAs(jsonPath);
  await byName.get('model.weights.bin')?.saveAs(binPath);
  await expect(page.getByRole('status').filter({ hasText: 'Exported model.json and model.weights.bin' })).toBeVisible();

  // The file names its experiment and carries the link back; the weights path is the downloaded file's name.
  const modelJson = JSON.parse(readFileSync(jsonPath, 'utf8')) as {
    format: string;
    weightsManifest: { paths: string[]; weights: { shape: number[] }[] }[];
    userDefinedMetadata: { autoencoderPlayground: { link: string; trained: { steps: number; epochs: number; backend: string }; spec: { trainSize: number } } };
  };
  expect(modelJson.format).toBe('layers-model');
  expect(modelJson.weightsManifest[0].paths).toEqual(['./model.weights.bin']);
  const meta = modelJson.userDefinedMetadata.autoencoderPlayground;
  expect(new URL(meta.link).hash).toBe(hash);
  expect(meta.trained).toEqual({ steps: 30, epochs: 1, backend: 'wasm' });
  expect(meta.spec.trainSize).toBe(480);
  const floats = modelJson.weightsManifest[0].weights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
  expect(readFileSync(binPath).byteLength).toBe(floats * 4);

  // A fresh page with another experiment on screen.
  await page.goto('/');
  await page.getByLabel('Preset').selectOption('default');
  await expect.poll(() => new URL(page.url()).hash).not.toBe(hash);

  // Bad input first: model.json without its weights says so and changes nothing.
  await page.getByLabel('Import model').setInputFiles([jsonPath]);
  await expect(page.getByRole('alert').filter({ hasText: 'The weights file model.weights.bin is missing' })).toBeVisible();
  await expect.poll(() => new URL(page.url()).hash).not.toBe(hash);
  await page.getByRole('button', { name: 'Dismiss model notice' }).click();

  await page.getByLabel('Import model').setInputFiles([jsonPath, binPath]);
  await expect(page.getByText(/Imported model \(trained 30 steps on WASM\)/)).toBeVisible({ timeout: 60_000 });
  await waitForPhase(page, ['done']);
  await expect(page.getByTestId('reconstructions').locator('canvas:not([aria-label^="PCA"])')).toHaveCount(32);
  const after = await shownImages(page);
  expect(maxAbsDiff(after.originals, before.originals)).toBe(0);
  // The same weights on the same backend: the same reconstructions (up to one level of 8-bit rounding).
  const diff = maxAbsDiff(after.reconstructions, before.reconstructions);
  console.log(`imported model: reconstructions differ by at most ${diff}/255 from those before the export`);
  expect(diff).toBeLessThanOrEqual(1);
  // And the experiment shown is the exported one.
  await expect.poll(() => new URL(page.url()).hash).toBe(hash);
  expect(await page.getByTestId('layer-shape').allTextContents()).toEqual(shapes);
  await expect(page.getByLabel('Training images')).toHaveValue('480');
  await expect(page.getByRole('button', { name: 'Export model' })).toBeEnabled();
});

test('Export model is off while training runs and exports the paused model, with the steps it has done', async ({ page }, testInfo) => {
  await page.goto('/');
  // 9,000 images: far more steps than the test waits for.
  await useTinyExperiment(page, { trainSize: 9000, epochs: 1, backend: 'wasm' });
  await page.getByRole('button', { name: 'Train' }).click();
  await expect.poll(async () => (await snapshot(page)).trainLoss.length, { timeout: 60_000 }).toBeGreaterThan(2);
  await expect(page.getByRole('button', { name: 'Export model' })).toBeDisabled();
  await expect(page.getByLabel('Import model')).toBeDisabled();
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();
  const steps = (await snapshot(page)).trainLoss.at(-1)?.step ?? 0;
  expect(steps).toBeGreaterThan(2);
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: 'Export model' }).click();
  await expect.poll(() => downloads.length).toBe(2);
  const json = downloads.find((d) => d.suggestedFilename() === 'model.json');
  if (!json) throw new Error('no model.json downloaded');
  const path = testInfo.outputPath('model.json');
  await json.saveAs(path);
  const meta = (JSON.parse(readFileSync(path, 'utf8')) as { userDefinedMetadata: { autoencoderPlayground: { trained: unknown } } }).userDefinedMetadata.autoencoderPlayground;
  expect(meta.trained).toEqual({ steps, epochs: 0, backend: 'wasm' });
  // Still paused, still the same run.
  expect((await snapshot(page)).phase).toBe('paused');
  await page.getByRole('button', { name: 'Reset' }).click();
  await expect(page.getByRole('button', { name: 'Export model' })).toBeDisabled();
});
