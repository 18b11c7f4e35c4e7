/**
 * The autoencoder family's views (#16): the code histogram with its near-zero share, the cumulative
 * reconstruction error per code unit (rank curve), and Generate (prior samples, the 2-D manifold).
 */
import { useMemo } from 'react';
import { NEAR_ZERO_FRACTION, histogram, nearZeroShare } from '../model/codeStats';
import { isActive, useAppStore, type CodeBatch } from '../state/store';
import { formatLoss } from './format';
import { ImageCanvas } from './ImageCanvas';

const BINS = 24;

/** A histogram of the code values of the 16 display images, and how many are near zero. */
export function CodeHistogram({ codes }: { codes: CodeBatch }) {
  const h = useMemo(() => histogram(codes.values, BINS), [codes]);
  const share = useMemo(() => nearZeroShare(codes.values), [codes]);
  const peak = Math.max(1, ...h.counts);
  const w = 240;
  const ht = 72;
  const bw = w / BINS;
  const zeroAt = h.lo < 0 && h.hi > 0 ? ((0 - h.lo) / (h.hi - h.lo)) * w : null;
  return (
    <figure className="code-histogram" data-testid="code-histogram" data-near-zero={share.toFixed(4)}>
      <svg width={w} height={ht + 14} role="img" aria-label={`Histogram of ${h.total} code values from ${h.lo.toFixed(2)} to ${h.hi.toFixed(2)}; ${(share * 100).toFixed(0)}% near zero`}>
        {h.counts.map((c, i) => (
          <rect key={i} x={i * bw + 0.5} y={ht - (c / peak) * ht} width={Math.max(1, bw - 1)} height={(c / peak) * ht} className="hist-bar" />
        ))}
        {zeroAt !== null && <line x1={zeroAt} x2={zeroAt} y1={0} y2={ht} className="hist-zero" />}
        <text x={0} y={ht + 12} className="hist-axis">
          {h.lo.toFixed(2)}
        </text>
        <text x={w} y={ht + 12} textAnchor="end" className="hist-axis">
          {h.hi.toFixed(2)}
        </text>
      </svg>
      <figcaption>
        <strong data-testid="near-zero-share">{(share * 100).toFixed(0)}%</strong> of the {h.total} code values of the 16 images are near zero (|z| ≤{' '}
        {NEAR_ZERO_FRACTION * 100}% of the largest |z|)
      </figcaption>
    </figure>
  );
}

/** errors[i] against ranks[i]: how the test error falls as each image keeps more of its largest code values. */
export function RankCurve() {
  const curve = useAppStore((s) => s.rankCurve);
  const variant = useAppStore((s) => s.spec.variant);
  if (!curve || curve.errors.length === 0) return null;
  const w = 260;
  const ht = 90;
  const errors = Array.from(curve.errors);
  const hi = Math.max(...errors);
  const lo = Math.min(0, ...errors);
  const k = curve.ranks[curve.ranks.length - 1];
  const x = (r: number): number => (k > 1 ? ((r - 1) / (k - 1)) * (w - 10) + 5 : w / 2);
  const y = (e: number): number => 5 + (1 - (e - lo) / (hi - lo || 1)) * (ht - 10);
  const points = curve.ranks.map((r, i) => `${x(r).toFixed(1)},${y(errors[i]).toFixed(1)}`).join(' ');
  const half = errors.findIndex((e) => e <= errors[errors.length - 1] + 0.5 * (errors[0] - errors[errors.length - 1]));
  return (
    <figure className="rank-curve" data-testid="rank-curve">
      <svg width={w} height={ht} role="img" aria-label={`Test error with each image's r largest code values kept, r = 1 to ${k}: from ${formatLoss(errors[0])} to ${formatLoss(errors[errors.length - 1])}`}>
        <polyline points={points} className="rank-line" />
      </svg>
      <figcaption>
        Cumulative error per unit: test error keeping each image’s r largest code values (r = 1 … {k}, left to right): {formatLoss(errors[0])} → {formatLoss(errors[errors.length - 1])}.
        {half >= 0 && ` Half the drop is reached with r = ${curve.ranks[half]}.`}
        {variant === 'rankOrdered' ? ' Rank-ordered training makes the first units do most of the work.' : ''}
      </figcaption>
    </figure>
  );
}

/** "Generate": decode codes drawn from N(0, I); a 2-value code also shows its decoded manifold. */
export function GeneratePanel() {
  const generated = useAppStore((s) => s.generated);
  const generate = useAppStore((s) => s.generate);
  const phase = useAppStore((s) => s.phase);
  const variant = useAppStore((s) => s.spec.variant);
  const ready = phase === 'paused' || phase === 'done';
  const result = generated.result;
  return (
    <section className="panel generate-panel" aria-label="Generate" data-testid="generate-panel">
      <div className="panel-head">
        <h2>Generate</h2>
        <button type="button" onClick={() => generate()} disabled={!ready || generated.running} title={ready ? 'Decode 64 codes drawn from N(0, I)' : 'Train (or pause) first'}>
          Generate
        </button>
        <span className="muted">
          {generated.running
            ? 'Decoding…'
            : variant === 'vae'
              ? 'Codes drawn from the prior N(0, I), decoded: a VAE’s samples look like data.'
              : isActive(phase)
                ? 'Pause or finish training to generate.'
                : 'Codes drawn from N(0, I), decoded. A plain autoencoder’s codes are not shaped like N(0, I), so its samples rarely look like data: try the VAE variant.'}
        </span>
      </div>
      {generated.error && (
        <p className="field-error" role="alert">
          {generated.error}
        </p>
      )}
      {result && (
        <div className="generated-wrap">
          <div className="generated-grid" data-testid="generated" aria-label={`${result.count} generated images`} role="group">
            {Array.from({ length: result.count }, (_, i) => (
              <ImageCanvas key={i} batch={result} index={i} label={`Generated image ${i + 1}`} size={40} />
            ))}
          </div>
          {result.manifold && (
            <figure className="manifold" data-testid="manifold">
              <div className="manifold-grid" style={{ gridTemplateColumns: `repeat(${result.manifold.side}, 1fr)` }}>
                {Array.from({ length: result.manifold.side * result.manifold.side }, (_, i) => (
                  <ImageCanvas
                    key={i}
                    batch={{ height: result.height, width: result.width, channels: result.channels, pixels: result.manifold?.pixels ?? new Float32Array() }}
                    index={i}
                    label={`Manifold cell ${i + 1}`}
                    size={32}
                  />
                ))}
              </div>
              <figcaption>The 2-D code space: codes at the normal quantiles, decoded (first value left to right, second bottom to top).</figcaption>
            </figure>
          )}
        </div>
      )}
    </section>
  );
}
