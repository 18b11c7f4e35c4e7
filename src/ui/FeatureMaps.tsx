/**
 * "Look inside" (#15): every layer's output for the selected test image, encoder then decoder, refreshed
 * while training. An H×W×C output is one small map per channel (the first MAX_CHANNELS, "+N more"); a
 * flat [N] output is a strip of N cells, wrapped into rows. Colours: viridis, each map on its own min…max
 * or one scale per layer. Computed by the worker only while this panel is open (src/train/worker/featureMaps.ts).
 */
import { memo, useEffect, useMemo, useRef, useState } from 'react';
import { LAYER_KIND_LIST, layerDef } from '../model/catalogue';
import { viridis } from '../model/colormap';
import { formatShape, type LayerKind } from '../model/spec';
import type { FeatureMapLayer } from '../train/protocol';
import { useAppStore } from '../state/store';
import { context2d, ImageCanvas, reusableImageData } from './ImageCanvas';

/** At most this many channel maps per layer. */
export const MAX_CHANNELS = 16;
/** A flat output longer than this wraps into a near-square block of cells. */
const STRIP_MAX = 32;

type ScaleMode = 'channel' | 'layer';

function isLayerKind(kind: string): kind is LayerKind {
  return (LAYER_KIND_LIST as readonly string[]).includes(kind);
}

function kindLabel(kind: string): string {
  return isLayerKind(kind) ? layerDef(kind).label : kind;
}

/** Min and max of values[offset + k·stride], k < count. */
function stridedExtent(values: Float32Array, offset: number, stride: number, count: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0, i = offset; k < count; k++, i += stride) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : [0, 0];
}

/** How a layer's output is drawn: `maps` canvases of rows × cols cells, cell k of map m at values[m·mapOffset + k·stride]. */
interface Layout {
  rows: number;
  cols: number;
  channels: number;
  shown: number;
  /** Cells per map that hold a value (a wrapped strip leaves the last row's tail empty). */
  cells: number;
  stride: number;
  spatial: boolean;
}

function layoutOf(shape: number[]): Layout {
  if (shape.length >= 3) {
    const [h, w] = shape;
    const c = shape.slice(2).reduce((a, b) => a * b, 1);
    return { rows: h, cols: w, channels: c, shown: Math.min(c, MAX_CHANNELS), cells: h * w, stride: c, spatial: true };
  }
  if (shape.length === 2) return { rows: shape[0], cols: shape[1], channels: 1, shown: 1, cells: shape[0] * shape[1], stride: 1, spatial: true };
  const n = shape[0] ?? 1;
  const cols = n <= STRIP_MAX ? n : Math.ceil(Math.sqrt(n));
  return { rows: Math.ceil(n / cols), cols, channels: 1, shown: 1, cells: n, stride: 1, spatial: false };
}

/** CSS pixels per cell: small maps drawn larger, but never so large that the shrinking disappears. */
function cellPx(layout: Layout): number {
  if (!layout.spatial && layout.rows === 1) return Math.min(24, Math.max(6, Math.floor(320 / layout.cols)));
  return Math.min(40, Math.max(2, Math.ceil(40 / Math.max(layout.rows, layout.cols))));
}

