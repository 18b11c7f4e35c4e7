import { memo, useLayoutEffect, useMemo, useRef, useState, type MouseEvent, type RefObject } from 'react';
import { decimate, smooth } from '../model/smoothing';
import { isActive, useAppStore } from '../state/store';
import { useThrottled } from './useThrottled';
import { BatchNormNote } from './BatchNormNote';

const MAX_POINTS = 400;

export function LossChart() {
  // Redraw the chart at most once a second: on a 2-core machine the page's rendering competes with training.
  // Live views off: redraw only when an epoch ends (a new test point), training stops or pauses (each Step from a pause shows its point).
  const frozen = useAppStore((s) => !s.liveViews && s.phase !== 'paused' && isActive(s.phase));
  const epochs = useAppStore((s) => s.testLoss.length);
  const trainLoss = useThrottled(useAppStore((s) => s.trainLoss), 1000, frozen, epochs);
  const testLoss = useThrottled(useAppStore((s) => s.testLoss), 1000, frozen, epochs);
  const logScale = useAppStore((s) => s.logScale);
  const setLogScale = useAppStore((s) => s.setLogScale);
  const train = useMemo(() => decimate(smooth(trainLoss, 0.9), MAX_POINTS), [trainLoss]);
  const test = useMemo(() => testLoss.map((p) => ({ step: p.step, loss: p.loss })), [testLoss]);
  const trainEval = useMemo(() => testLoss.map((p) => ({ step: p.step, loss: p.trainLoss })), [testLoss]);
  // #16 a VAE's two terms, each smoothed like the objective.
  const vae = trainLoss.length > 0 && trainLoss[trainLoss.length - 1].kl !== undefined;
  const recon = useMemo(() => (vae ? decimate(smooth(trainLoss.map((p) => ({ step: p.step, loss: p.recon ?? Number.NaN })), 0.9), MAX_POINTS) : []), [trainLoss, vae]);
  const kl = useMemo(() => (vae ? decimate(smooth(trainLoss.map((p) => ({ step: p.step, loss: p.kl ?? Number.NaN })), 0.9), MAX_POINTS) : []), [trainLoss, vae]);
  const pcaResult = useAppStore((s) => s.pca);
  const pcaError = useAppStore((s) => s.pcaError);
  const pca = useMemo(() => (pcaResult ? { value: pcaResult.testLoss, k: pcaResult.k } : null), [pcaResult]);
  return (
    <LossChartView
      train={train}
      test={test}
      trainEval={trainEval}
      recon={recon}
      kl={kl}
      pca={pca}
      pcaError={pcaError}
      steps={trainLoss.length}
      logScale={logScale}
      setLogScale={setLogScale}
    />
  );
}

interface Point {
  step: number;
  loss: number;
}

interface ViewProps {
  train: Point[];
  test: Point[];
  trainEval: Point[];
  /** #16 a VAE's reconstruction and KL terms (empty otherwise). */
  recon: Point[];
  kl: Point[];
  /** #16 the PCA baseline's test loss with the same code size, drawn as a reference line. */
  pca: { value: number; k: number } | null;
  pcaError: string | null;
  steps: number;
  logScale: boolean;
  setLogScale: (on: boolean) => void;
}

const SERIES = [
  { key: 'train', name: 'train (smoothed)', color: '#4f8cff', dash: undefined, dots: false },
  { key: 'trainEval', name: 'train, evaluated (per epoch)', color: '#7cc4ff', dash: '5 4', dots: true },
  { key: 'test', name: 'test (per epoch)', color: '#ffb547', dash: undefined, dots: true },
  { key: 'recon', name: 'reconstruction term', color: '#4fd18b', dash: undefined, dots: false },
  { key: 'kl', name: 'KL term (per input value, before β)', color: '#d68cff', dash: undefined, dots: false },
] as const;
const PCA_COLOR = '#ff7a8a';

