/**
 * The autoencoder family (#16) in the browser, on WASM: denoising shows three rows and cleans its
 * inputs, a VAE generates, the PCA line is drawn and a linear autoencoder approaches it, a sparse code
 * has more near-zero values than a plain one, a rank-ordered run reports its cumulative error per unit.
 * Every check reads what a person sees (the canvases' pixels, the page's figures) or compares the
 * app's figures with an independent truth (PCA's error, the corrupted input's error).
 *
 * With SHOTS_DIR set, each test also saves a picture of the page for the README.
 */
import { expect, test, type Page } from '@playwright/test';
import type { TestHooks } from '../src/testHooks';
import { canvasPixels, waitForPhase } from './helpers';

type Family = ReturnType<TestHooks['snapshot']>['family'];

async function family(page: Page): Promise<{ family: Family; testLoss: { epoch: number; loss: number; kl?: number }[]; trainLoss: { step: number; loss: number; recon?: number; kl?: number }[] }> {
  return page.evaluate(() => {
    const hooks = window.__aePlayground;
    if (!hooks) throw new Error('test hooks missing');
    const s = hooks.snapshot();
    return { family: s.family, testLoss: s.testLoss, trainLoss: s.trainLoss };
  });
}

/** Grey values in [0, 1] of every canvas under `selector` (the red channel). */
async function canvases(page: Page, selector: string): Promise<number[][]> {
  return (await canvasPixels(page, selector)).map((px) => px.filter((_, i) => i % 3 === 0).map((v) => v / 255));
}

const mse = (a: number[], b: number[]): number => {
  expect(a.length).toBe(b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
};

/** With SHOTS_DIR set: a picture of one panel (by its accessible name) for the README. */
async function shot(page: Page, name: string, panel: string): Promise<void> {
  const dir = process.env.SHOTS_DIR;
  if (dir) await page.getByRole('region', { name: panel, exact: true }).screenshot({ path: `${dir}/${name}.png` });
}

async function setup(page: Page, preset: string, opts: { trainSize: number; epochs: number; learningRate?: number }): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Preset').selectOption(preset);
  await page.getByLabel('Training images').fill(String(opts.trainSize));
  await page.getByLabel('Epochs').fill(String(opts.epochs));
  if (opts.learningRate !== undefined) await page.getByLabel('Learning rate').fill(String(opts.learningRate));
  await page.getByLabel('Backend').selectOption('wasm');
}

async function train(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Train' }).click();
  await waitForPhase(page, ['done', 'error'], 240_000);
  expect((await family(page)).family).toBeTruthy();
}

