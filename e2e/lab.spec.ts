import { expect, test } from '@playwright/test';
import { snapshot, useTinyExperiment, waitForPhase } from './helpers';

test.describe('bottleneck lab', () => {
  test('a two-run sweep fills the runs table; code view, copy test, probe, overlay, open and delete work', async ({ page }) => {
    test.setTimeout(300_000);
    await page.goto('/');
    await useTinyExperiment(page, { trainSize: 64, epochs: 2, backend: 'wasm' });
    await page.getByLabel('Bottleneck shapes').fill('14x14x1, 2x2x49');
    await page.getByRole('button', { name: 'Sweep', exact: true }).click();
    await expect(page.getByTestId('sweep-progress')).toContainText('Run 1 of 2: 14×14×1');
    const rows = page.getByTestId('run-row');
    await expect(rows).toHaveCount(2, { timeout: 240_000 });
    await expect(page.getByRole('button', { name: 'Sweep', exact: true })).toBeVisible({ timeout: 120_000 });
    // Both rows carry numbers: losses, copy-test error, probe accuracy.
    for (const shape of ['14×14×1', '2×2×49']) {
      const row = rows.filter({ hasText: shape });
      await expect(row).toHaveCount(1);
      const cells = await row.locator('td').allTextContents();
      expect(cells[3]).toBe('196'); // code values
      for (const i of [5, 6, 8]) expect(Number(cells[i]), `${shape} column ${i}: ${cells[i]}`).toBeGreaterThan(0);
      expect(cells[9]).toMatch(/^\d+\.\d% \/ \d+\.\d%$/);
      expect(cells[10]).toBe('wasm');
    }
    // The wide runs table scrolls inside its panel: the page itself never scrolls sideways (a projector).
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    // The last run's figures are on screen.
    await expect(page.getByTestId('probe-accuracy')).toHaveText(/^\d+\.\d%$/);
    await expect(page.getByTestId('copy-test-error')).toHaveText(/^\d/);
    await expect(page.getByTestId('code-view').locator('canvas[aria-label^="Code channel"]')).toHaveCount(49);
    // Overlay both test-loss curves.
    await page.getByRole('checkbox', { name: /Overlay 14×14×1/ }).check();
    await page.getByRole('checkbox', { name: /Overlay 2×2×49/ }).check();
    await expect(page.getByRole('img', { name: 'Test loss of 2 runs' })).toBeVisible();
    // The sweep left the base experiment in place; reopen a run, then delete one.
    await expect(page.getByTestId('bottleneck')).toHaveText('14×14×2 = 392');
    await page.getByRole('button', { name: /Open 2×2×49/ }).click();
    await expect(page.getByTestId('bottleneck')).toHaveText('2×2×49 = 196');
    await page.getByRole('button', { name: /Delete 14×14×1/ }).click();
    await expect(rows).toHaveCount(1);
    // Runs survive a reload (IndexedDB).
    await page.reload();
    await expect(page.getByTestId('run-row')).toHaveCount(1);
  });

  test('a flat code shows as bars, and Probe / Copy test report on a single run', async ({ page }) => {
    await page.goto('/');
    await page.getByLabel('Preset').selectOption('dense');
    await page.getByLabel('Training images').fill('64');
    await page.getByLabel('Epochs').fill('1');
    await page.getByLabel('Backend').selectOption('wasm');
    await page.getByRole('button', { name: 'Train' }).click();
    await waitForPhase(page, ['done', 'error']);
    // #19: our WebAssembly SIMD kernels (its GEMMs and Adam, for this dense model) run in the browser's worker
    await expect(page.getByTestId('kernel-path')).toHaveAttribute('data-simd', 'yes');
    await expect(page.getByTestId('kernel-path')).toContainText('WebAssembly SIMD kernels');
    await expect(page.getByTestId('code-view').getByRole('img', { name: 'Code of 32 values as bars' })).toBeVisible();
    await page.getByRole('button', { name: 'Probe' }).click();
    await expect(page.getByTestId('probe-accuracy')).toHaveText(/^\d+\.\d%$/, { timeout: 120_000 });
    await page.getByRole('button', { name: 'Copy test' }).click();
    await expect(page.getByTestId('copy-test-error')).toHaveText(/^\d/, { timeout: 120_000 });
    await expect(page.getByTestId('run-row')).toHaveCount(1);
    await expect(page.getByTestId('run-row').locator('td').nth(9)).toHaveText(/%/);
  });
});

test('on the default model, the probe and the copy test give what a working implementation must', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/');
  // The default model, two epochs on 3,000 MNIST images: enough for both figures to mean something.
  await page.getByLabel('Training images').fill('3000');
  await page.getByLabel('Epochs').fill('2');
  await page.getByLabel('Backend').selectOption('wasm');
  await page.getByRole('button', { name: 'Train' }).click();
  await waitForPhase(page, ['done', 'error']);
  expect((await snapshot(page)).phase).toBe('done');

  // Softmax regression on raw MNIST pixels is a textbook ~85-90% classifier with a few thousand images;
  // a probe that mixed up labels, features or the train/test split would be near chance (10%).
  await page.getByRole('button', { name: 'Probe' }).click();
  await expect(page.getByTestId('probe-pixel-accuracy')).toHaveText(/^\d+\.\d%$/, { timeout: 120_000 });
  const pixelAccuracy = Number((await page.getByTestId('probe-pixel-accuracy').textContent())?.replace('%', ''));
  const codeAccuracy = Number((await page.getByTestId('probe-accuracy').textContent())?.replace('%', ''));
  console.log(`probe: ${codeAccuracy}% on the code, ${pixelAccuracy}% on raw pixels`);
  expect(pixelAccuracy).toBeGreaterThan(80);
  expect(pixelAccuracy).toBeLessThanOrEqual(100);
  // The code keeps what tells digits apart: far above chance.
  expect(codeAccuracy).toBeGreaterThan(50);

  // Uniform noise is unlike anything the model learned: it reconstructs it far worse than test digits.
  // A copy test that fed the test images in every row, or an identity model, would not show that.
  await page.getByRole('button', { name: 'Copy test' }).click();
  await expect(page.getByTestId('copy-test-error')).toHaveText(/^\d/, { timeout: 120_000 });
  const rowLoss = async (name: RegExp): Promise<number> => {
    const row = page.locator('.copy-table tr').filter({ has: page.getByRole('rowheader', { name }) });
    await expect(row).toHaveCount(1);
    return Number(await row.locator('td.num').textContent());
  };
  const testError = await rowLoss(/^Test images/);
  const noiseError = await rowLoss(/^Uniform noise$/);
  const copyError = Number(await page.getByTestId('copy-test-error').textContent());
  console.log(`copy test: test images ${testError}, uniform noise ${noiseError}, out-of-data mean ${copyError}`);
  expect(Number.isFinite(testError) && testError > 0).toBe(true);
  // The test error of a model that reconstructs (the reconstructions are checked pixel by pixel in the
  // live-views test): well under the ~0.11 of an all-black output.
  expect(testError).toBeLessThan(0.05);
  expect(noiseError).toBeGreaterThan(2 * testError);
  expect(copyError).toBeGreaterThan(testError);
});
