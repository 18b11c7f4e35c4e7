// Reproduces the bottleneck study's comparison in the app: trains the four 196-value bottlenecks
// (or the shapes given) on a 600-image MNIST subset through the UI's Sweep, and prints the runs table.
// Usage: node scripts/study-sweep.mjs [epochs] [shapes] [trainSize]   (needs `npx vite preview` on :4173)
import { chromium } from '@playwright/test';

const epochs = process.argv[2] ?? '20';
const shapes = process.argv[3] ?? '7x7x4, 14x14x1, 2x2x49, 1x1x196';
const trainSize = process.argv[4] ?? '600';
const url = process.env.APP_URL ?? 'http://127.0.0.1:4173/';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
await page.goto(url);
await page.getByLabel('Preset').selectOption('default');
await page.getByLabel('Training images').fill(trainSize);
await page.getByLabel('Epochs').fill(epochs);
await page.getByLabel('Backend').selectOption(process.env.BACKEND ?? 'wasm');
await page.getByLabel('Bottleneck shapes').fill(shapes);
const t0 = Date.now();
await page.getByRole('button', { name: 'Sweep', exact: true }).click();
await page.getByRole('button', { name: 'Stop sweep' }).waitFor();
await page.getByRole('button', { name: 'Sweep', exact: true }).waitFor({ timeout: 3_600_000 });
const header = await page.getByTestId('runs-table').locator('thead th').allTextContents();
const rows = await page.getByTestId('run-row').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
console.log(`| ${header.slice(1, 12).join(' | ')} |`);
console.log(`|${header.slice(1, 12).map(() => '---').join('|')}|`);
for (const r of rows.reverse()) console.log(`| ${r.slice(1, 12).join(' | ')} |`);
if (process.env.SHOT) {
  await page.getByRole('checkbox', { name: /^Overlay/ }).first().waitFor();
  for (const box of await page.getByRole('checkbox', { name: /^Overlay/ }).all()) await box.check();
  // A tall viewport instead of fullPage, so the sticky architecture panel stays at the top.
  await page.setViewportSize({ width: 1600, height: await page.evaluate(() => document.body.scrollHeight) });
  await page.screenshot({ path: process.env.SHOT });
}
console.log(`\nMNIST, ${trainSize} training images, ${epochs} epochs, batch 32, Adam 0.002, BCE, seed 1; ${((Date.now() - t0) / 1000).toFixed(0)} s in all`);
await browser.close();
