import { useCallback, useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import { MAX_SLIDERS, lerpRows, row, sliderDims, sliderRange } from '../model/latentOps';
import { extent, viridis } from '../model/colormap';
import type { ProjectionMethod } from '../model/projection';
import { useAppStore, type DecodedImages, type LatentData } from '../state/store';
import { ImageCanvas, type ImageSource } from './ImageCanvas';
import { ProjectionCancelledError, projectCodes } from './projectionClient';

/** Categorical colours for up to 10 labels (Tableau 10), repeated beyond. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const STEPS = 9;
const MAP_SIZE = 360;

/** Image i of a snapshot's byte images as a one-image batch for ImageCanvas. */
function imageOf(data: LatentData, which: 'originals' | 'reconstructions', i: number): ImageSource {
  const per = data.height * data.width * data.channels;
  const bytes = data[which].subarray(i * per, (i + 1) * per);
  return { count: 1, height: data.height, width: data.width, channels: data.channels, pixels: Float32Array.from(bytes, (v) => v / 255) };
}

function codeSize(data: LatentData): number {
  return data.codeShape.reduce((a, b) => a * b, 1);
}

/**
 * Decodes codes through the store, at most one request in flight: while one runs, only the newest
 * asked-for codes wait, so a slider dragged fast decodes its latest position, never a backlog.
 */
function useLatestDecode(): { result: DecodedImages | null; latencyMs: number | null; frames: number; error: string | null; request: (codes: Float32Array, count: number) => void } {
  const decode = useAppStore((s) => s.decode);
  const [result, setResult] = useState<DecodedImages | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** From the request to its picture: the frame time a slider's user sees (waiting for an earlier decode included). */
  const [latencyMs, setLatencyMs] = useState<number | null>(null);
  /** Pictures shown so far. */
  const [frames, setFrames] = useState(0);
  const busy = useRef(false);
  const waiting = useRef<{ codes: Float32Array; count: number; at: number } | null>(null);
  const alive = useRef(true);
  const pump = useRef<() => void>(() => undefined);
  useEffect(() => {
    alive.current = true;
    pump.current = () => {
      const next = waiting.current;
      if (busy.current || !next || !alive.current) return;
      waiting.current = null;
      busy.current = true;
      decode(next.codes, next.count)
        .then(
          (r) => {
            if (alive.current) {
              setResult(r);
              setLatencyMs(performance.now() - next.at);
              setFrames((f) => f + 1);
              setError(null);
            }
          },
          (e: unknown) => {
            if (alive.current) setError(e instanceof Error ? e.message : String(e));
          },
        )
        .finally(() => {
          busy.current = false;
          pump.current();
        });
    };
    pump.current();
    return () => {
      alive.current = false;
    };
  }, [decode]);
  const request = useCallback((codes: Float32Array, count: number): void => {
    waiting.current = { codes, count, at: performance.now() };
    pump.current();
  }, []);
  return { result, latencyMs, frames, error, request };
}

/** The 2-D map of the codes: one point per test image, coloured by label; hover shows the image and its reconstruction. */
function LatentMap({ data, a, b, onPick }: { data: LatentData; a: number; b: number; onPick: (i: number, second: boolean) => void }) {
  const d = codeSize(data);
  const [method, setMethod] = useState<ProjectionMethod>('pca');
  const [points, setPoints] = useState<{ of: LatentData; method: ProjectionMethod; xy: Float32Array; explained: [number, number] | null } | null>(null);
  const [job, setJob] = useState<{ of: LatentData; method: ProjectionMethod; fraction: number; error: string | null } | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  /** -1: colour by label; otherwise by that generating factor of a synthetic set. */
  const [colourBy, setColourBy] = useState(-1);
  const effective: ProjectionMethod = d <= 2 ? 'pca' : method;
  const factors = data.factors;
  const factorIndex = factors && colourBy < factors.names.length ? colourBy : -1;
  const factorRange = useMemo((): [number, number] | null => {
    if (!factors || factorIndex < 0) return null;
    const nf = factors.names.length;
    const vals = Array.from({ length: data.count }, (_, i) => factors.values[i * nf + factorIndex]);
    return extent(vals);
  }, [factors, factorIndex, data.count]);

  useEffect(() => {
    const running = projectCodes({ method: effective, codes: data.codes, n: data.count, d, seed: 1 }, (fraction) => setJob({ of: data, method: effective, fraction, error: null }));
    running.promise.then(
      (r) => setPoints({ of: data, method: effective, xy: r.points, explained: r.explained }),
      (e: unknown) => {
        if (e instanceof ProjectionCancelledError) return;
        setJob({ of: data, method: effective, fraction: 0, error: e instanceof Error ? e.message : String(e) });
      },
    );
    return () => running.cancel();
  }, [data, d, effective]);

  const current = (x: { of: LatentData; method: ProjectionMethod } | null): boolean => x !== null && x.of === data && x.method === effective;
  const done = current(points);
  // The points of this snapshot, or (while a new projection runs) the last ones of the same snapshot size.
  const shown = done ? points : points && points.of.count === data.count ? points : null;
  const error = current(job) ? (job?.error ?? null) : null;
  const progress = !done && !error && effective === 'umap' ? (current(job) ? (job?.fraction ?? 0) : 0) : null;
  const classes = data.classNames;
  const colour = (i: number): string => {
    if (!factors || factorIndex < 0 || !factorRange) return PALETTE[data.labels[i] % PALETTE.length];
    const [lo, hi] = factorRange;
    const v = factors.values[i * factors.names.length + factorIndex];
    const [r, g, b2] = viridis(hi > lo ? (v - lo) / (hi - lo) : 0.5);
    return `rgb(${r},${g},${b2})`;
  };
  const pad = 8;
  const at = (i: number): [number, number] => (shown ? [pad + shown.xy[2 * i] * (MAP_SIZE - 2 * pad), pad + (1 - shown.xy[2 * i + 1]) * (MAP_SIZE - 2 * pad)] : [0, 0]);
  const nearest = (e: MouseEvent<SVGSVGElement>): number | null => {
    if (!shown) return null;
    const rect = e.currentTarget.getBoundingClientRect();
    const x = ((e.clientX - rect.left) / rect.width) * MAP_SIZE;
    const y = ((e.clientY - rect.top) / rect.height) * MAP_SIZE;
    let best = -1;
    let bestD = 15 * 15;
    for (let i = 0; i < data.count; i++) {
      const [px, py] = at(i);
      const dd = (px - x) ** 2 + (py - y) ** 2;
      if (dd < bestD) {
        bestD = dd;
        best = i;
      }
    }
    return best >= 0 ? best : null;
  };
  const axisNote =
    d <= 2
      ? `the ${d}-value code drawn as it is`
      : effective === 'pca'
        ? `PCA of the ${d}-value codes${shown?.explained ? ` (${(shown.explained[0] * 100).toFixed(0)}% + ${(shown.explained[1] * 100).toFixed(0)}% of their variance)` : ''}`
        : `UMAP of the ${d}-value codes (15 neighbours, seed 1)`;

  return (
    <div className="latent-map-wrap">
      <div className="latent-map-head">
        <label>
          Projection{' '}
          <select value={effective} onChange={(e) => setMethod(e.target.value === 'umap' ? 'umap' : 'pca')} disabled={d <= 2}>
            <option value="pca">PCA</option>
            <option value="umap">UMAP</option>
          </select>
        </label>
        {factors && (
          <label>
            Colour by{' '}
            <select value={factorIndex} onChange={(e) => setColourBy(Number(e.target.value))}>
              <option value={-1}>label</option>
              {factors.names.map((n, k) => (
                <option key={n} value={k}>
                  {n}
                </option>
              ))}
            </select>
          </label>
        )}
        <span className="muted">
          {data.count < data.total ? `${data.count.toLocaleString('en-US')} of ${data.total.toLocaleString('en-US')}` : data.count.toLocaleString('en-US')} test images · {axisNote}
        </span>
      </div>
      {progress !== null && (
        <p className="muted" data-testid="latent-progress">
          <progress max={1} value={progress} aria-label="UMAP progress" /> UMAP: {(progress * 100).toFixed(0)}% (in a worker: the page stays responsive)
        </p>
      )}
      {error && (
        <p className="field-error" role="alert">
          The map could not be drawn: {error}
        </p>
      )}
      <div className="latent-map-body">
        <svg
          className="latent-map"
          data-testid="latent-map"
          data-points={done ? data.count : 0}
          data-method={done ? effective : ''}
          viewBox={`0 0 ${MAP_SIZE} ${MAP_SIZE}`}
          role="img"
          aria-label={`Latent map: ${data.count} test images, ${axisNote}. Click a point to interpolate from it, shift-click to interpolate to it.`}
          onMouseMove={(e) => setHover(nearest(e))}
          onMouseLeave={() => setHover(null)}
          onClick={(e) => {
            const i = nearest(e);
            if (i !== null) onPick(i, e.shiftKey);
          }}
        >
          <rect x={0} y={0} width={MAP_SIZE} height={MAP_SIZE} className="latent-bg" />
          {shown &&
            Array.from({ length: data.count }, (_, i) => {
              const [x, y] = at(i);
              return <circle key={i} className="latent-point" cx={x} cy={y} r={data.count > 1500 ? 2 : 3} fill={colour(i)} />;
            })}
          {shown &&
            [a, b].map((i, k) => {
              if (i >= data.count) return null;
              const [x, y] = at(i);
              return <circle key={`sel${k}`} className="latent-picked" cx={x} cy={y} r={7} />;
            })}
          {shown && hover !== null && <circle className="latent-hover" cx={at(hover)[0]} cy={at(hover)[1]} r={6} />}
        </svg>
        <div className="latent-side">
          {hover !== null ? (
            <div className="latent-hover-card" data-testid="latent-hover">
              <p>
                Test image {hover + 1} · {classes[data.labels[hover]] ?? data.labels[hover]}
              </p>
              <div className="pair">
                <figure>
                  <ImageCanvas batch={imageOf(data, 'originals', hover)} index={0} label={`Hovered test image ${hover + 1}`} size={72} />
                  <figcaption>image</figcaption>
                </figure>
                <figure>
                  <ImageCanvas batch={imageOf(data, 'reconstructions', hover)} index={0} label={`Reconstruction of hovered test image ${hover + 1}`} size={72} />
                  <figcaption>reconstruction</figcaption>
                </figure>
              </div>
            </div>
          ) : (
            <p className="muted">Hover over a point to see its image and reconstruction.</p>
          )}
          {factorRange && factors && factorIndex >= 0 && (
            <p className="latent-factor-scale" data-testid="factor-scale">
              {factors.names[factorIndex]}: <span className="swatch-bar" /> {factorRange[0].toFixed(1)} → {factorRange[1].toFixed(1)} (a generating factor of the synthetic set)
            </p>
          )}
          {classes.length > 1 && factorIndex < 0 && (
            <ul className="latent-legend" aria-label="Labels">
              {classes.map((c, k) => (
                <li key={k}>
                  <span className="swatch" style={{ background: PALETTE[k % PALETTE.length] }} />
                  {c}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </div>
  );
}

/** Image a and b of the snapshot, and strips between them: decoded interpolated codes, and pixel blends. */
function Interpolation({ data, a, b, setA, setB }: { data: LatentData; a: number; b: number; setA: (i: number) => void; setB: (i: number) => void }) {
  const d = codeSize(data);
  const { result, error, request } = useLatestDecode();
  useEffect(() => {
    request(lerpRows(row(data.codes, a, d), row(data.codes, b, d), STEPS), STEPS);
  }, [data, a, b, d, request]);
  const blends = useMemo((): ImageSource => {
    const per = data.height * data.width * data.channels;
    const pa = data.originals.subarray(a * per, (a + 1) * per);
    const pb = data.originals.subarray(b * per, (b + 1) * per);
    return { count: STEPS, height: data.height, width: data.width, channels: data.channels, pixels: lerpRows(Float32Array.from(pa, (v) => v / 255), Float32Array.from(pb, (v) => v / 255), STEPS) };
  }, [data, a, b]);
  const pick = (value: string, set: (i: number) => void): void => {
    const n = Math.round(Number(value));
    if (Number.isFinite(n) && n >= 1 && n <= data.count) set(n - 1);
  };
  return (
    <div className="interpolation" data-testid="interpolation">
      <h3>Interpolation</h3>
      <div className="setting-grid">
        <div className="setting">
          <label htmlFor="interp-a">From test image</label>
          <input id="interp-a" type="number" min={1} max={data.count} value={a + 1} onChange={(e) => pick(e.target.value, setA)} />
        </div>
        <div className="setting">
          <label htmlFor="interp-b">To test image</label>
          <input id="interp-b" type="number" min={1} max={data.count} value={b + 1} onChange={(e) => pick(e.target.value, setB)} />
        </div>
      </div>
      <p className="muted">Click a point on the map to start from it, shift-click to end at it.</p>
      <div className="strip-row">
        <span className="strip-title">Through the code</span>
        <div className="strip" data-testid="interp-code-strip">
          {result && result.count === STEPS ? (
            Array.from({ length: STEPS }, (_, k) => <ImageCanvas key={k} batch={result} index={k} label={`Decoded code ${k + 1} of ${STEPS} between test images ${a + 1} and ${b + 1}`} size={52} />)
          ) : (
            <span className="muted">{error ?? 'Decoding…'}</span>
          )}
        </div>
      </div>
      <div className="strip-row">
        <span className="strip-title">In pixel space</span>
        <div className="strip" data-testid="interp-pixel-strip">
          {Array.from({ length: STEPS }, (_, k) => (
            <ImageCanvas key={k} batch={blends} index={k} label={`Pixel blend ${k + 1} of ${STEPS} between test images ${a + 1} and ${b + 1}`} size={52} />
          ))}
        </div>
      </div>
    </div>
  );
}

/** A slider per code value (or the 32 that vary most), starting from an image's code; the decoding follows. */
function CodeSliders({ data, start }: { data: LatentData; start: number }) {
  const d = codeSize(data);
  const dims = useMemo(() => sliderDims(data.codes, data.count, d, MAX_SLIDERS), [data, d]);
  const ranges = useMemo(() => dims.map((j) => sliderRange(data.codes, data.count, d, j)), [data, d, dims]);
  // Keyed by the start image (and the code size) by its parent: a new start image starts from its code.
  const [code, setCode] = useState<Float32Array>(() => row(data.codes, start, d));
  const { result, latencyMs: frameMs, frames, error, request } = useLatestDecode();
  useEffect(() => {
    request(code, 1);
  }, [code, request]);
  const set = (j: number, v: number): void => {
    const next = code.slice();
    next[j] = v;
    setCode(next);
  };
  return (
    <div className="code-sliders" data-testid="code-sliders">
      <h3>Code knobs</h3>
      <p className="muted">
        Starting from test image {start + 1}’s code{d > MAX_SLIDERS ? `: the ${MAX_SLIDERS} of its ${d} values that vary most across the test images (the rest stay as they are)` : ` (${d} values)`}.{' '}
        <button type="button" className="small" onClick={() => setCode(row(data.codes, start, d))}>
          Reset to the image’s code
        </button>
      </p>
      <div className="sliders-body">
        <div className="sliders">
          {dims.map((j, k) => {
            const [lo, hi] = ranges[k];
            return (
              <label key={j} className="slider">
                <span>z{j + 1}</span>
                <input type="range" min={lo} max={hi} step={(hi - lo) / 200} value={code[j]} aria-label={`Code value ${j + 1}`} onChange={(e) => set(j, Number(e.target.value))} />
                <output>{code[j].toFixed(2)}</output>
              </label>
            );
          })}
        </div>
        <figure className="slider-output" data-testid="slider-decoded" data-ms={frameMs === null ? '' : frameMs.toFixed(1)} data-frames={frames} data-worker-ms={result ? result.ms.toFixed(1) : ''}>
          {result && result.count === 1 ? <ImageCanvas batch={result} index={0} label="Decoding of the code set by the sliders" size={140} /> : <span className="muted">{error ?? 'Decoding…'}</span>}
          <figcaption>{frameMs !== null ? `decoded in ${frameMs.toFixed(0)} ms` : ''}</figcaption>
        </figure>
      </div>
    </div>
  );
}

/** The latent-space explorer (#17): the map, interpolation and the code knobs, for the run on screen. */
export function LatentExplorer() {
  const latent = useAppStore((s) => s.latent);
  const requestLatent = useAppStore((s) => s.requestLatent);
  const phase = useAppStore((s) => s.phase);
  const hasRun = useAppStore((s) => s.trainLoss.length > 0 || s.imported !== null);
  const data = latent.result;
  const [pickedA, setA] = useState(0);
  const [pickedB, setB] = useState(-1);
  // Until one is picked: from the first test image to the first of another label.
  const count = data?.count ?? 0;
  const a = pickedA < count ? pickedA : 0;
  const firstOther = data ? Array.from(data.labels).findIndex((l) => l !== data.labels[a]) : -1;
  const b = pickedB >= 0 && pickedB < count ? pickedB : firstOther >= 0 ? firstOther : Math.min(1, Math.max(0, count - 1));
  const canAsk = hasRun && phase !== 'loading' && phase !== 'building';
  return (
    <section className="panel latent" aria-label="Latent space">
      <div className="panel-head">
        <h2>Latent space</h2>
        <button type="button" onClick={() => requestLatent()} disabled={!canAsk || latent.running}>
          {data ? 'Update the map' : 'Map the codes'}
        </button>
      </div>
      {!data && !latent.running && !latent.error && <p className="muted">Where the encoder puts each test image: a map of the codes, interpolation between two images through the code, and a knob per code value. Train a model, then map its codes (the map then follows each epoch).</p>}
      {latent.running && !data && <p className="muted">Encoding the test images…</p>}
      {latent.error && (
        <p className="field-error" role="alert">
          {latent.error}
        </p>
      )}
      {data && (
        <div className="latent-body">
          <LatentMap
            data={data}
            a={a}
            b={b}
            onPick={(i, second) => {
              if (second) setB(i);
              else setA(i);
            }}
          />
          {data.count >= 2 && <Interpolation data={data} a={a} b={b} setA={setA} setB={setB} />}
          <CodeSliders key={`${a}:${codeSize(data)}`} data={data} start={a} />
        </div>
      )}
    </section>
  );
}
