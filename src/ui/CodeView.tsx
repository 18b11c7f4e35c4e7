import { CodeHistogram, RankCurve } from './FamilyViews';
import { memo, useEffect, useMemo, useRef } from 'react';
import { extent, viridis } from '../model/colormap';
import { formatShape } from '../model/spec';
import { useAppStore, type CodeBatch } from '../state/store';
import { context2d, ImageCanvas, reusableImageData } from './ImageCanvas';

const CELL = 84; // px per heat map side

/**
 * One channel of an H×W×C code as a heat map on a shared colour scale. Memoised, and `lo`/`hi` are numbers
 * (not a fresh array per render): a map redraws only when the code, the image or the scale changes.
 */
const ChannelMap = memo(function ChannelMap({ codes, image, channel, lo, hi }: { codes: CodeBatch; image: number; channel: number; lo: number; hi: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const imageData = useRef<ImageData | null>(null);
  const [h, w, c] = codes.shape;
  useEffect(() => {
    const ctx = context2d(ref.current);
    if (!ctx) return;
    const img = reusableImageData(ctx, imageData, w, h);
    const base = image * h * w * c;
    const span = hi - lo || 1;
    for (let i = 0; i < h * w; i++) {
      const [r, g, b] = viridis((codes.values[base + i * c + channel] - lo) / span);
      img.data[i * 4] = r;
      img.data[i * 4 + 1] = g;
      img.data[i * 4 + 2] = b;
      img.data[i * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [codes, image, channel, lo, hi, h, w, c]);
  const scale = Math.max(1, Math.floor(CELL / Math.max(h, w)));
  return (
    <figure className="channel">
      <canvas ref={ref} width={w} height={h} style={{ width: w * scale, height: h * scale }} role="img" aria-label={`Code channel ${channel + 1}`} />
      <figcaption>ch {channel + 1}</figcaption>
    </figure>
  );
});

/** A flat code as bars (positive up, negative down) on a canvas. */
const CodeBars = memo(function CodeBars({ codes, image }: { codes: CodeBatch; image: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const n = codes.shape.reduce((a, b) => a * b, 1);
  const width = Math.min(720, Math.max(240, n * 6));
  useEffect(() => {
    const ctx = context2d(ref.current);
    if (!ctx) return;
    const H = 140;
    ctx.clearRect(0, 0, width, H);
    const vals = codes.values.subarray(image * n, (image + 1) * n);
    const [lo, hi] = extent(codes.values);
    const top = Math.max(Math.abs(lo), Math.abs(hi)) || 1;
    const zero = lo < 0 ? H / 2 : H - 1;
    const scale = (lo < 0 ? H / 2 - 2 : H - 4) / top;
    const bw = width / n;
    ctx.fillStyle = '#2a3242';
    ctx.fillRect(0, zero, width, 1);
    for (let i = 0; i < n; i++) {
      const v = vals[i];
      ctx.fillStyle = v >= 0 ? '#4f8cff' : '#ffb547';
      const hgt = Math.abs(v) * scale;
      ctx.fillRect(i * bw + bw * 0.1, v >= 0 ? zero - hgt : zero + 1, Math.max(1, bw * 0.8), hgt);
    }
  }, [codes, image, n, width]);
  return <canvas ref={ref} width={width} height={140} role="img" aria-label={`Code of ${n} values as bars`} />;
});

export function CodeView() {
  const codes = useAppStore((s) => s.codes);
  const originals = useAppStore((s) => s.originals);
  const reconstructions = useAppStore((s) => s.reconstructions);
  const selected = useAppStore((s) => s.selectedImage);
  const selectImage = useAppStore((s) => s.selectImage);
  const image = codes ? Math.min(selected, codes.count - 1) : 0;
  const spatial = codes?.shape.length === 3;
  const range = useMemo<[number, number]>(() => (codes ? extent(codes.values) : [0, 1]), [codes]);
  const channels = spatial && codes ? codes.shape[2] : 0;
  const shown = Math.min(channels, 64);
  return (
    <section className="panel code-panel" aria-label="Bottleneck code">
      <div className="panel-head">
        <h2>The code</h2>
        {codes && (
          <label className="inline-field">
            Image
            <select aria-label="Code of test image" value={image} onChange={(e) => selectImage(Number(e.target.value))}>
              {Array.from({ length: codes.count }, (_, i) => (
                <option key={i} value={i}>
                  Test image {i + 1}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {/* Focusable: in the presenter view this box scrolls, and keyboard users must reach it. */}
      <div className="code-view" data-testid="code-view" tabIndex={0} role="group" aria-label="Code view">
        {!codes && <p className="empty">Train to see the bottleneck activations of a test image.</p>}
        {codes && (
          <>
            <div className="code-pair">
              {originals && (
                <figure className="channel">
                  <ImageCanvas batch={originals} index={image} label="Input" />
                  <figcaption>input</figcaption>
                </figure>
              )}
              {reconstructions && (
                <figure className="channel">
                  <ImageCanvas batch={reconstructions} index={image} label="Reconstruction" />
                  <figcaption>reconstruction</figcaption>
                </figure>
              )}
            </div>
            <div className="code-maps">
              <p className="muted">
                {formatShape(codes.shape)} code at step {codes.step}
                {spatial ? `, one heat map per channel (shared scale ${range[0].toFixed(2)} … ${range[1].toFixed(2)})` : ''}
                {spatial && shown < channels ? `; first ${shown} of ${channels} channels` : ''}
              </p>
              {spatial ? (
                <div className="channels">
                  {Array.from({ length: shown }, (_, ch) => (
                    <ChannelMap key={ch} codes={codes} image={image} channel={ch} lo={range[0]} hi={range[1]} />
                  ))}
                </div>
              ) : (
                <CodeBars codes={codes} image={image} />
              )}
            </div>
            <div className="code-stats">
              <CodeHistogram codes={codes} />
              <RankCurve />
            </div>
          </>
        )}
      </div>
    </section>
  );
}