test.describe('the autoencoder family', () => {
  test('denoising: three rows, and the reconstructions are nearer the clean images than the corrupted inputs are', async ({ page }) => {
    test.setTimeout(300_000);
    await setup(page, 'dense', { trainSize: 2000, epochs: 2 });
    await page.getByLabel('Variant').selectOption('denoising');
    await page.getByLabel('Corruption').selectOption('gaussian');
    await page.getByLabel('Noise', { exact: true }).fill('0.5');
    await train(page);
    const row = page.getByTestId('corrupted-row');
    await expect(row).toBeVisible();
    const grid = '[data-testid="reconstructions"]';
    const originals = await canvases(page, `${grid} [data-row="original"]`);
    const corrupted = await canvases(page, '[data-testid="corrupted-row"]');
    const recons = await canvases(page, `${grid} [data-row="reconstruction"]`);
    expect(originals.length).toBe(16);
    expect(corrupted.length).toBe(16);
    expect(recons.length).toBe(16);
    // From the pixels on screen: each corrupted input differs from its clean image by about sigma² (clipped),
    // and the reconstruction is nearer the clean image than the corrupted input is.
    const corruptedErr = originals.reduce((a, o, i) => a + mse(o, corrupted[i]), 0) / 16;
    const reconErr = originals.reduce((a, o, i) => a + mse(o, recons[i]), 0) / 16;
    console.log(`denoising on screen: corrupted vs clean ${corruptedErr.toFixed(4)}, reconstruction vs clean ${reconErr.toFixed(4)}`);
    expect(corruptedErr).toBeGreaterThan(0.05);
    expect(reconErr).toBeLessThan(corruptedErr / 2);
    const f = (await family(page)).family;
    expect(f.denoise.length).toBe(2);
    expect(f.denoise[1].reconLoss).toBeLessThan(f.denoise[1].corruptedLoss);
    await shot(page, 'variant-denoising', 'Reconstructions');
  });

  test('VAE: both loss terms are plotted, and Generate fills a grid of non-blank, different images and the 2-D manifold', async ({ page }) => {
    test.setTimeout(300_000);
    await setup(page, 'vae', { trainSize: 4000, epochs: 3 });
    await train(page);
    const snap = await family(page);
    expect(snap.trainLoss.at(-1)?.kl).toBeGreaterThan(0);
    expect(snap.testLoss.at(-1)?.kl).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    const grid = page.getByTestId('generated');
    await expect(grid.locator('canvas')).toHaveCount(64, { timeout: 60_000 });
    const samples = await canvases(page, '[data-testid="generated"]');
    for (const s of samples) {
      const mean = s.reduce((a, v) => a + v, 0) / s.length;
      const max = Math.max(...s);
      // A digit: some bright strokes on a mostly dark ground.
      expect(max).toBeGreaterThan(0.5);
      expect(mean).toBeGreaterThan(0.02);
      expect(mean).toBeLessThan(0.5);
    }
    // No two samples are the same image, and on average they differ as much as different digits do.
    let identical = 0;
    let total = 0;
    let pairs = 0;
    for (let i = 0; i < samples.length; i++) {
      for (let j = i + 1; j < samples.length; j++) {
        const d = mse(samples[i], samples[j]);
        if (d === 0) identical++;
        total += d;
        pairs++;
      }
    }
    console.log(`VAE samples: mean pairwise MSE ${(total / pairs).toFixed(4)}`);
    expect(identical).toBe(0);
    expect(total / pairs).toBeGreaterThan(0.02);
    await expect(page.getByTestId('manifold')).toBeVisible();
    await shot(page, 'variant-vae', 'Generate');
    await shot(page, 'variant-vae-loss', 'Training curves');
  });

  test('PCA baseline: the line is drawn, and a linear autoencoder ends within 15% of it', async ({ page }) => {
    test.setTimeout(300_000);
    await setup(page, 'linear', { trainSize: 9000, epochs: 4, learningRate: 0.003 });
    await train(page);
    const line = page.getByTestId('pca-line');
    await expect(line).toBeVisible();
    const snap = await family(page);
    const pca = snap.family.pca;
    if (!pca) throw new Error('no PCA result');
    expect(pca.k).toBe(32);
    expect(Number(await line.getAttribute('data-value'))).toBeCloseTo(pca.testLoss, 6);
    const final = snap.testLoss.at(-1)?.loss ?? NaN;
    console.log(`linear AE test loss ${final.toFixed(5)} vs PCA (k = 32) ${pca.testLoss.toFixed(5)}: ratio ${(final / pca.testLoss).toFixed(3)}`);
    // PCA is the best any linear code of 32 values can do on the training images; on test images too, nearly.
    expect(final).toBeGreaterThan(pca.testLoss * 0.95);
    expect(final).toBeLessThan(pca.testLoss * 1.15);
    await expect(page.getByTestId('pca-row').locator('canvas')).toHaveCount(16);
    await shot(page, 'variant-pca', 'Training curves');
  });

  test('sparse: the near-zero share of the code rises above the plain run’s', async ({ page }) => {
    test.setTimeout(300_000);
    const share = async (): Promise<number> => Number(await page.getByTestId('code-histogram').getAttribute('data-near-zero'));
    await setup(page, 'sparse', { trainSize: 2000, epochs: 2 });
    await page.getByLabel('Variant').selectOption('plain');
    await train(page);
    const plain = await share();
    await page.getByLabel('Variant').selectOption('sparse');
    await train(page);
    const sparse = await share();
    console.log(`near-zero share of the code: plain ${plain.toFixed(3)}, sparse ${sparse.toFixed(3)}`);
    expect(sparse).toBeGreaterThan(plain + 0.1);
    await expect(page.getByTestId('code-histogram')).toBeVisible();
    await shot(page, 'variant-sparse', 'Bottleneck code');
  });

  test('rank-ordered: the cumulative error per unit falls as units are added, and the code is clipped to [0, 1]', async ({ page }) => {
    test.setTimeout(300_000);
    await setup(page, 'rank-ordered', { trainSize: 2000, epochs: 2 });
    await train(page);
    const curve = (await family(page)).family.rankCurve;
    if (!curve) throw new Error('no rank curve');
    expect(curve.length).toBe(32);
    expect(curve[curve.length - 1]).toBeLessThan(curve[0]);
    // The code is clipped to [0, 1]: the histogram's range, as the page states it.
    const range = /from (-?[\d.]+) to (-?[\d.]+)/.exec((await page.getByTestId('code-histogram').locator('svg').getAttribute('aria-label')) ?? '');
    expect(Number(range?.[1])).toBeGreaterThanOrEqual(0);
    expect(Number(range?.[2])).toBeLessThanOrEqual(1);
    await shot(page, 'variant-rank-ordered', 'Bottleneck code');
    // The same model trained plain was never asked to reconstruct from a few units: with each image's 4
    // largest code values kept, its error is higher than the rank-ordered model's (what rank-ordered
    // training optimises: the error at every r).
    const early = (c: number[]): number => c[3];
    await page.getByLabel('Variant').selectOption('plain');
    await train(page);
    const plain = (await family(page)).family.rankCurve;
    if (!plain) throw new Error('no rank curve for the plain run');
    const mean = (c: number[]): number => c.reduce((a, v) => a + v, 0) / c.length;
    console.log(
      `test error with 4 of 32 units: rank-ordered ${early(curve).toFixed(4)}, plain ${early(plain).toFixed(4)}; mean over r: ${mean(curve).toFixed(4)} vs ${mean(plain).toFixed(4)}`,
    );
    expect(early(curve)).toBeLessThan(early(plain));
  });

  test('a sweep over Beta trains one VAE per value; the runs table shows each run’s variant', async ({ page }) => {
    test.setTimeout(300_000);
    await setup(page, 'vae', { trainSize: 128, epochs: 1 });
    await page.getByLabel('Variant').selectOption('plain'); // the sweep switches the runs to VAEs
    await page.getByLabel('Sweep over').selectOption('beta');
    await page.getByLabel('Beta values').fill('0.5, 4');
    await page.getByRole('button', { name: 'Sweep', exact: true }).click();
    await expect(page.getByTestId('run-row')).toHaveCount(2, { timeout: 240_000 });
    await expect(page.getByRole('button', { name: 'Sweep', exact: true })).toBeVisible({ timeout: 120_000 });
    await expect(page.getByTestId('run-variant')).toHaveText(['VAE β=4 · BCE', 'VAE β=0.5 · BCE']);
    // The sweep leaves the experiment as it was.
    await expect(page.getByLabel('Variant')).toHaveValue('plain');
  });

  test('on WebGPU (SwiftShader here): a VAE and a denoising run train, and Generate decodes', async ({ page }) => {
    test.setTimeout(300_000);
    await setup(page, 'vae', { trainSize: 256, epochs: 1 });
    await page.getByLabel('Backend').selectOption('webgpu');
    await train(page);
    await expect(page.getByTestId('backend')).toHaveText('WebGPU');
    const snap = await family(page);
    expect(snap.testLoss).toHaveLength(1);
    expect(Number.isFinite(snap.testLoss[0].loss)).toBe(true);
    expect(snap.testLoss[0].kl).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Generate', exact: true }).click();
    await expect(page.getByTestId('generated').locator('canvas')).toHaveCount(64, { timeout: 60_000 });
    await page.getByLabel('Preset').selectOption('tiny');
    await page.getByLabel('Training images').fill('128');
    await page.getByLabel('Backend').selectOption('webgpu');
    await page.getByLabel('Variant').selectOption('denoising');
    await train(page);
    await expect(page.getByTestId('corrupted-row').locator('canvas')).toHaveCount(16);
    const f = (await family(page)).family;
    expect(f.denoise).toHaveLength(1);
    expect(f.pca?.k).toBe(392);
  });
});
