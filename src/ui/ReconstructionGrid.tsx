import type { ReactNode } from 'react';
import { useAppStore, type ImageBatch } from '../state/store';
import { formatLoss } from './format';
import { ImageCanvas } from './ImageCanvas';

interface Row {
  key: 'original' | 'corrupted' | 'reconstruction' | 'pca';
  title: string;
  batch: ImageBatch | { count: number; height: number; width: number; channels: number; pixels: Float32Array } | null;
  label: (i: number) => string;
  testId?: string;
}

/**
 * The 16 fixed test images in rows: the originals, (denoising) what the network sees, the
 * reconstructions and (once the worker has it) PCA's reconstruction with the same code size (#16).
 * A column is one image: clicking it shows that image's code.
 */
export function ReconstructionGrid() {
  const originals = useAppStore((s) => s.originals);
  const reconstructions = useAppStore((s) => s.reconstructions);
  const corrupted = useAppStore((s) => s.corrupted);
  const pca = useAppStore((s) => s.pca);
  const denoise = useAppStore((s) => s.denoise);
  const lossName = useAppStore((s) => s.spec.loss);
  const count = originals?.count ?? 0;
  const selected = useAppStore((s) => s.selectedImage);
  const selectImage = useAppStore((s) => s.selectImage);
  const liveViews = useAppStore((s) => s.liveViews);
  const shape = originals ? { height: originals.height, width: originals.width, channels: originals.channels } : null;
  const rows: Row[] = [{ key: 'original', title: 'Original', batch: originals, label: (i) => `Test image ${i + 1}` }];
  if (corrupted) rows.push({ key: 'corrupted', title: 'Corrupted', batch: corrupted, label: (i) => `Corrupted test image ${i + 1}`, testId: 'corrupted-row' });
  rows.push({ key: 'reconstruction', title: 'Reconstruction', batch: reconstructions && reconstructions.count === count ? reconstructions : null, label: (i) => `Reconstruction of test image ${i + 1}` });
  if (pca && shape && pca.count === count) {
    rows.push({ key: 'pca', title: `PCA, k = ${pca.k}`, batch: { count, ...shape, pixels: pca.pixels }, label: (i) => `PCA reconstruction of test image ${i + 1}`, testId: 'pca-row' });
  }
  const lastDenoise = denoise[denoise.length - 1];
  return (
    <section className="panel recon" aria-label="Reconstructions">
      <div className="panel-head">
        <h2>Reconstructions</h2>
        <span className="muted" data-testid="reconstruction-step">
          {reconstructions ? `step ${reconstructions.step}` : '16 fixed test images'}
          {!liveViews && ' · live views off: updated at each epoch’s end'}
        </span>
      </div>
      <div className="recon-grid" data-testid="reconstructions" data-rendered-by={reconstructions?.renderedBy}>
        {count === 0 && <p className="empty">Originals (top) and reconstructions (below) of 16 test images appear here.</p>}
        {originals &&
          rows.map((row) => (
            <div key={row.key} className={`recon-row recon-row-${row.key}`} data-row={row.key} data-testid={row.testId} role="group" aria-label={row.title}>
              <span className="recon-row-title">{row.title}</span>
              {Array.from({ length: count }, (_, i): ReactNode => {
                const image = row.batch ? <ImageCanvas batch={row.batch} index={i} label={row.label(i)} /> : <div className="placeholder" />;
                return row.key === 'original' ? (
                  <button
                    type="button"
                    key={i}
                    className={`recon-cell${i === selected ? ' selected' : ''}`}
                    onClick={() => selectImage(i)}
                    aria-pressed={i === selected}
                    aria-label={`Show the code of test image ${i + 1}`}
                  >
                    {image}
                  </button>
                ) : (
                  <div key={i} className={`recon-cell${i === selected ? ' selected' : ''}`}>
                    {image}
                  </div>
                );
              })}
            </div>
          ))}
      </div>
      {lastDenoise && (
        <p className="recon-note" data-testid="denoise-errors">
          Against the clean test images ({lossName.toUpperCase()}, epoch {lastDenoise.epoch}): the corrupted inputs {formatLoss(lastDenoise.corruptedLoss)}, the
          reconstructions <strong>{formatLoss(lastDenoise.reconLoss)}</strong>
          {lastDenoise.reconLoss < lastDenoise.corruptedLoss ? ': the network removes noise.' : ': not yet cleaner than its input.'}
        </p>
      )}
    </section>
  );
}