const MARGIN = { top: 8, right: 16, bottom: 34, left: 72 };
const AXIS = '#9aa6bd';
const GRID = '#2a3242';
const formatTick = (v: number): string => (v === 0 ? '0' : v < 0.01 ? v.toExponential(1) : v.toFixed(3));
const formatStep = (v: number): string => (v >= 10_000 ? `${v / 1000}k` : String(v));

/** About `count` round values (1, 2 or 5 × 10^k apart) covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** 1, 2 and 5 × 10^k within [lo, hi] (lo > 0); round linear values when the range is under a factor of ~3. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** k;
      if (v >= lo && v <= hi) out.push(Number(v.toPrecision(12)));
    }
  }
  return out.length >= 2 ? out : niceTicks(lo, hi, 4);
}

interface Scales {
  x: (step: number) => number;
  y: (loss: number) => number;
  xTicks: number[];
  yTicks: number[];
  maxStep: number;
}

function scales(series: Point[][], logScale: boolean, width: number, height: number): Scales | null {
  let maxStep = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (const p of s) {
      if (p.step > maxStep) maxStep = p.step;
      if (!Number.isFinite(p.loss) || (logScale && p.loss <= 0)) continue;
      if (p.loss < lo) lo = p.loss;
      if (p.loss > hi) hi = p.loss;
    }
  }
  if (!(hi >= lo)) return null;
  const plotW = Math.max(1, width - MARGIN.left - MARGIN.right);
  const plotH = Math.max(1, height - MARGIN.top - MARGIN.bottom);
  let yTicks: number[];
  let y: (loss: number) => number;
  if (logScale) {
    // A margin of 10% either side (a log axis must not round its ends to powers of ten and clip the lowest losses).
    const a = Math.log(lo * 0.9);
    const b = Math.log(hi * 1.1);
    yTicks = logTicks(lo * 0.9, hi * 1.1);
    y = (v) => MARGIN.top + plotH * (1 - (Math.log(Math.max(v, 1e-30)) - a) / (b - a || 1));
  } else {
    // Round ends, one tick step beyond the data at most (a flat curve gets ±10% of its value).
    const pad = hi > lo ? 0 : Math.abs(hi) * 0.1 || 1;
    const inner = niceTicks(lo - pad, hi + pad, 5);
    const step = inner.length > 1 ? inner[1] - inner[0] : hi - lo + 2 * pad;
    const a = Math.floor((lo - pad) / step + 1e-9) * step;
    const b = Math.ceil((hi + pad) / step - 1e-9) * step;
    yTicks = [];
    for (let i = 0; a + i * step <= b + step * 1e-9; i++) yTicks.push(Number((a + i * step).toPrecision(12)));
    y = (v) => MARGIN.top + plotH * (1 - (v - a) / (b - a || 1));
  }
  const xMax = Math.max(1, maxStep);
  return {
    x: (step) => MARGIN.left + (plotW * step) / xMax,
    y,
    xTicks: niceTicks(0, xMax, Math.max(2, Math.round(plotW / 110))),
    yTicks,
    maxStep,
  };
}

/** The SVG path of a series ("M x y L x y …"), skipping points that cannot be drawn. */
function linePath(points: Point[], sc: Scales, logScale: boolean): string {
  let d = '';
  for (const p of points) {
    if (!Number.isFinite(p.loss) || (logScale && p.loss <= 0)) continue;
    d += `${d ? 'L' : 'M'}${sc.x(p.step).toFixed(1)} ${sc.y(p.loss).toFixed(1)}`;
  }
  return d;
}

/** The point of `points` nearest to `step` (points sorted by step), or null. */
function nearest(points: Point[], step: number): Point | null {
  if (points.length === 0) return null;
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid].step < step) lo = mid;
    else hi = mid;
  }
  return Math.abs(points[lo].step - step) <= Math.abs(points[hi].step - step) ? points[lo] : points[hi];
}

