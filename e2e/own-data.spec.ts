/**
 * Own images and the latent explorer (#17), in the browser on WASM: real PNG files (written by the test
 * with Node's zlib) dropped in as a folder and as a zip, resized, stored in IndexedDB and trained on; the
 * bad inputs the issue lists each get their message; a link to a set this browser lacks says so; the
 * latent map draws one point per test image, the interpolation strips and the code sliders decode.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { expect, test, type Page } from '@playwright/test';
import { discPng, encodePng, squarePng } from './png';
import { canvasPixels, snapshot, waitForPhase } from './helpers';

/** A folder `name` with sub-folders discs/ and squares/, n images each, of size × size pixels. */
function shapesFolder(name: string, n: number, size: number, rgb = false): string {
  const root = mkdtempSync(join(tmpdir(), 'ae-own-'));
  const dir = join(root, name);
  for (const kind of ['discs', 'squares']) {
    mkdirSync(join(dir, kind), { recursive: true });
    for (let i = 0; i < n; i++) {
      const c = size / 2 + ((i % 5) - 2) * (size / 12);
      const colour: number | [number, number, number] = rgb ? [255, (i * 50) % 256, 40] : 255;
      const png = kind === 'discs' ? discPng(size, c, size / 2, size / 4, colour) : squarePng(size, size / 2, c, size / 5, colour);
      writeFileSync(join(dir, kind, `${kind}-${i}.png`), png);
    }
  }
  return dir;
}

/** With SHOTS_DIR set: a picture of an element for the README. */
async function shot(page: Page, name: string, selector: string): Promise<void> {
  const dir = process.env.SHOTS_DIR;
  if (dir) await page.locator(selector).first().screenshot({ path: `${dir}/${name}.png` });
}

async function openApp(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('dropzone')).toBeVisible();
}

async function trainTiny(page: Page, preset = 'default', trainSize?: number): Promise<void> {
  await page.getByLabel('Preset').selectOption(preset);
  if (trainSize !== undefined) await page.getByLabel('Training images').fill(String(trainSize));
  await page.getByLabel('Epochs').fill('1');
  await page.getByLabel('Batch size').fill('16');
  await page.getByLabel('Backend').selectOption('wasm');
  await page.getByRole('button', { name: 'Train' }).click();
  await waitForPhase(page, ['done']);
}

