import { useEffect, useRef } from 'react';
import { useAppStore, type ImageBatch } from '../state/store';

const SCALE = 3;

function ImageCanvas({ batch, index, label }: { batch: ImageBatch; index: number; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const canvas = ref.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
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
  return <canvas ref={ref} width={batch.width} height={batch.height} style={{ width: batch.width * SCALE, height: batch.height * SCALE }} aria-label={label} role="img" />;
}

export function ReconstructionGrid() {
  const originals = useAppStore((s) => s.originals);
  const reconstructions = useAppStore((s) => s.reconstructions);
  const count = originals?.count ?? 0;
  return (
    <section className="panel recon" aria-label="Reconstructions">
      <div className="panel-head">
        <h2>Reconstructions</h2>
        <span className="muted">{reconstructions ? `step ${reconstructions.step}` : '16 fixed test images'}</span>
      </div>
      <div className="recon-grid" data-testid="reconstructions">
        {count === 0 && <p className="empty">Originals (top) and reconstructions (bottom) of 16 test images appear here.</p>}
        {originals &&
          Array.from({ length: count }, (_, i) => (
            <figure key={i} className="recon-pair">
              <ImageCanvas batch={originals} index={i} label={`Test image ${i + 1}`} />
              {reconstructions && reconstructions.count === count ? (
                <ImageCanvas batch={reconstructions} index={i} label={`Reconstruction of test image ${i + 1}`} />
              ) : (
                <div className="placeholder" />
              )}
            </figure>
          ))}
      </div>
    </section>
  );
}
