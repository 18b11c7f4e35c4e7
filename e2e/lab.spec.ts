import { expect, test } from '@playwright/test';
import { useTinyExperiment, waitForPhase } from './helpers';

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
    await expect(page.getByTestId('code-view').getByRole('img', { name: 'Code of 32 values as bars' })).toBeVisible();
    await page.getByRole('button', { name: 'Probe' }).click();
    await expect(page.getByTestId('probe-accuracy')).toHaveText(/^\d+\.\d%$/, { timeout: 120_000 });
    await page.getByRole('button', { name: 'Copy test' }).click();
    await expect(page.getByTestId('copy-test-error')).toHaveText(/^\d/, { timeout: 120_000 });
    await expect(page.getByTestId('run-row')).toHaveCount(1);
    await expect(page.getByTestId('run-row').locator('td').nth(9)).toHaveText(/%/);
  });
});