test.describe('own images (#17)', () => {
  test('a folder of PNGs with labels from its sub-folders becomes a data set, trains, and its codes are mapped', async ({ page }) => {
    const dir = shapesFolder('Discs and squares', 10, 40);
    await openApp(page);
    await page.getByLabel('Image size').selectOption('28');
    await page.getByTestId('own-folder').setInputFiles(dir);
    const outcome = page.getByTestId('import-outcome');
    await expect(outcome).toContainText('Imported “Discs and squares”: 20 images, 28×28 grey, 2 labels from folder names (17 train / 3 test)');
    await expect(page.getByLabel('Data set')).toHaveValue('own:Discs and squares');
    // The set survives a reload (IndexedDB) and is still chosen (the experiment is kept in the link).
    await page.reload();
    await expect(page.getByLabel('Data set')).toHaveValue('own:Discs and squares');
    await expect(page.getByRole('list', { name: 'Image sets in this browser' })).toContainText('Discs and squares');
    await trainTiny(page);
    // The originals row shows the stored, resized images: a disc or square, white on black.
    const originals = await canvasPixels(page, '[data-testid="reconstructions"] [data-row="original"]');
    expect(originals.length).toBe(3);
    for (const px of originals) {
      expect(px.length).toBe(28 * 28 * 3);
      const lit = px.filter((v, i) => i % 3 === 0 && v > 128).length;
      expect(lit).toBeGreaterThan(30);
      expect(lit).toBeLessThan(500);
    }
    await page.getByRole('button', { name: 'Map the codes' }).click();
    const map = page.getByTestId('latent-map');
    await expect(map).toHaveAttribute('data-points', '3');
    await expect(map.locator('circle.latent-point')).toHaveCount(3);
    await expect(page.getByRole('list', { name: 'Labels' })).toContainText('discs');
    await shot(page, 'own-images', '.own-images');
    // The default model's knobs: 32 of its 196 code values; frame times read from the page, reported.
    const sliders = page.getByTestId('code-sliders');
    await expect(sliders.getByRole('slider')).toHaveCount(32);
    await expect(sliders).toContainText('the 32 of its 196 values that vary most');
    const decoded = page.getByTestId('slider-decoded');
    await expect(decoded.locator('canvas')).toHaveCount(1);
    await sliders.getByRole('slider').first().focus();
    const times: number[] = [];
    for (let k = 0; k < 10; k++) {
      const was = Number(await decoded.getAttribute('data-frames'));
      await page.keyboard.press(k % 2 === 0 ? 'PageUp' : 'PageDown');
      await expect.poll(async () => Number(await decoded.getAttribute('data-frames'))).toBeGreaterThan(was);
      times.push(Number(await decoded.getAttribute('data-ms')));
    }
    console.log(`slider decode frame times (ms, wasm, default conv AE): ${times.map((t) => t.toFixed(1)).join(', ')}`);
  });

  test('a zip of RGB PNGs at 32×32 trains with 3-channel images throughout', async ({ page }) => {
    const files: Record<string, Uint8Array> = {};
    for (let i = 0; i < 12; i++) files[`pics/red-${i}.png`] = discPng(48, 16 + i, 24, 10, [230, 20, 20]);
    for (let i = 0; i < 12; i++) files[`pics/blue-${i}.png`] = squarePng(48, 24, 14 + i, 8, [20, 40, 230]);
    files['pics/readme.txt'] = new TextEncoder().encode('not an image');
    await openApp(page);
    await page.getByLabel('Image size').selectOption('32');
    await page.getByLabel('Colour').selectOption('3');
    await page.getByTestId('own-files').setInputFiles({ name: 'colours.zip', mimeType: 'application/zip', buffer: Buffer.from(zipSync(files)) });
    await expect(page.getByTestId('import-outcome')).toContainText('Imported “colours”: 24 images, 32×32 RGB');
    // Only .png entries are read from a zip; the text file is not an image and is not listed as one.
    await expect(page.getByLabel('Data set')).toHaveValue('own:colours');
    // The default preset fits itself to 32×32×3: its last convolution makes 3 channels.
    await page.getByLabel('Preset').selectOption('default');
    await expect(page.getByTestId('layer-shape').last()).toContainText('32×32×3');
    await trainTiny(page);
    const originals = await canvasPixels(page, '[data-testid="reconstructions"] [data-row="original"]');
    expect(originals.length).toBeGreaterThan(0);
    // Colour survives: some pixel is strongly red or blue (R and B far apart), which a grey image never is.
    for (const px of originals) {
      let colourful = 0;
      for (let i = 0; i < px.length; i += 3) if (Math.abs(px[i] - px[i + 2]) > 120) colourful++;
      expect(colourful).toBeGreaterThan(20);
    }
    const recon = await canvasPixels(page, '[data-testid="reconstructions"] [data-row="reconstruction"]');
    expect(recon.length).toBe(originals.length);
    expect(recon[0].length).toBe(32 * 32 * 3);
  });

  test('bad input gets a message and loses nothing', async ({ page }) => {
    await openApp(page);
    await page.getByLabel('Image size').selectOption('28');
    const outcome = page.getByTestId('import-outcome');
    const filesInput = page.getByTestId('own-files');
    // Two good images, a text file, a damaged PNG and a corrupt zip: the good ones are imported, the rest listed.
    const good = discPng(30, 15, 15, 8, 255);
    await filesInput.setInputFiles([
      { name: 'a.png', mimeType: 'image/png', buffer: good },
      { name: 'b.png', mimeType: 'image/png', buffer: squarePng(30, 15, 15, 6, 200) },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') },
      { name: 'broken.png', mimeType: 'image/png', buffer: good.subarray(0, 60) },
      { name: 'broken.zip', mimeType: 'application/zip', buffer: Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 7)]) },
    ]);
    await expect(outcome).toContainText('Imported “My images”: 2 images');
    const skipped = page.getByTestId('import-skipped');
    await expect(skipped).toContainText('Skipped files (3)');
    await expect(skipped).toContainText('notes.txt: not an image');
    await expect(skipped).toContainText('broken.png: could not be decoded');
    await expect(skipped).toContainText('broken.zip: not a readable zip file');

    // A corrupt zip alone: nothing imported, and the set imported above is still there.
    await filesInput.setInputFiles({ name: 'only.zip', mimeType: 'application/zip', buffer: Buffer.from('PK\x03\x04 this is not really a zip file at all') });
    await expect(outcome).toHaveClass(/error/);
    await expect(outcome).toContainText('No images found');
    await expect(outcome).toContainText('not a readable zip file');
    await expect(page.getByRole('list', { name: 'Image sets in this browser' })).toContainText('My images');

    // An empty folder (a drop with nothing in it).
    await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: await page.evaluateHandle(() => new DataTransfer()) });
    await expect(outcome).toContainText('No images found: the folder or zip is empty.');

    // A 6000×6000 photo is read (the browser shrinks it before our resize) next to a small image.
    const big = encodePng(6000, 6000, (x, y) => (((x >> 11) + (y >> 11)) % 2 === 0 ? 250 : 10));
    await filesInput.setInputFiles([
      { name: 'huge.png', mimeType: 'image/png', buffer: big },
      { name: 'small.png', mimeType: 'image/png', buffer: good },
    ]);
    await expect(outcome).toContainText('2 images, 28×28 grey', { timeout: 60_000 });
    await expect(page.getByLabel('Data set')).toHaveValue('own:My images (2)');
    // The checkerboard's 2,048-pixel squares survive as blocks of light and dark (read from IndexedDB), not a grey mush.
    const stored = await page.evaluate(
      () =>
        new Promise<number[]>((resolve, reject) => {
          const open = indexedDB.open('ae-playground-images');
          open.onerror = () => reject(new Error('cannot open the images database'));
          open.onsuccess = () => {
            const get = open.result.transaction('pixels').objectStore('pixels').get('My images (2)');
            get.onsuccess = () => resolve(Array.from((get.result as { pixels: Uint8Array }).pixels.subarray(0, 28 * 28)));
            get.onerror = () => reject(new Error('cannot read the set'));
          };
        }),
    );
    expect(stored.filter((v) => v > 200).length).toBeGreaterThan(28 * 28 * 0.3);
    expect(stored.filter((v) => v < 50).length).toBeGreaterThan(28 * 28 * 0.3);

    // A full storage quota: the import says so, and the sets already stored are untouched. Chromium's
    // quota override (DevTools) only refuses new databases, not writes to an existing one, so the test makes
    // IndexedDB refuse writes as a full disk does: put() throws the browser's own QuotaExceededError.
    await page.evaluate(() => {
      const put = IDBObjectStore.prototype.put;
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<typeof put>) {
        if (this.name === 'pixels') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return put.apply(this, args);
      };
    });
    await filesInput.setInputFiles([
      { name: 'q1.png', mimeType: 'image/png', buffer: good },
      { name: 'q2.png', mimeType: 'image/png', buffer: good },
    ]);
    await expect(outcome).toContainText('Browser storage is full: image set “My images (3)” was not saved (nothing else was changed).');
    await page.reload();
    const list = page.getByRole('list', { name: 'Image sets in this browser' });
    await expect(list.getByRole('listitem')).toHaveCount(2);
  });

  test('a 10,000-image folder imports with progress', async ({ page }) => {
    test.setTimeout(300_000);
    const root = mkdtempSync(join(tmpdir(), 'ae-big-'));
    const dir = join(root, 'ten thousand');
    mkdirSync(dir);
    const pngs = [discPng(12, 6, 6, 3, 255), squarePng(12, 6, 6, 3, 255), discPng(12, 4, 7, 2, 180)];
    for (let i = 0; i < 10_000; i++) writeFileSync(join(dir, `img-${String(i).padStart(5, '0')}.png`), pngs[i % 3]);
    await openApp(page);
    await page.getByLabel('Image size').selectOption('16');
    const start = Date.now();
    await page.getByTestId('own-folder').setInputFiles(dir);
    await expect(page.getByTestId('import-progress')).toBeVisible();
    await expect(page.getByTestId('import-progress')).toContainText(/Resizing [\d,]+ of 10,000 images/);
    await expect(page.getByTestId('import-outcome')).toContainText('Imported “ten thousand”: 10,000 images, 16×16 grey', { timeout: 240_000 });
    console.log(`10,000 PNGs imported in ${((Date.now() - start) / 1000).toFixed(1)} s`);
  });

  test('importing while a run trains leaves the run alone', async ({ page }) => {
    await openApp(page);
    await page.getByLabel('Preset').selectOption('tiny');
    await page.getByLabel('Epochs').fill('50');
    await page.getByLabel('Backend').selectOption('wasm');
    await page.getByRole('button', { name: 'Train' }).click();
    await waitForPhase(page, ['training']);
    await page.getByTestId('own-files').setInputFiles([
      { name: 'a.png', mimeType: 'image/png', buffer: discPng(30, 15, 15, 8, 255) },
      { name: 'b.png', mimeType: 'image/png', buffer: squarePng(30, 15, 15, 6, 200) },
    ]);
    await expect(page.getByTestId('import-outcome')).toContainText('The training in progress goes on');
    await expect(page.getByLabel('Data set')).toHaveValue('mnist');
    expect((await snapshot(page)).phase).toBe('training');
  });

  test('a link to an own image set this browser does not have says so and offers the built-in sets', async ({ page }) => {
    // v3 link fixture "own set vae" (src/share/testdata/links-v3.json): the set “Holiday photos (2)”.
    const fixtures = (await import('../src/share/testdata/links-v3.json', { with: { type: 'json' } })).default;
    const link = fixtures.links.find((f) => f.name === 'own set vae')?.link;
    if (!link) throw new Error('fixture missing');
    await page.goto(`/#x=${link}`);
    const missing = page.getByTestId('dataset-missing');
    await expect(missing).toContainText('“Holiday photos (2)”, which is not in this browser');
    await expect(page.getByLabel('Data set')).toHaveValue('own:Holiday photos (2)');
    await expect(page.getByRole('button', { name: 'Train' })).toBeDisabled();
    await missing.getByRole('button', { name: 'Use MNIST digits' }).click();
    await expect(missing).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Train' })).toBeEnabled();
  });
});

