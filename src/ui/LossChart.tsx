import { memo, useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { decimate, smooth } from '../model/smoothing';
import { isActive, useAppStore } from '../state/store';
import { useThrottled } from './useThrottled';

const MAX_POINTS = 400;

export function LossChart() {
  // Redraw the SVG chart at most once a second: on a 2-core machine the page's rendering competes with training.
  // Live views off: redraw only when an epoch ends (a new test point) or training stops.
  const frozen = useAppStore((s) => !s.liveViews && isActive(s.phase));
  const epochs = useAppStore((s) => s.testLoss.length);
  const trainLoss = useThrottled(useAppStore((s) => s.trainLoss), 1000, frozen, epochs);
  const testLoss = useThrottled(useAppStore((s) => s.testLoss), 1000, frozen, epochs);
  const logScale = useAppStore((s) => s.logScale);
  const setLogScale = useAppStore((s) => s.setLogScale);
  const train = useMemo(() => decimate(smooth(trainLoss, 0.9), MAX_POINTS), [trainLoss]);
  const test = useMemo(() => testLoss.map((p) => ({ step: p.step, loss: p.loss })), [testLoss]);
  const trainEval = useMemo(() => testLoss.map((p) => ({ step: p.step, loss: p.trainLoss })), [testLoss]);
  return <LossChartView train={train} test={test} trainEval={trainEval} steps={trainLoss.length} logScale={logScale} setLogScale={setLogScale} />;
}

interface Point {
  step: number;
  loss: number;
}

interface ViewProps {
  train: Point[];
  test: Point[];
  trainEval: Point[];
  steps: number;
  logScale: boolean;
  setLogScale: (on: boolean) => void;
}

const AXIS_TICK = { fontSize: 13 };
const MARGIN = { top: 8, right: 16, bottom: 8, left: 8 };
const X_LABEL = { value: 'step', position: 'insideBottomRight', offset: -4, fill: '#9aa6bd' } as const;
const TOOLTIP_STYLE = { background: '#151b26', border: '1px solid #2a3242' };
const DOT = { r: 4 };
const LINEAR_DOMAIN = ['auto', 'auto'] as const;
// 'auto' on a log axis rounds the lower end up to a power of ten and clips the lowest losses.
const LOG_DOMAIN = [(min: number) => min * 0.9, (max: number) => max * 1.1] as const;
const formatTick = (v: number): string => (v === 0 ? '0' : v < 0.01 ? v.toExponential(1) : v.toFixed(3));
const formatValue = (v: unknown): string => (typeof v === 'number' ? v.toFixed(4) : String(v));

/**
 * The SVG chart itself, redrawn only when its data or scale change: the store sends training
 * updates several times a second, and recharts redraws everything (path lengths, text measuring)
 * whenever it renders, so the throttled data alone does not keep it still.
 */
const LossChartView = memo(function LossChartView({ train, test, trainEval, steps, logScale, setLogScale }: ViewProps) {
  const hasData = train.length > 0;
  return (
    <section className="panel chart" aria-label="Training curves">
      <div className="panel-head">
        <h2>Loss</h2>
        <label className="toggle">
          <input type="checkbox" checked={logScale} onChange={(e) => setLogScale(e.target.checked)} />
          Log scale
        </label>
      </div>
      <div className="chart-box" data-testid="loss-chart" role="img" aria-label={hasData ? `Loss over ${steps} steps` : 'No training yet'}>
        {hasData ? (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart margin={MARGIN}>
              <CartesianGrid stroke="#2a3242" strokeDasharray="3 3" />
              <XAxis dataKey="step" type="number" domain={[0, 'dataMax']} stroke="#9aa6bd" tick={AXIS_TICK} allowDuplicatedCategory={false} label={X_LABEL} />
              <YAxis
                dataKey="loss"
                type="number"
                scale={logScale ? 'log' : 'linear'}
                domain={logScale ? LOG_DOMAIN : LINEAR_DOMAIN}
                allowDataOverflow
                stroke="#9aa6bd"
                tick={AXIS_TICK}
                width={64}
                tickFormatter={formatTick}
              />
              <Tooltip contentStyle={TOOLTIP_STYLE} formatter={formatValue} />
              <Legend />
              <Line data={train} dataKey="loss" name="train (smoothed)" stroke="#4f8cff" dot={false} strokeWidth={2} isAnimationActive={false} />
              <Line data={trainEval} dataKey="loss" name="train, evaluated (per epoch)" stroke="#7cc4ff" strokeDasharray="5 4" strokeWidth={2} dot={DOT} isAnimationActive={false} />
              <Line data={test} dataKey="loss" name="test (per epoch)" stroke="#ffb547" strokeWidth={2} dot={DOT} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        ) : (
          <p className="empty">Press Train to see the loss fall.</p>
        )}
      </div>
    </section>
  );
});
