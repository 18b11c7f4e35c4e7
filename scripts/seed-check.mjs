// Trains the default experiment for one epoch over several seeds in headless Chromium and reports
// test loss, collapse warnings and reconstruction brightness. Usage: node scripts/seed-check.mjs [seeds] [backend]
import { chromium } from '@playwright/test';

const seeds = Number(process.argv[2] ?? 5);
const backend = process.argv[3] ?? 'auto';
const url = process.env.APP_URL ?? 'http://127.0.0.1:4173/';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
    '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
});
const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
await page.goto(url);
const rows = [];
for (let seed = 1; seed <= seeds; seed++) {
  await page.getByLabel('Preset').selectOption('default');
  await page.getByLabel('Epochs').fill('1');
  await page.getByLabel('Seed').fill(String(seed));
  await page.getByLabel('Backend').selectOption(backend);
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Train' }).click();
  await page.waitForFunction(() => ['done', 'error'].includes(window.__aePlayground.snapshot().phase), null, { timeout: 600000, polling: 500 });
  const snap = await page.evaluate(() => window.__aePlayground.snapshot());
  const warning = await page.locator('.warning').textContent().catch(() => null);
  const lit = await page.evaluate(() => {
    const cs = [...document.querySelectorAll('[data-testid="reconstructions"] canvas')].filter((c) => c.getAttribute('aria-label').startsWith('Reconstruction'));
    let s = 0, n = 0;
    for (const c of cs) { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 0; i < d.length; i += 4) { s += d[i]; n++; } }
    return s / n / 255;
  });
  rows.push({ seed, backend: snap.backend, phase: snap.phase, testLoss: snap.testLoss.at(-1)?.loss, meanPixel: lit, imagesPerSec: Math.round(snap.imagesPerSec), seconds: (Date.now() - t0) / 1000, collapse: Boolean(warning) });
  console.log(JSON.stringify(rows.at(-1)));
  if (seed === 1 && process.env.SHOT) await page.screenshot({ path: process.env.SHOT, fullPage: true });
}
await browser.close();
