import { useAppStore } from '../state/store';
import { ImageCanvas } from './ImageCanvas';

export function ReconstructionGrid() {
  const originals = useAppStore((s) => s.originals);
  const reconstructions = useAppStore((s) => s.reconstructions);
  const count = originals?.count ?? 0;
  const selected = useAppStore((s) => s.selectedImage);
  const selectImage = useAppStore((s) => s.selectImage);
  const liveViews = useAppStore((s) => s.liveViews);
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
        {count === 0 && <p className="empty">Originals (top) and reconstructions (bottom) of 16 test images appear here.</p>}
        {originals &&
          Array.from({ length: count }, (_, i) => (
            <button
              type="button"
              key={i}
              className={`recon-pair${i === selected ? ' selected' : ''}`}
              onClick={() => selectImage(i)}
              aria-pressed={i === selected}
              aria-label={`Show the code of test image ${i + 1}`}
            >
              <ImageCanvas batch={originals} index={i} label={`Test image ${i + 1}`} />
              {reconstructions && reconstructions.count === count ? (
                <ImageCanvas batch={reconstructions} index={i} label={`Reconstruction of test image ${i + 1}`} />
              ) : (
                <div className="placeholder" />
              )}
            </button>
          ))}
      </div>
    </section>
  );
}
