import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { snapshot, useTinyExperiment, waitForPhase } from './helpers';

/** The feature maps on screen: step and image shown, and a hash of every map canvas's pixels. */
async function shownMaps(page: Page): Promise<{ step: number; image: number; hash: number; canvases: number }> {
  return page.evaluate(() => {
    const root = document.querySelector<HTMLElement>('[data-testid="feature-maps"]');
    if (!root) throw new Error('no feature maps panel');
    let hash = 2166136261;
    const canvases = Array.from(root.querySelectorAll<HTMLCanvasElement>('[data-testid="feature-map-layer"] canvas'));
    for (const c of canvases) {
      const ctx = c.getContext('2d');
      if (!ctx) throw new Error('a canvas without a 2D context');
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i++) hash = Math.imul(hash ^ d[i], 16777619);
    }
    return { step: Number(root.dataset.step ?? -1), image: Number(root.dataset.image ?? -1), hash: hash >>> 0, canvases: canvases.length };
  });
}

/** Each layer's output shape as the layer table shows it ("28×28×4"), encoder then decoder. */
async function tableShapes(page: Page): Promise<number[][]> {
  const texts = await page.getByTestId('layer-shape').allTextContents();
  return texts.map((t) => t.split('×').map(Number));
}

test('Look inside: one group of maps per layer, sized as the layer table says, changing while training and with the image', async ({ page }) => {
  test.setTimeout(150_000);
  await page.goto('/');
  // The tiny preset on WASM: 32 steps an epoch, 2 epochs.
  await useTinyExperiment(page, { trainSize: 512, epochs: 2, backend: 'wasm' });
  const shapes = await tableShapes(page);
  const encoderLayers = await page.getByRole('region', { name: 'Encoder' }).getByTestId('layer-row').count();
  expect(shapes.length).toBe(7);
  expect(encoderLayers).toBe(5);
  // Collapsed by default: nothing is computed or drawn.
  await expect(page.getByTestId('feature-maps')).toHaveCount(0);
  await page.getByRole('button', { name: 'Look inside' }).click();
  await expect(page.getByTestId('feature-maps')).toBeVisible();

  // Record every refresh shown while the run trains: the step it belongs to (every one, noted in the page
  // as the panel's data-step changes: the tiny model can run an epoch's 31 steps between two polls) and,
  // for the refreshes a poll catches, its pixels.
  await page.evaluate(() => {
    const root = document.querySelector<HTMLElement>('[data-testid="feature-maps"]');
    if (!root) throw new Error('no feature maps panel');
    const steps: number[] = [];
    (window as unknown as { __fmSteps: number[] }).__fmSteps = steps;
    new MutationObserver(() => {
      const step = Number(root.dataset.step ?? -1);
      if (step > 0 && steps[steps.length - 1] !== step) steps.push(step);
    }).observe(root, { attributes: true, attributeFilter: ['data-step'] });
  });
  const seen = new Map<number, number>();
  await page.getByRole('button', { name: 'Train' }).click();
  const maps = page.getByTestId('feature-map-layer');
  await expect(maps.first()).toBeVisible({ timeout: 120_000 });
  await expect
    .poll(
      async () => {
        const m = await shownMaps(page);
        if (m.step > 0 && m.canvases > 0) seen.set(m.step, m.hash);
        const phase = await page.evaluate(() => window.__aePlayground?.snapshot().phase ?? '');
        return phase === 'done' ? 'done' : `${phase} (${seen.size} refreshes seen)`;
      },
      { timeout: 120_000, intervals: [40] },
    )
    .toBe('done');
  // The last refresh comes at the last epoch's end; poll once more so the final maps are in.
  await expect.poll(async () => (await shownMaps(page)).step, { timeout: 10_000 }).toBe(64);
  const last = await shownMaps(page);
  seen.set(last.step, last.hash);

  // At least the first steps and the two epoch ends were shown, and the maps differed between refreshes.
  const steps = [...new Set([...(await page.evaluate(() => (window as unknown as { __fmSteps: number[] }).__fmSteps)), ...seen.keys()])].sort((a, b) => a - b);
  console.log(`feature maps shown at steps ${steps.join(', ')}`);
  expect(steps.length, `refreshes at steps ${steps.join(', ')}`).toBeGreaterThanOrEqual(3);
  expect(steps).toContain(32);
  expect(new Set(seen.values()).size, `hashes ${[...seen.entries()].join(' ')}`).toBe(seen.size);

  // One group per layer, encoder then decoder, sized as the layer table says; the code layer marked.
  await expect(maps).toHaveCount(shapes.length);
  for (let i = 0; i < shapes.length; i++) {
    const group = maps.nth(i);
    await expect(group).toHaveAttribute('data-layer-index', String(i));
    const [h, w, c] = shapes[i];
    const canvases = group.locator('canvas');
    await expect(canvases).toHaveCount(Math.min(c, 16));
    const sizes = await canvases.evaluateAll((els) => els.map((e) => [(e as HTMLCanvasElement).height, (e as HTMLCanvasElement).width]));
    for (const s of sizes) expect(s, `layer ${i}`).toEqual([h, w]);
    await expect(group.locator('.fmap-shape')).toHaveText(`${h}×${w}×${c}`);
  }
  const code = page.locator('[data-testid="feature-map-layer"][data-code="true"]');
  await expect(code).toHaveCount(1);
  await expect(code).toHaveAttribute('data-layer-index', String(encoderLayers - 1));
  await expect(code).toContainText('code');

  // Tensors stay flat with the maps refreshing: the same count after each epoch, and after the run.
  await expect.poll(async () => (await snapshot(page)).memoryLog.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(3);
  const memory = (await snapshot(page)).memoryLog;
  expect(memory[1].numTensors).toBe(memory[0].numTensors);

  // Another image (from the reconstruction grid): its maps, computed after training, differ.
  const before = await shownMaps(page);
  expect(before.image).toBe(0);
  await page.getByRole('button', { name: 'Show the code of test image 5' }).click();
  await expect.poll(async () => (await shownMaps(page)).image, { timeout: 20_000 }).toBe(4);
  await expect.poll(async () => (await shownMaps(page)).hash, { timeout: 10_000 }).not.toBe(before.hash);
  expect((await shownMaps(page)).step).toBe(64);
  // Computing them left no tensor behind.
  await page.evaluate(() => window.__aePlayground?.requestMemory());
  await expect.poll(async () => (await snapshot(page)).memoryLog.length, { timeout: 20_000 }).toBeGreaterThan(memory.length);
  const afterSwitch = (await snapshot(page)).memoryLog;
  expect(afterSwitch[afterSwitch.length - 1].numTensors).toBe(memory[memory.length - 1].numTensors);
  // The open panel passes an automated accessibility check (no serious or critical violations).
  const axe = await new AxeBuilder({ page }).include('section[aria-label="Look inside"]').analyze();
  const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  // Closed again: the panel goes.
  await page.getByRole('button', { name: 'Look inside' }).click();
  await expect(page.getByTestId('feature-maps')).toHaveCount(0);
  await waitForPhase(page, ['done']);
});
