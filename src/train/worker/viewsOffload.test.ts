/**
 * The training worker's side of the live-views helper, against a fake helper: one render in flight,
 * renders for a replaced model dropped, and every kind of failure (an error message, a crash, a hang,
 * a helper that cannot start) turns the helper off for good, once.
 */
import { describe, expect, it } from 'vitest';
import type { FromViewsHelper, ToViewsHelper } from './viewsProtocol';
import { ViewsOffload, type RenderedViews } from './viewsOffload';

class FakeHelper {
  sent: ToViewsHelper[] = [];
  terminated = false;
  onmessage: ((e: MessageEvent<FromViewsHelper>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  onmessageerror: (() => void) | null = null;
  postMessage(msg: ToViewsHelper): void {
    this.sent.push(msg);
  }
  terminate(): void {
    this.terminated = true;
  }
  reply(msg: FromViewsHelper): void {
    this.onmessage?.({ data: msg } as MessageEvent<FromViewsHelper>);
  }
  rendered(key: number, step: number): void {
    this.reply({ type: 'rendered', key, step, count: 1, pixels: new Float32Array(4), codes: new Float32Array(2), codeShape: [2], ms: 12, numTensors: 9 });
  }
}

function setup(spawn?: () => Worker) {
  const fake = new FakeHelper();
  const rendered: RenderedViews[] = [];
  const broken: string[] = [];
  const offload = new ViewsOffload((v) => rendered.push(v), (r) => broken.push(r), spawn ?? (() => fake as unknown as Worker));
  return { fake, rendered, broken, offload };
}

const spec = { encoder: [], decoder: [], seed: 1 };

describe('ViewsOffload', () => {
  it('sends the model once, then one render at a time, and reports what comes back', () => {
    const { fake, rendered, offload } = setup();
    const key = offload.prepare(spec, [2, 2, 1], new Float32Array(4), 1);
    expect(fake.sent[0]).toMatchObject({ type: 'model', key, count: 1 });
    expect(offload.render(5, [new Float32Array(3)])).toBe(true);
    expect(offload.pending).toBe(true);
    expect(offload.render(6, [new Float32Array(3)])).toBe(false); // one in flight
    fake.rendered(key, 5);
    expect(offload.pending).toBe(false);
    expect(rendered.map((r) => r.step)).toEqual([5]);
    expect(offload.helperTensors).toBe(9);
    expect(offload.lastRenderMs).toBe(12);
    expect(offload.render(7, [new Float32Array(3)])).toBe(true);
    expect(fake.sent.map((m) => m.type)).toEqual(['model', 'render', 'render']);
  });

  it('transfers the weights rather than copying them', () => {
    const calls: unknown[][] = [];
    const spy = { postMessage: (...args: unknown[]) => calls.push(args), onmessage: null, onerror: null, onmessageerror: null, terminate: () => undefined };
    const offload = new ViewsOffload(() => undefined, () => undefined, () => spy as unknown as Worker);
    offload.prepare(spec, [2, 2, 1], new Float32Array(4), 1);
    const w = [new Float32Array(8), new Float32Array(3)];
    offload.render(1, w);
    expect(calls[1][1]).toEqual(w.map((a) => a.buffer));
  });

  it('drops renders for a model replaced since', () => {
    const { fake, rendered, offload } = setup();
    const old = offload.prepare(spec, [2, 2, 1], new Float32Array(4), 1);
    offload.render(3, [new Float32Array(1)]);
    const key = offload.prepare(spec, [2, 2, 1], new Float32Array(4), 1);
    expect(offload.pending).toBe(false); // the new model may render at once
    expect(offload.render(4, [new Float32Array(1)])).toBe(true);
    fake.rendered(old, 3);
    expect(rendered).toEqual([]);
    expect(offload.pending).toBe(true); // still waiting for the new model's render
    fake.rendered(key, 4);
    expect(rendered.map((r) => r.step)).toEqual([4]);
  });

  it.each([
    ['an error message', (f: FakeHelper) => f.reply({ type: 'failed', message: 'WASM failed to initialise' }), /WASM failed/],
    ['a crash', (f: FakeHelper) => f.onerror?.({ message: 'boom', preventDefault: () => undefined } as ErrorEvent), /boom/],
    ['an unreadable message', (f: FakeHelper) => f.onmessageerror?.(), /could not be read/],
  ])('turns itself off for good after %s', (_what, failHow, reason) => {
    const { fake, broken, offload } = setup();
    offload.prepare(spec, [2, 2, 1], new Float32Array(4), 1);
    offload.render(1, [new Float32Array(1)]);
    failHow(fake);
    failHow(fake);
    expect(broken).toHaveLength(1);
    expect(broken[0]).toMatch(reason);
    expect(fake.terminated).toBe(true);
    expect(offload.usable).toBe(false);
    expect(offload.pending).toBe(false);
    expect(offload.render(2, [new Float32Array(1)])).toBe(false);
  });

  it('counts a helper that does not answer for 15 s as hung', () => {
    const { broken, offload } = setup();
    offload.prepare(spec, [2, 2, 1], new Float32Array(4), 1);
    const realNow = performance.now.bind(performance);
    let now = realNow();
    const original = performance.now;
    performance.now = () => now;
    try {
      offload.render(1, [new Float32Array(1)]);
      now += 14_000;
      expect(offload.render(2, [new Float32Array(1)])).toBe(false);
      expect(broken).toEqual([]);
      now += 2_000;
      expect(offload.render(3, [new Float32Array(1)])).toBe(false);
      expect(broken[0]).toMatch(/did not answer for 15 s/);
    } finally {
      performance.now = original;
    }
  });

  it('a message that cannot be sent turns the helper off instead of failing the training', () => {
    const spy = {
      postMessage: (_msg: unknown, transfer: Transferable[]) => {
        if (transfer.length > 1 && transfer[0] === transfer[1]) throw new Error('ArrayBuffer at index 1 is a duplicate of an earlier ArrayBuffer.');
      },
      onmessage: null,
      onerror: null,
      onmessageerror: null,
      terminate: () => undefined,
    };
    const broken: string[] = [];
    const offload = new ViewsOffload(() => undefined, (r) => broken.push(r), () => spy as unknown as Worker);
    offload.prepare(spec, [2, 2, 1], new Float32Array(4), 1);
    const shared = new Float32Array(4);
    expect(offload.render(1, [shared, shared])).toBe(false);
    expect(broken[0]).toMatch(/duplicate/);
    expect(offload.usable).toBe(false);
  });

  it('a helper that cannot start is reported once and never retried', () => {
    let tries = 0;
    const { broken, offload } = setup(() => {
      tries++;
      throw new Error('workers are not allowed here');
    });
    offload.prepare(spec, [2, 2, 1], new Float32Array(4), 1);
    expect(offload.render(1, [new Float32Array(1)])).toBe(false);
    expect(broken).toEqual(['workers are not allowed here']);
    expect(tries).toBe(1);
  });
});
