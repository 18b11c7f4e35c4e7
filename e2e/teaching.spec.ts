import { expect, test, type Locator, type Page } from '@playwright/test';
import { PRESETS } from '../src/model/presets';
import { waitForPhase } from './helpers';

/** A layer table row's output height and width, read from its shape column ("14×14×16" → [14, 14]). */
async function rowHW(row: Locator): Promise<[number, number]> {
  const text = (await row.getByTestId('layer-shape').textContent()) ?? '';
  const [h, w] = text.split('×').map(Number);
  return [h, w];
}

async function openIllustration(page: Page): Promise<Locator> {
  await page.getByText('How convolution works').click();
  const ill = page.getByTestId('conv-illustration');
  await expect(ill).toBeVisible();
  return ill;
}

test.describe('teaching mode (#15)', () => {
  test('every preset loads from the Preset field: its rows and its "what to look for"; an edit marks it modified', async ({ page }) => {
    await page.goto('/');
    const field = page.getByLabel('Preset');
    const note = page.getByTestId('preset-note');
    for (const p of PRESETS) {
      await field.selectOption(p.id);
      await expect(page.getByTestId('layer-row'), p.id).toHaveCount(p.spec.encoder.length + p.spec.decoder.length);
      await expect(field).toHaveValue(p.id);
      await expect(note).toBeVisible();
      await expect(note).toContainText(p.label);
      await expect(note).toContainText(p.lookFor);
    }
    // An edit: the note no longer claims the preset, it says "modified".
    await page.getByLabel('Epochs').fill('7');
    const last = PRESETS[PRESETS.length - 1];
    await expect(note).toContainText('modified');
    await expect(note).not.toContainText(last.lookFor);
    await expect(field).toHaveValue('');
    // Loading it again brings the note back.
    await field.selectOption(last.id);
    await expect(note).toContainText(last.lookFor);
  });

  test('layer help on a conv row shows its own numbers; Escape closes it and focus returns', async ({ page }) => {
    await page.goto('/');
    await page.getByLabel('Preset').selectOption('transpose');
    const row = page.getByTestId('layer-row').first();
    // Hand-computed: a 3×3 stride-2 same conv with 16 filters on 28×28×1.
    await expect(row.getByTestId('layer-shape')).toHaveText('14×14×16');
    await expect(row.getByTestId('layer-params')).toHaveText('160');
    const button = page.getByRole('button', { name: 'Help for Encoder layer 1 (conv2d)' });
    await button.click();
    const help = page.getByTestId('layer-help');
    await expect(help).toBeVisible();
    await expect(help).toBeFocused();
    await expect(help).toContainText('ceil(in / stride)');
    await expect(help.getByTestId('help-shape')).toContainText('ceil(28 / 2) = 14');
    await expect(help.getByTestId('help-params')).toHaveText('3 × 3 × 1 × 16 + 16 = 160');
    await page.keyboard.press('Escape');
    await expect(help).toHaveCount(0);
    await expect(button).toBeFocused();
    // A transposed conv's rule, from the keyboard.
    const deconv = page.getByRole('button', { name: 'Help for Decoder layer 1 (conv2dTranspose)' });
    await deconv.focus();
    await page.keyboard.press('Enter');
    await expect(help.getByTestId('help-shape')).toContainText('7 × 2 = 14');
    await expect(help.getByTestId('help-params')).toHaveText('3 × 3 × 4 × 16 + 16 = 592');
    await page.keyboard.press('Escape');
    await expect(deconv).toBeFocused();
  });

  test('the convolution illustration: by hand and from a row, its output grid is the layer table’s', async ({ page }) => {
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await page.goto('/');
    await page.getByLabel('Preset').selectOption('transpose');
    const ill = await openIllustration(page);
    // By hand: the encoder's second stride-2 conv (layer 3: 3×3, stride 2, same, on 14×14).
    await ill.getByLabel('Illustration mode').selectOption('conv');
    await ill.getByLabel('Illustration input size').fill('14');
    await ill.getByLabel('Illustration kernel size').fill('3');
    await ill.getByLabel('Illustration stride').fill('2');
    await ill.getByLabel('Illustration padding').selectOption('same');
    const filled = ill.locator('[data-testid="illus-out-cell"][data-filled="true"]');
    await expect(ill.getByTestId('illus-position')).toHaveText('0 / 49');
    await expect(filled).toHaveCount(0);
    await ill.getByRole('button', { name: 'Next' }).click();
    await ill.getByRole('button', { name: 'Next' }).click();
    await expect(ill.getByTestId('illus-position')).toHaveText('2 / 49');
    await expect(filled).toHaveCount(2);
    await ill.getByRole('button', { name: 'Last' }).click();
    const [h, w] = await rowHW(page.getByTestId('layer-row').nth(2));
    expect([h, w]).toEqual([7, 7]);
    await expect(ill.getByTestId('illus-out-cell')).toHaveCount(h * w);
    await expect(filled).toHaveCount(h * w);
    await expect(ill.getByTestId('illus-out-size')).toHaveText(`${h}×${w}`);

    // From a row: Show on the decoder's first transposed conv (7×7×4 → 14×14×16).
    await page.getByRole('button', { name: 'Show Decoder layer 1 in the convolution illustration' }).click();
    await expect(ill.getByLabel('Illustration mode')).toHaveValue('transposed');
    await expect(ill.getByLabel('Illustration input size')).toHaveValue('7');
    await expect(ill.getByLabel('Illustration stride')).toHaveValue('2');
    await expect(ill.getByTestId('illus-position')).toHaveText('0 / 49');
    // One stamp covers 3×3 output cells (none cropped at the top-left corner).
    await ill.getByRole('button', { name: 'Next' }).focus();
    await page.keyboard.press('Enter');
    await expect(filled).toHaveCount(9);
    await ill.getByRole('button', { name: 'Last' }).click();
    const decoderRow = page.getByTestId('layer-row').nth(4);
    const [dh, dw] = await rowHW(decoderRow);
    expect([dh, dw]).toEqual([14, 14]);
    await expect(ill.getByTestId('illus-out-cell')).toHaveCount(dh * dw);
    await expect(filled).toHaveCount(dh * dw);

    // Play runs to the end by itself (4 positions: 4×4 input, 3×3 kernel, stride 1, valid → 2×2).
    await ill.getByLabel('Illustration mode').selectOption('conv');
    await ill.getByLabel('Illustration input size').fill('4');
    await ill.getByLabel('Illustration stride').fill('1');
    await ill.getByLabel('Illustration padding').selectOption('valid');
    await expect(ill.getByTestId('illus-out-size')).toHaveText('2×2');
    await ill.getByRole('button', { name: 'Play' }).click();
    await expect(ill.getByTestId('illus-position')).toHaveText('4 / 4', { timeout: 15_000 });
    await expect(ill.getByRole('button', { name: 'Play' })).toBeVisible();
  });
});

