import { expect, type Page } from '@playwright/test';

export interface Snapshot {
  phase: string;
  trainLoss: { step: number; loss: number }[];
  testLoss: { epoch: number; loss: number }[];
  memoryLog: { numTensors: number; numBytes: number; runsActive: number; viewsHelperTensors: number | null }[];
  backend: string | null;
  imagesPerSec: number;
}

export async function snapshot(page: Page): Promise<Snapshot> {
  return page.evaluate(() => {
    const hooks = window.__aePlayground;
    if (!hooks) throw new Error('test hooks missing');
    return hooks.snapshot();
  });
}

/** Loads the tiny preset and shrinks it further so a software GPU trains it in seconds. */
export async function useTinyExperiment(page: Page, opts: { trainSize?: number; epochs?: number; backend?: string } = {}): Promise<void> {
  await page.getByLabel('Preset').selectOption('tiny');
  await page.getByLabel('Training images').fill(String(opts.trainSize ?? 128));
  await page.getByLabel('Epochs').fill(String(opts.epochs ?? 1));
  await page.getByLabel('Batch size').fill('16');
  if (opts.backend) await page.getByLabel('Backend').selectOption(opts.backend);
}

export async function waitForPhase(page: Page, phases: string[], timeout = 150_000): Promise<void> {
  await expect.poll(async () => (await snapshot(page)).phase, { timeout, intervals: [250] }).toMatch(new RegExp(`^(${phases.join('|')})$`));
}

/** Share of canvas pixels that are not black, over all reconstruction canvases. */
export async function nonBlankFraction(page: Page, which: 'Reconstruction' | 'Test image'): Promise<number> {
  return page.evaluate((prefix) => {
    const canvases = Array.from(document.querySelectorAll<HTMLCanvasElement>('[data-testid="reconstructions"] canvas')).filter((c) =>
      (c.getAttribute('aria-label') ?? '').startsWith(prefix),
    );
    let lit = 0;
    let total = 0;
    for (const c of canvases) {
      const ctx = c.getContext('2d');
      if (!ctx) continue;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < d.length; i += 4) {
        total++;
        if (d[i] > 40) lit++;
      }
    }
    return total ? lit / total : 0;
  }, which);
}
