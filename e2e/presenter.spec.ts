/**
 * Teaching mode (#15), part 2: Step trains exactly one batch and the page shows it; the keyboard
 * shortcuts (and not while typing); the presenter view fits a 1280×720 projector without scrolling;
 * axe-core finds no serious or critical violation in either view. Tiny model on WASM, few steps.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { snapshot, useTinyExperiment, waitForPhase } from './helpers';

test.use({ viewport: { width: 1280, height: 720 } });

/** The steps whose losses the page holds, in order (read from the store, not from the page's text). */
async function lossSteps(page: Page): Promise<number[]> {
  return (await snapshot(page)).trainLoss.map((p) => p.step);
}

/** axe-core's serious and critical violations on the page as it is now, in words. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')})`);
}

test.describe('teaching mode: Step, shortcuts, presenter view, accessibility', () => {
  test('Step trains exactly one batch each time, and the step count, loss chart and reconstructions show it', async ({ page }) => {
    await page.goto('/');
    // 128 images at batch 16: 8 steps in the run.
    await useTinyExperiment(page, { trainSize: 128, epochs: 1, backend: 'wasm' });
    const step = page.getByRole('button', { name: 'Step' });
    await expect(step).toHaveAttribute('aria-keyshortcuts', 'S');
    await step.click();
    await waitForPhase(page, ['paused', 'error']);
    await expect(page.getByTestId('step')).toHaveText('1 / 8');
    expect(await lossSteps(page)).toEqual([1]);
    await expect(page.getByTestId('loss-chart')).toHaveAttribute('aria-label', 'Loss over 1 steps');
    await expect(page.getByTestId('reconstruction-step')).toHaveText(/^step 1\b/);
    await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible();

    await step.click();
    await expect(page.getByTestId('step')).toHaveText('2 / 8');
    expect(await lossSteps(page)).toEqual([1, 2]);
    await expect(page.getByTestId('loss-chart')).toHaveAttribute('aria-label', 'Loss over 2 steps');
    await expect(page.getByTestId('reconstruction-step')).toHaveText(/^step 2\b/);
    expect((await snapshot(page)).phase).toBe('paused');

    // Space resumes (Step has the focus from its click: Space is not a second press) and runs to the
    // end: the remaining six steps, each once.
    await page.keyboard.press(' ');
    await waitForPhase(page, ['done', 'error']);
    expect(await lossSteps(page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Done: Step starts a new run, paused after its first step.
    await step.click();
    await expect(page.getByTestId('step')).toHaveText('1 / 8');
    await waitForPhase(page, ['paused', 'error']);
    expect(await lossSteps(page)).toEqual([1]);
  });

  test('keyboard shortcuts: Space, s, r, ?, p and Escape, never while typing in a field', async ({ page }) => {
    await page.goto('/');
    // 4,096 images at batch 16: 256 steps, time to pause on WASM.
    await useTinyExperiment(page, { trainSize: 4096, epochs: 1, backend: 'wasm' });
    // A space typed into a number field is the field's, not Train.
    const epochs = page.getByLabel('Epochs');
    await epochs.focus();
    await epochs.press(' ');
    expect((await snapshot(page)).phase).toBe('idle');
    await epochs.press('s');
    expect((await snapshot(page)).phase).toBe('idle');
    await epochs.evaluate((el) => (el as HTMLElement).blur());

    await page.keyboard.press('s');
    await waitForPhase(page, ['paused', 'error']);
    await expect(page.getByTestId('step')).toHaveText('1 / 256');
    await page.keyboard.press('s');
    await expect(page.getByTestId('step')).toHaveText('2 / 256');
    expect(await lossSteps(page)).toEqual([1, 2]);

    // Space resumes, Space pauses; a modifier held makes it no shortcut.
    await page.keyboard.press(' ');
    await expect(page.getByRole('button', { name: 'Pause' })).toBeVisible();
    await page.keyboard.press(' ');
    await waitForPhase(page, ['paused', 'done', 'error']);
    const pausedAt = (await snapshot(page)).trainLoss.length;
    expect((await snapshot(page)).phase).toBe('paused');
    await page.keyboard.press('Control+s');
    expect((await snapshot(page)).trainLoss.length).toBe(pausedAt);
    await page.keyboard.press('r');
    await waitForPhase(page, ['idle']);
    expect(await lossSteps(page)).toEqual([]);
    await expect(page.getByTestId('step')).toHaveText('—');

    // "?" lists the shortcuts in a labelled dialog; Escape closes it and the focus goes back.
    const toggle = page.getByRole('button', { name: 'Presenter view' });
    await toggle.focus();
    await page.keyboard.press('Shift+?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByRole('row')).toHaveCount(7);
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    await expect(toggle).toBeFocused();

    // "p" and Escape: in and out of the presenter view.
    await page.keyboard.press('p');
    await expect(page.getByTestId('presenter')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Presenter view' })).toHaveAttribute('aria-pressed', 'true');
    await page.keyboard.press('Escape');
    await expect(page.getByTestId('presenter')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Presenter view' })).toHaveAttribute('aria-pressed', 'false');

    // Reduced motion asked for: nothing on the page animates or transitions, in either view; not even
    // a probe element given a transition and an animation of its own (as a later component might).
    await page.emulateMedia({ reducedMotion: 'reduce' });
    for (const view of ['normal', 'presenter']) {
      if (view === 'presenter') await page.keyboard.press('p');
      const moving = await page.evaluate(() => {
        const probe = document.createElement('div');
        probe.style.transition = 'opacity 1s';
        probe.style.animation = 'probe-spin 2s infinite';
        document.body.append(probe);
        const found = Array.from(document.querySelectorAll('*'))
          .filter((el) => {
            const cs = getComputedStyle(el);
            const durations = `${cs.transitionDuration},${cs.animationDuration}`.split(',').map((d) => parseFloat(d));
            return cs.animationName !== 'none' || durations.some((d) => d > 0);
          })
          .map((el) => el.tagName + (el.className ? `.${String(el.className)}` : ''));
        probe.remove();
        return found;
      });
      expect(moving, view).toEqual([]);
    }
  });

  test('presenter view fits 1280×720 with chart, reconstructions and code in view; axe finds nothing serious in either view', async ({ page }) => {
    await page.goto('/');
    await useTinyExperiment(page, { trainSize: 128, epochs: 1, backend: 'wasm' });
    await page.getByRole('button', { name: 'Train' }).click();
    await waitForPhase(page, ['done', 'error']);
    expect((await snapshot(page)).phase).toBe('done');
    await expect(page.getByTestId('code-view').locator('canvas').first()).toBeVisible();

    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Presenter view' }).click();
    const root = page.getByTestId('presenter');
    await expect(root).toBeVisible();
    // The editors are gone; the controls and the figures are there.
    await expect(page.getByRole('region', { name: 'Architecture' })).toHaveCount(0);
    await expect(page.getByLabel('Epochs')).toHaveCount(0);
    for (const name of ['Train', 'Step', 'Reset']) await expect(page.getByRole('button', { name })).toBeVisible();
    await expect(page.getByTestId('step')).toHaveText('8 / 8');
    await expect(page.getByTestId('backend')).toHaveText('WASM');
    // Let the chart settle at its new size (it measures its box).
    await expect(page.getByTestId('loss-chart').locator('svg')).toBeVisible();

    const fit = await page.evaluate(() => {
      const doc = document.scrollingElement ?? document.documentElement;
      const box = (testId: string) => {
        const r = document.querySelector(`[data-testid="${testId}"]`)?.getBoundingClientRect();
        return r ? { top: r.top, left: r.left, bottom: r.bottom, right: r.right, width: r.width, height: r.height } : null;
      };
      return {
        scrollHeight: doc.scrollHeight,
        scrollWidth: doc.scrollWidth,
        innerHeight: window.innerHeight,
        innerWidth: window.innerWidth,
        boxes: { chart: box('loss-chart'), reconstructions: box('reconstructions'), code: box('code-view') },
      };
    });
    expect(fit.innerWidth).toBe(1280);
    expect(fit.innerHeight).toBe(720);
    expect(fit.scrollHeight).toBeLessThanOrEqual(fit.innerHeight);
    expect(fit.scrollWidth).toBeLessThanOrEqual(fit.innerWidth);
    for (const [name, b] of Object.entries(fit.boxes)) {
      expect(b, name).not.toBeNull();
      if (!b) continue;
      expect(b.top, `${name} top`).toBeGreaterThanOrEqual(0);
      expect(b.left, `${name} left`).toBeGreaterThanOrEqual(0);
      expect(b.bottom, `${name} bottom`).toBeLessThanOrEqual(720);
      expect(b.right, `${name} right`).toBeLessThanOrEqual(1280);
    }
    // Large: the chart takes a good part of the screen, each reconstruction is bigger than a thumbnail.
    expect(fit.boxes.chart?.width ?? 0).toBeGreaterThan(600);
    expect(fit.boxes.chart?.height ?? 0).toBeGreaterThan(250);
    const pair = await page.getByTestId('reconstructions').locator('canvas').first().boundingBox();
    expect(pair?.width ?? 0).toBeGreaterThanOrEqual(56);

    expect(await seriousViolations(page)).toEqual([]);
    // The shortcuts' dialog too.
    await page.getByRole('button', { name: 'Keyboard shortcuts' }).click();
    await expect(page.getByRole('dialog', { name: 'Keyboard shortcuts' })).toBeVisible();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Close' }).click();
    await expect(page.getByRole('dialog')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Keyboard shortcuts' })).toBeFocused();

    // "Look inside" open in the presenter view: a third column that scrolls by itself; the page still
    // does not scroll, and all four are in view.
    await page.getByRole('button', { name: 'Look inside' }).click();
    await expect(page.getByTestId('feature-maps').getByTestId('feature-map-layer').first()).toBeVisible();
    const open = await page.evaluate(() => {
      const doc = document.scrollingElement ?? document.documentElement;
      const inView = (testId: string) => {
        // The feature maps scroll inside their column: the column is what must be in view.
        const el = document.querySelector(`[data-testid="${testId}"]`);
        const r = (testId === 'feature-maps' ? el?.closest('.presenter-fmaps') : el)?.getBoundingClientRect();
        return r !== undefined && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth && r.width > 0;
      };
      return {
        scrolls: doc.scrollHeight > window.innerHeight || doc.scrollWidth > window.innerWidth,
        inView: ['loss-chart', 'reconstructions', 'code-view', 'feature-maps'].map((t) => [t, inView(t)]),
      };
    });
    expect(open.scrolls).toBe(false);
    expect(open.inView).toEqual(['loss-chart', 'reconstructions', 'code-view', 'feature-maps'].map((t) => [t, true]));
    expect(await seriousViolations(page)).toEqual([]);
  });
});
