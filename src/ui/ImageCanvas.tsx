import { useEffect, useRef } from 'react';

export interface ImageSource {
  count?: number;
  height: number;
  width: number;
  channels: number;
  /** Values in [0, 1], n × H × W × C. */
  pixels: Float32Array;
}

/**
 * A 2D context kept in main memory (`willReadFrequently`): on a software-rendered GPU (SwiftShader, the
 * test machine) a GPU-backed canvas turns each putImageData into an upload through the busy GPU process,
 * tens of milliseconds for a 28×28 image under load; in memory it is a copy. The tests read the pixels
 * back, which this also makes cheap.
 */
export function context2d(canvas: HTMLCanvasElement | null): CanvasRenderingContext2D | null {
  return canvas?.getContext('2d', { willReadFrequently: true }) ?? null;
}

/** The canvas's ImageData of w × h, made once and reused for every redraw. */
export function reusableImageData(ctx: CanvasRenderingContext2D, cache: { current: ImageData | null }, w: number, h: number): ImageData {
  if (!cache.current || cache.current.width !== w || cache.current.height !== h) cache.current = ctx.createImageData(w, h);
  return cache.current;
}

/** Draws image `index` of a batch on a canvas, pixel-sharp at `size` CSS pixels. */
export function ImageCanvas({ batch, index, label, size = 84 }: { batch: ImageSource; index: number; label: string; size?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const imageData = useRef<ImageData | null>(null);
  useEffect(() => {
    const ctx = context2d(ref.current);
    if (!ctx) return;
    const { height: h, width: w, channels: c, pixels } = batch;
    const img = reusableImageData(ctx, imageData, w, h);
    const data = img.data; // a Uint8ClampedArray: rounds and clamps to 0…255 on its own
    const base = index * h * w * c;
    for (let i = 0; i < h * w; i++) {
      const p = base + i * c;
      const o = i * 4;
      if (c === 3) {
        data[o] = pixels[p] * 255;
        data[o + 1] = pixels[p + 1] * 255;
        data[o + 2] = pixels[p + 2] * 255;
      } else {
        const v = pixels[p] * 255;
        data[o] = v;
        data[o + 1] = v;
        data[o + 2] = v;
      }
      data[o + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [batch, index]);
  return <canvas ref={ref} width={batch.width} height={batch.height} style={{ width: size, height: size * (batch.height / batch.width) }} aria-label={label} role="img" />;
}
