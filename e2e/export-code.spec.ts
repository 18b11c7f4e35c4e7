import { readFile } from 'node:fs/promises';
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { DEFAULT_SPEC } from '../src/model/presets';

/** Issue #18: "Export code" shows and downloads the design as a PyTorch and a Keras script. */
test('Export code shows the PyTorch and Keras scripts of the design and downloads them', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('/');
  // A change to the design must show in the script: the second conv of the encoder gets 6 filters.
  await page.getByLabel('Encoder layer 4 filters').fill('6');
  const opener = page.getByRole('button', { name: 'Export code' });
  await opener.click();
  const dialog = page.getByRole('dialog', { name: 'Export code' });
  await expect(dialog).toBeVisible();
  const code = dialog.getByTestId('export-code');
  await expect(dialog.getByRole('tab', { name: 'PyTorch' })).toBeFocused();
  const axe = await new AxeBuilder({ page }).include('.export-code-dialog').analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);

  const convs = [...DEFAULT_SPEC.encoder, ...DEFAULT_SPEC.decoder].filter((l) => l.kind === 'conv2d').length;
  const py = (await code.textContent()) ?? '';
  expect(py.match(/^ {12}\("\w+", Conv2d\(/gm)).toHaveLength(convs);
  expect(py).toContain('("enc3_conv2d", Conv2d(16, 6, 3, 1,');
  expect(py).toContain('torchrun --nproc_per_node');
  // The link back: opening it gives the same design.
  const link = /^# Experiment: (\S+)$/m.exec(py)?.[1] ?? '';
  expect(link).toContain('#');

  const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Download autoencoder_pytorch.py' }).click()]);
  expect(download.suggestedFilename()).toBe('autoencoder_pytorch.py');
  expect(await readFile(await download.path(), 'utf8')).toBe(py);

  await dialog.getByRole('tab', { name: 'Keras' }).click();
  await expect(code).toContainText('from tensorflow import keras');
  const keras = (await code.textContent()) ?? '';
  expect(keras.match(/^ {8}layers\.Conv2D\(/gm)).toHaveLength(convs);
  const [kerasDownload] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Download autoencoder_keras.py' }).click()]);
  expect(kerasDownload.suggestedFilename()).toBe('autoencoder_keras.py');
  expect(await readFile(await kerasDownload.path(), 'utf8')).toBe(keras);
  await dialog.getByRole('button', { name: 'Copy', exact: true }).click();
  await expect(dialog.getByRole('status')).toContainText('Copied the Keras script');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(keras);

  // Escape closes, and the focus goes back to the button.
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(opener).toBeFocused();

  const other = await page.context().newPage();
  await other.goto(link);
  await expect(other.getByLabel('Encoder layer 4 filters')).toHaveValue('6');
  await other.close();
});
