import { describe, expect, it } from 'vitest';
import { DEFAULT_SPEC } from '../model/presets';
import { isFromWorker, type FromWorker, type ToWorker } from './protocol';

describe('worker protocol', () => {
  it('recognises worker messages and rejects junk', () => {
    expect(isFromWorker({ type: 'ready' })).toBe(true);
    expect(isFromWorker({ type: 'trainLoss', runId: 1, points: [] })).toBe(true);
    for (const junk of [null, undefined, 3, 'ready', {}, { type: 4 }, []]) expect(isFromWorker(junk)).toBe(false);
  });

  it('messages survive structured cloning; image buffers move instead of being copied', () => {
    const pixels = new Float32Array(2 * 28 * 28).fill(0.5);
    const msg: FromWorker = { type: 'images', runId: 3, kind: 'reconstructions', step: 10, count: 2, height: 28, width: 28, channels: 1, pixels, renderedBy: 'helper' };
    const clone = structuredClone(msg, { transfer: [pixels.buffer] });
    expect(pixels.byteLength).toBe(0); // transferred: the sender no longer holds it
    expect(clone.type).toBe('images');
    if (clone.type === 'images') {
      expect(clone.pixels).toBeInstanceOf(Float32Array);
      expect(clone.pixels.length).toBe(2 * 28 * 28);
      expect(clone.pixels[5]).toBe(0.5);
    }
    const start: ToWorker = { type: 'start', runId: 1, spec: DEFAULT_SPEC, liveViews: true };
    expect(structuredClone(start)).toEqual(start);
  });
});
