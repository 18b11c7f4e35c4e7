import { describe, expect, it } from 'vitest';
import { detectCollapse, outputStats } from './collapse';
import { decimate, smooth } from '../model/smoothing';

describe('collapse detection', () => {
  it('flags a constant black output and suggests fixes', () => {
    const msg = detectCollapse(new Float32Array(16 * 784).fill(0.001));
    expect(msg).toMatch(/collapsed to a constant \(all black/);
    expect(msg).toMatch(/lower learning rate/);
  });
  it('leaves a real-looking output alone', () => {
    const px = new Float32Array(16 * 784).map((_, i) => (i % 7 < 2 ? 0.95 : 0.02));
    expect(detectCollapse(px)).toBeNull();
    expect(outputStats(px).std).toBeGreaterThan(0.3);
  });
});

describe('loss curve helpers', () => {
  it('smooth is bias-corrected: a constant stays constant', () => {
    const s = smooth([1, 2, 3].map((step) => ({ step, loss: 0.5 })), 0.9);
    s.forEach((p) => expect(p.loss).toBeCloseTo(0.5, 9));
  });
  it('smooth skips non-finite points', () => {
    expect(smooth([{ step: 1, loss: Number.NaN }, { step: 2, loss: 1 }], 0.5)).toEqual([{ step: 2, loss: 1 }]);
  });
  it('decimate keeps the last point and the bound', () => {
    const pts = Array.from({ length: 1000 }, (_, i) => i);
    const d = decimate(pts, 100);
    expect(d).toHaveLength(100);
    expect(d[99]).toBe(999);
    expect(decimate([1, 2], 10)).toEqual([1, 2]);
  });
});