test('batch norm: after an epoch of the wiki model the note shows the training loss beside the inference-mode losses', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Preset').selectOption('wiki-5-layer');
  await page.getByLabel('Training images').fill('64');
  await page.getByLabel('Batch size').fill('16');
  await page.getByLabel('Epochs').fill('1');
  await page.getByLabel('Backend').selectOption('wasm');
  await expect(page.getByTestId('bn-note')).toHaveCount(0);
  await page.getByRole('button', { name: 'Train' }).click();
  await waitForPhase(page, ['done', 'error']);
  // The store's numbers, through the read-only test hooks (the helpers' Snapshot type leaves out testLoss.trainLoss).
  const snap = await page.evaluate(() => {
    const hooks = window.__aePlayground;
    if (!hooks) throw new Error('test hooks missing');
    return hooks.snapshot();
  });
  expect(snap.phase).toBe('done');
  // 64 images in batches of 16: 4 steps, one test point.
  expect(snap.trainLoss).toHaveLength(4);
  expect(snap.testLoss).toHaveLength(1);
  const note = page.getByTestId('bn-note');
  await expect(note).toBeVisible();
  const num = async (id: string): Promise<number> => Number.parseFloat((await note.getByTestId(id).textContent()) ?? '');
  // The training loss as the steps saw it: the mean of the 4 batch losses (fewer than the 20-step window).
  const running = snap.trainLoss.reduce((a, p) => a + p.loss, 0) / snap.trainLoss.length;
  expect(Math.abs((await num('bn-train')) - running)).toBeLessThan(1e-3 * Math.max(1, running));
  expect(Math.abs((await num('bn-test')) - snap.testLoss[0].loss)).toBeLessThan(1e-3 * Math.max(1, snap.testLoss[0].loss));
  expect(Math.abs((await num('bn-train-eval')) - snap.testLoss[0].trainLoss)).toBeLessThan(1e-3 * Math.max(1, snap.testLoss[0].trainLoss));
  console.log(`wiki, 4 steps: train (batch statistics) ${running.toFixed(4)}, train images in inference mode ${snap.testLoss[0].trainLoss.toFixed(4)}, test ${snap.testLoss[0].loss.toFixed(4)}`);
  await expect(note).toContainText('momentum 0.99');
});