test.describe('latent explorer (#17)', () => {
  test('MNIST: one point per test image, hover, interpolation strips, and sliders that change the decoding', async ({ page }) => {
    await page.goto('/');
    await trainTiny(page, 'dense', 2000);
    await page.getByRole('button', { name: 'Map the codes' }).click();
    const map = page.getByTestId('latent-map');
    await expect(map).toHaveAttribute('data-points', '1000');
    await expect(map.locator('circle.latent-point')).toHaveCount(1000);
    await expect(page.getByRole('list', { name: 'Labels' }).getByRole('listitem')).toHaveCount(10);
    // Hover: the image and its reconstruction.
    const box = await map.boundingBox();
    if (!box) throw new Error('no map');
    const first = map.locator('circle.latent-point').first();
    const cx = Number(await first.getAttribute('cx'));
    const cy = Number(await first.getAttribute('cy'));
    await page.mouse.move(box.x + (cx / 360) * box.width, box.y + (cy / 360) * box.height);
    await expect(page.getByTestId('latent-hover').locator('canvas')).toHaveCount(2);

    // Interpolation: 9 decodings through the code; the pixel strip runs from image A to image B and its
    // middle is their average (checked against the end images' pixels).
    const interp = page.getByTestId('interpolation');
    await expect(page.getByTestId('interp-code-strip').locator('canvas')).toHaveCount(9);
    const pixels = await canvasPixels(page, '[data-testid="interp-pixel-strip"]');
    expect(pixels.length).toBe(9);
    const [a, mid, b] = [pixels[0], pixels[4], pixels[8]];
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(mid[i] - (a[i] + b[i]) / 2));
    expect(worst).toBeLessThanOrEqual(1);
    expect(a).not.toEqual(b);
    await interp.getByLabel('To test image').fill('7');
    await expect(page.getByTestId('interp-code-strip').locator('canvas').first()).toHaveAttribute('aria-label', /between test images 1 and 7/);

    // Sliders: the dense AE's 32-value code gets 32 sliders; moving one changes the decoded picture.
    const sliders = page.getByTestId('code-sliders');
    await expect(sliders.getByRole('slider')).toHaveCount(32);
    const decoded = page.getByTestId('slider-decoded');
    await expect(decoded.locator('canvas')).toHaveCount(1);
    const before = (await canvasPixels(page, '[data-testid="slider-decoded"]'))[0];
    const knob = sliders.getByRole('slider', { name: 'Code value 1', exact: true });
    await knob.focus();
    await page.keyboard.press('End');
    await expect.poll(async () => {
      const now = (await canvasPixels(page, '[data-testid="slider-decoded"]'))[0];
      let diff = 0;
      for (let i = 0; i < now.length; i++) diff += Math.abs(now[i] - before[i]);
      return diff;
    }).toBeGreaterThan(1000);
    // Frame times, read from the page (measured, reported, not asserted): from a slider's move to its picture.
    const times: number[] = [];
    for (let k = 0; k < 10; k++) {
      const was = Number(await decoded.getAttribute('data-frames'));
      await page.keyboard.press(k % 2 === 0 ? 'PageDown' : 'PageUp');
      await expect.poll(async () => Number(await decoded.getAttribute('data-frames'))).toBeGreaterThan(was);
      times.push(Number(await decoded.getAttribute('data-ms')));
    }
    console.log(`slider decode frame times (ms, wasm, dense AE): ${times.map((t) => t.toFixed(1)).join(', ')}`);

    // UMAP, off the main thread, draws the same 1,000 points.
    await page.getByLabel('Projection').selectOption('umap');
    await expect(map).toHaveAttribute('data-method', 'umap', { timeout: 60_000 });
    await expect(map.locator('circle.latent-point')).toHaveCount(1000);
    await page.mouse.move(box.x + (cx / 360) * box.width, box.y + (cy / 360) * box.height);
    await shot(page, 'latent', 'section[aria-label="Latent space"]');
    const s = await snapshot(page);
    expect(s.phase).toBe('done');
  });

  test('synthetic coloured shapes: the preset fits 32×32 RGB, trains, and the map is coloured by shape', async ({ page }) => {
    await page.goto('/');
    await page.getByLabel('Data set').selectOption('shapes-rgb');
    await trainTiny(page, 'default', 500);
    await page.getByRole('button', { name: 'Map the codes' }).click();
    await expect(page.getByTestId('latent-map')).toHaveAttribute('data-points', '1000');
    await expect(page.getByRole('list', { name: 'Labels' })).toHaveText(/circle.*square.*triangle/);
    // The generating factors colour the map too: x position runs over the image's width.
    await page.getByLabel('Colour by').selectOption({ label: 'x position' });
    await expect(page.getByTestId('factor-scale')).toContainText(/x position: .* → /);
    const fills = await page.getByTestId('latent-map').locator('circle.latent-point').evaluateAll((cs) => new Set(cs.map((c) => c.getAttribute('fill'))).size);
    expect(fills).toBeGreaterThan(50);
    await shot(page, 'latent-factor', '.latent-map-wrap');
    // The images as NumPy arrays for the exported scripts.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download images (.npz)' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('shapes-rgb.npz');
    const path = await file.path();
    const entries = unzipSync(new Uint8Array(readFileSync(path)));
    expect(Object.keys(entries).sort()).toEqual(['test.npy', 'test_labels.npy', 'train.npy', 'train_labels.npy']);
    expect(new TextDecoder().decode(entries['train.npy'].subarray(10, 80))).toContain("'shape': (5000, 32, 32, 3)");
  });

  test('image files dropped anywhere on the page are imported, not opened by the browser', async ({ page }) => {
    await openApp(page);
    await page.getByLabel('Image size').selectOption('16');
    const before = page.url();
    // Two PNGs made in the page (canvas), dropped on the page's header, far from the drop zone.
    const dataTransfer = await page.evaluateHandle(async () => {
      const dt = new DataTransfer();
      for (const [name, colour] of [['left.png', '#fff'], ['right.png', '#888']] as const) {
        const canvas = new OffscreenCanvas(20, 20);
        const ctx = canvas.getContext('2d');
        if (!ctx) throw new Error('no 2d context');
        ctx.fillStyle = colour;
        ctx.fillRect(5, 5, 10, 10);
        dt.items.add(new File([await canvas.convertToBlob({ type: 'image/png' })], name, { type: 'image/png' }));
      }
      return dt;
    });
    await page.locator('header h1').dispatchEvent('dragover', { dataTransfer });
    await page.locator('header h1').dispatchEvent('drop', { dataTransfer });
    await expect(page.getByTestId('import-outcome')).toContainText('Imported “My images”: 2 images, 16×16 grey');
    expect(page.url().split('#')[0]).toBe(before.split('#')[0]);
  });
});