const MapCanvas = memo(function MapCanvas({
  values,
  offset,
  layout,
  lo,
  hi,
  label,
}: {
  values: Float32Array;
  offset: number;
  layout: Layout;
  lo: number;
  hi: number;
  label: string;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const imageData = useRef<ImageData | null>(null);
  const { rows, cols, cells, stride } = layout;
  useEffect(() => {
    const ctx = context2d(ref.current);
    if (!ctx) return;
    const img = reusableImageData(ctx, imageData, cols, rows);
    const span = hi - lo;
    for (let k = 0; k < rows * cols; k++) {
      const o = k * 4;
      if (k >= cells) {
        img.data[o + 3] = 0; // the empty tail of a wrapped strip
        continue;
      }
      // A constant map (a dead channel) is drawn at the low end of the scale.
      const [r, g, b] = viridis(span > 0 ? (values[offset + k * stride] - lo) / span : 0);
      img.data[o] = r;
      img.data[o + 1] = g;
      img.data[o + 2] = b;
      img.data[o + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [values, offset, rows, cols, cells, stride, lo, hi]);
  const px = cellPx(layout);
  return <canvas ref={ref} width={cols} height={rows} style={{ width: cols * px, height: rows * px }} role="img" aria-label={label} />;
});

function LayerGroup({ layer, position, values, isCode, mode }: { layer: FeatureMapLayer; position: number; values: Float32Array; isCode: boolean; mode: ScaleMode }) {
  const layout = useMemo(() => layoutOf(layer.shape), [layer.shape]);
  const layerRange = useMemo(() => stridedExtent(values, 0, 1, values.length), [values]);
  const name = `${layer.stack === 'encoder' ? 'Encoder' : 'Decoder'} ${layer.index + 1} · ${kindLabel(layer.kind)}`;
  const more = layout.channels - layout.shown;
  return (
    <figure
      className={`fmap-layer fmap-${layer.stack}${isCode ? ' fmap-code' : ''}`}
      data-testid="feature-map-layer"
      data-layer-index={position}
      data-code={isCode ? 'true' : undefined}
      aria-label={`${name}, output ${formatShape(layer.shape)}${isCode ? ', the code' : ''}`}
    >
      <figcaption className="fmap-caption">
        <span className="fmap-name">{name}</span>
        <span className="fmap-shape">{formatShape(layer.shape)}</span>
        {isCode && <span className="fmap-badge">code</span>}
        <span className="fmap-range" title="The smallest and largest value of this layer's output">
          {layerRange[0].toPrecision(3)} … {layerRange[1].toPrecision(3)}
        </span>
      </figcaption>
      <div className="fmap-maps">
        {Array.from({ length: layout.shown }, (_, ch) => {
          const [lo, hi] = mode === 'layer' ? layerRange : stridedExtent(values, ch, layout.stride, layout.cells);
          const label = layout.spatial && layout.channels > 1 ? `${name}, channel ${ch + 1}` : `${name}, ${layout.cells} values`;
          return <MapCanvas key={ch} values={values} offset={ch} layout={layout} lo={lo} hi={hi} label={label} />;
        })}
        {more > 0 && (
          <span className="fmap-more" title={`Channels ${layout.shown + 1}–${layout.channels} are not drawn`}>
            +{more} more
          </span>
        )}
      </div>
    </figure>
  );
}

const GRADIENT = `linear-gradient(to right, ${Array.from({ length: 9 }, (_, i) => `rgb(${viridis(i / 8).join(',')})`).join(', ')})`;

export function FeatureMaps() {
  const open = useAppStore((s) => s.lookInside);
  const setOpen = useAppStore((s) => s.setLookInside);
  const maps = useAppStore((s) => s.featureMaps);
  const originals = useAppStore((s) => s.originals);
  const selected = useAppStore((s) => s.selectedImage);
  const selectImage = useAppStore((s) => s.selectImage);
  const codeLayers = useAppStore((s) => s.spec.encoder.length);
  const [mode, setMode] = useState<ScaleMode>('channel');
  const parts = useMemo(() => {
    if (!maps) return [];
    let at = 0;
    return maps.layers.map((l) => {
      const n = l.shape.reduce((a, b) => a * b, 1);
      const v = maps.values.subarray(at, at + n);
      at += n;
      return v;
    });
  }, [maps]);
  const encoderLayers = maps ? maps.layers.filter((l) => l.stack === 'encoder').length : codeLayers;
  const count = originals?.count ?? 0;
  return (
    <section className="panel fmaps-panel" aria-label="Look inside">
      <div className="panel-head">
        <h2>
          <button type="button" className="fmaps-toggle" aria-expanded={open} aria-controls={open ? 'feature-maps-body' : undefined} onClick={() => setOpen(!open)}>
            <span aria-hidden="true">{open ? '▾' : '▸'}</span> Look inside
          </button>
        </h2>
        {open && (
          <div className="fmaps-controls">
            {count > 0 && (
              <label className="inline-field">
                Image
                <select aria-label="Feature maps of test image" value={Math.min(selected, count - 1)} onChange={(e) => selectImage(Number(e.target.value))}>
                  {Array.from({ length: count }, (_, i) => (
                    <option key={i} value={i}>
                      Test image {i + 1}
                    </option>
                  ))}
                </select>
              </label>
            )}
            <label className="inline-field">
              Colour scale
              <select aria-label="Feature map colour scale" value={mode} onChange={(e) => setMode(e.target.value === 'layer' ? 'layer' : 'channel')}>
                <option value="channel">each map its own</option>
                <option value="layer">one per layer</option>
              </select>
            </label>
          </div>
        )}
      </div>
      {!open && <p className="muted fmaps-intro">Every layer&apos;s output for one test image, encoder to decoder, live while training.</p>}
      {open && (
        <div id="feature-maps-body" className="fmaps-body" data-testid="feature-maps" data-step={maps?.step} data-image={maps?.image} data-compute-ms={maps?.computeMs.toFixed(1)}>
          {!maps && <p className="empty">Train, or press Step, to see what every layer makes of the selected test image.</p>}
          {maps && (
            <>
              <div className="fmaps-legend">
                <span>
                  Test image {maps.image + 1} at step {maps.step}. {mode === 'channel' ? 'Each map is scaled to its own min … max' : 'One scale per layer (its min … max)'}; at most{' '}
                  {MAX_CHANNELS} channels per layer are drawn. Computed in {maps.computeMs.toFixed(0)} ms.
                </span>
                <span className="fmaps-scale" aria-hidden="true">
                  low <span className="fmaps-gradient" style={{ background: GRADIENT }} /> high
                </span>
              </div>
              <div className="fmaps-layers">
                {originals && maps.image < originals.count && (
                  <figure className="fmap-layer fmap-input" aria-label="The input image">
                    <figcaption className="fmap-caption">
                      <span className="fmap-name">Input</span>
                      <span className="fmap-shape">{formatShape([originals.height, originals.width, originals.channels])}</span>
                    </figcaption>
                    <div className="fmap-maps">
                      <ImageCanvas batch={originals} index={maps.image} label={`Test image ${maps.image + 1}`} size={Math.max(56, originals.width * 2)} />
                    </div>
                  </figure>
                )}
                {maps.layers.map((layer, i) => (
                  <LayerGroup key={i} layer={layer} position={i} values={parts[i]} isCode={i === encoderLayers - 1} mode={mode} />
                ))}
              </div>
            </>
          )}
        </div>
      )}
    </section>
  );
}
