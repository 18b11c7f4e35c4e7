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

/**
 * How the shown reconstructions compare with the shown originals, read from the canvases' pixels
 * (what a person sees, independent of the app's own loss figures). mse[i][j]: mean squared difference,
 * on values in [0, 1], between test image i and the reconstruction of test image j.
 */
export interface Fidelity {
  count: number;
  mse: number[][];
  /** Mean over i of mse[i][i]: each original against its own reconstruction. */
  matched: number;
  /** Mean over i ≠ j of mse[i][j]: an original against another image's reconstruction. */
  mismatched: number;
  /** Images whose own reconstruction is nearer to them than every other image's reconstruction. */
  identified: number;
  /** Mean of the originals' squared values: the error of an all-black "reconstruction". */
  blank: number;
}

export async function reconstructionFidelity(page: Page): Promise<Fidelity> {
  return page.evaluate(() => {
    const read = (prefix: string): number[][] =>
      Array.from(document.querySelectorAll<HTMLCanvasElement>('[data-testid="reconstructions"] canvas'))
        .filter((c) => (c.getAttribute('aria-label') ?? '').startsWith(prefix))
        .map((c) => {
          const ctx = c.getContext('2d');
          if (!ctx) throw new Error('a canvas without a 2D context');
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          // Grey images: the red channel; colour ones: all three.
          const out: number[] = [];
          for (let i = 0; i < d.length; i += 4) out.push(d[i] / 255, d[i + 1] / 255, d[i + 2] / 255);
          return out;
        });
    const originals = read('Test image ');
    const recons = read('Reconstruction of test image ');
    if (originals.length === 0 || recons.length !== originals.length) throw new Error(`${originals.length} originals, ${recons.length} reconstructions shown`);
    const n = originals.length;
    const dist = (a: number[], b: number[]): number => {
      if (a.length !== b.length) throw new Error('images of different sizes');
      let s = 0;
      for (let k = 0; k < a.length; k++) s += (a[k] - b[k]) ** 2;
      return s / a.length;
    };
    const mse = originals.map((o) => recons.map((r) => dist(o, r)));
    let matched = 0;
    let mismatched = 0;
    let identified = 0;
    for (let i = 0; i < n; i++) {
      matched += mse[i][i] / n;
      let nearestOther = Infinity;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        mismatched += mse[i][j] / (n * (n - 1));
        nearestOther = Math.min(nearestOther, mse[i][j]);
      }
      if (mse[i][i] < nearestOther) identified++;
    }
    const blank = originals.reduce((a, o) => a + o.reduce((s, v) => s + v * v, 0) / o.length, 0) / n;
    return { count: n, mse, matched, mismatched, identified, blank };
  });
}

/** What the reconstructions panel shows and where training is, read at one moment. */
export async function viewsState(page: Page): Promise<{ reconStep: number; lastStep: number; epochsDone: number; phase: string }> {
  return page.evaluate(() => {
    const hooks = window.__aePlayground;
    if (!hooks) throw new Error('test hooks missing');
    const s = hooks.snapshot();
    const text = document.querySelector('[data-testid="reconstruction-step"]')?.textContent ?? '';
    return { reconStep: Number(/step (\d+)/.exec(text)?.[1] ?? -1), lastStep: s.trainLoss.at(-1)?.step ?? 0, epochsDone: s.testLoss.length, phase: s.phase };
  });
}

/** Values (r, g, b in 0..255) of every canvas under `selector`. */
export async function canvasPixels(page: Page, selector: string): Promise<number[][]> {
  return page.evaluate((sel) => {
    return Array.from(document.querySelectorAll<HTMLCanvasElement>(`${sel} canvas`)).map((c) => {
      const ctx = c.getContext('2d');
      if (!ctx) throw new Error('a canvas without a 2D context');
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const out: number[] = [];
      for (let i = 0; i < d.length; i += 4) out.push(d[i], d[i + 1], d[i + 2]);
      return out;
    });
  }, selector);
}
