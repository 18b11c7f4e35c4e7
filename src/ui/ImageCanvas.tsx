import { useEffect, useRef } from 'react';

export interface ImageSource {
  count?: number;
  height: number;
  width: number;
  channels: number;
  /** Values in [0, 1], n × H × W × C. */
  pixels: Float32Array;
}

/** Draws image `index` of a batch on a canvas, pixel-sharp at `size` CSS pixels. */
export function ImageCanvas({ batch, index, label, size = 84 }: { batch: ImageSource; index: number; label: string; size?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const { height: h, width: w, channels: c, pixels } = batch;
    const img = ctx.createImageData(w, h);
    const base = index * h * w * c;
    for (let i = 0; i < h * w; i++) {
      for (let k = 0; k < 3; k++) {
        const v = pixels[base + i * c + (c === 3 ? k : 0)];
        img.data[i * 4 + k] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [batch, index]);
  return <canvas ref={ref} width={batch.width} height={batch.height} style={{ width: size, height: size * (batch.height / batch.width) }} aria-label={label} role="img" />;
}