/** The chart's width and height in CSS pixels, following its box's size. */
function useBoxSize(): [RefObject<HTMLDivElement | null>, { width: number; height: number }] {
  const ref = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState({ width: 0, height: 0 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const measure = () => {
      const width = Math.round(el.clientWidth);
      const height = Math.round(el.clientHeight);
      setSize((s) => (s.width === width && s.height === height ? s : { width, height }));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, size];
}

/**
 * The chart itself, a hand-written SVG (a few dozen elements), redrawn only when its data or scale change.
 * It replaced a recharts chart whose once-a-second redraw (text measuring, its internal store, tens of
 * elements per tick) took 30–150 ms of the main thread on the 2-core test machine while training: a long
 * task every second. Here a redraw builds three path strings of at most 400 points.
 */
const LossChartView = memo(function LossChartView({ train, test, trainEval, recon, kl, pca, pcaError, steps, logScale, setLogScale }: ViewProps) {
  const hasData = train.length > 0;
  const [boxRef, { width, height }] = useBoxSize();
  const [hoverStep, setHoverStep] = useState<number | null>(null);
  const data = { train, trainEval, test, recon, kl };
  const series = SERIES.filter((s) => data[s.key].length > 0);
  // The PCA line joins the scale, so it is always in view.
  const pcaPoints = useMemo(() => (pca && train.length > 0 ? [{ step: 0, loss: pca.value }, { step: train[train.length - 1].step, loss: pca.value }] : []), [pca, train]);
  const sc = useMemo(
    () => (hasData && width > 0 ? scales([train, trainEval, test, recon, kl, pcaPoints], logScale, width, height) : null),
    [hasData, train, trainEval, test, recon, kl, pcaPoints, logScale, width, height],
  );
  const paths = useMemo(
    () =>
      sc
        ? {
            train: linePath(train, sc, logScale),
            trainEval: linePath(trainEval, sc, logScale),
            test: linePath(test, sc, logScale),
            recon: linePath(recon, sc, logScale),
            kl: linePath(kl, sc, logScale),
          }
        : null,
    [sc, train, trainEval, test, recon, kl, logScale],
  );
  const hover = sc && hoverStep !== null ? series.map((s) => ({ ...s, point: nearest(data[s.key], hoverStep) })).filter((h) => h.point !== null) : [];
  const pcaY = sc && pca && (!logScale || pca.value > 0) ? sc.y(pca.value) : null;
  const onMove = (e: MouseEvent<SVGSVGElement>) => {
    if (!sc) return;
    const r = e.currentTarget.getBoundingClientRect();
    const plotW = width - MARGIN.left - MARGIN.right;
    const frac = Math.min(1, Math.max(0, (e.clientX - r.left - MARGIN.left) / Math.max(1, plotW)));
    setHoverStep(frac * Math.max(1, sc.maxStep));
  };
  return (
    <section className="panel chart" aria-label="Training curves">
      <div className="panel-head">
        <h2>Loss</h2>
        <label className="toggle">
          <input type="checkbox" checked={logScale} onChange={(e) => setLogScale(e.target.checked)} />
          Log scale
        </label>
      </div>
      <div className="chart-box" ref={boxRef} data-testid="loss-chart" role="img" aria-label={hasData ? `Loss over ${steps} steps` : 'No training yet'}>
        {!hasData && <p className="empty">Press Train to see the loss fall.</p>}
        {hasData && sc && paths && (
          <svg width={width} height={height} className="loss-svg" onMouseMove={onMove} onMouseLeave={() => setHoverStep(null)}>
            <g className="grid">
              {sc.yTicks.map((v) => (
                <line key={`y${v}`} x1={MARGIN.left} x2={width - MARGIN.right} y1={sc.y(v)} y2={sc.y(v)} stroke={GRID} strokeDasharray="3 3" />
              ))}
              {sc.xTicks.map((v) => (
                <line key={`x${v}`} x1={sc.x(v)} x2={sc.x(v)} y1={MARGIN.top} y2={height - MARGIN.bottom} stroke={GRID} strokeDasharray="3 3" />
              ))}
            </g>
            <g className="axis" fill={AXIS} fontSize={13}>
              <line x1={MARGIN.left} x2={MARGIN.left} y1={MARGIN.top} y2={height - MARGIN.bottom} stroke={AXIS} />
              <line x1={MARGIN.left} x2={width - MARGIN.right} y1={height - MARGIN.bottom} y2={height - MARGIN.bottom} stroke={AXIS} />
              {sc.yTicks.map((v) => (
                <text key={`y${v}`} x={MARGIN.left - 6} y={sc.y(v)} textAnchor="end" dominantBaseline="middle">
                  {formatTick(v)}
                </text>
              ))}
              {sc.xTicks.map((v) => (
                <text key={`x${v}`} x={sc.x(v)} y={height - MARGIN.bottom + 16} textAnchor="middle">
                  {formatStep(v)}
                </text>
              ))}
              <text x={width - MARGIN.right} y={height - 4} textAnchor="end">
                step
              </text>
            </g>
            {pca && pcaY !== null && (
              <g data-testid="pca-line" data-value={pca.value} aria-label={`PCA baseline, k = ${pca.k}: test loss ${pca.value.toFixed(4)}`}>
                <line x1={MARGIN.left} x2={width - MARGIN.right} y1={pcaY} y2={pcaY} stroke={PCA_COLOR} strokeWidth={2} strokeDasharray="8 5" />
                <text x={width - MARGIN.right - 4} y={pcaY - 6} textAnchor="end" fill={PCA_COLOR} fontSize={13}>
                  PCA, k = {pca.k}: {pca.value.toFixed(4)}
                </text>
              </g>
            )}
            {series.map((s) => (
              <g key={s.key}>
                <path d={paths[s.key]} fill="none" stroke={s.color} strokeWidth={2} strokeDasharray={s.dash} />
                {s.dots && data[s.key].filter((p) => Number.isFinite(p.loss) && (!logScale || p.loss > 0)).map((p) => <circle key={p.step} cx={sc.x(p.step)} cy={sc.y(p.loss)} r={4} fill={s.color} />)}
              </g>
            ))}
            {hover.length > 0 && hoverStep !== null && <line x1={sc.x(hoverStep)} x2={sc.x(hoverStep)} y1={MARGIN.top} y2={height - MARGIN.bottom} stroke={AXIS} strokeOpacity={0.5} />}
          </svg>
        )}
        {hover.length > 0 && (
          <div className="chart-tooltip" role="status">
            {hover.map((h) => (
              <div key={h.key} style={{ color: h.color }}>
                {h.name}: {h.point?.loss.toFixed(4)} <span className="muted">(step {h.point?.step})</span>
              </div>
            ))}
          </div>
        )}
      </div>
      {hasData && (
        <ul className="chart-legend">
          {pca && (
            <li>
              <svg width={22} height={10} aria-hidden="true">
                <line x1={0} x2={22} y1={5} y2={5} stroke={PCA_COLOR} strokeWidth={2} strokeDasharray="8 5" />
              </svg>
              <span style={{ color: PCA_COLOR }}>PCA with k = {pca.k} (test)</span>
            </li>
          )}
          {series.map((s) => (
            <li key={s.key}>
              <svg width={22} height={10} aria-hidden="true">
                <line x1={0} x2={22} y1={5} y2={5} stroke={s.color} strokeWidth={2} strokeDasharray={s.dash} />
              </svg>
              <span style={{ color: s.color }}>{s.name}</span>
            </li>
          ))}
        </ul>
      )}
      {pcaError && <p className="muted chart-note">{pcaError}</p>}
      <BatchNormNote />
    </section>
  );
});
