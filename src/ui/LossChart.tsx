import { useMemo } from 'react';
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
      <div className="chart-box" data-testid="loss-chart" role="img" aria-label={hasData ? `Loss over ${trainLoss.length} steps` : 'No training yet'}>
        {hasData ? (
          <ResponsiveContainer width="100%" height="100%">
            <LineChart margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
              <CartesianGrid stroke="#2a3242" strokeDasharray="3 3" />
              <XAxis dataKey="step" type="number" domain={[0, 'dataMax']} stroke="#9aa6bd" tick={{ fontSize: 13 }} allowDuplicatedCategory={false} label={{ value: 'step', position: 'insideBottomRight', offset: -4, fill: '#9aa6bd' }} />
              <YAxis
                dataKey="loss"
                type="number"
                scale={logScale ? 'log' : 'linear'}
                domain={['auto', 'auto']}
                allowDataOverflow
                stroke="#9aa6bd"
                tick={{ fontSize: 13 }}
                width={64}
                tickFormatter={(v: number) => (v === 0 ? '0' : v < 0.01 ? v.toExponential(1) : v.toFixed(3))}
              />
              <Tooltip contentStyle={{ background: '#151b26', border: '1px solid #2a3242' }} formatter={(v) => (typeof v === 'number' ? v.toFixed(4) : String(v))} />
              <Legend />
              <Line data={train} dataKey="loss" name="train (smoothed)" stroke="#4f8cff" dot={false} strokeWidth={2} isAnimationActive={false} />
              <Line data={trainEval} dataKey="loss" name="train, evaluated (per epoch)" stroke="#7cc4ff" strokeDasharray="5 4" strokeWidth={2} dot={{ r: 4 }} isAnimationActive={false} />
              <Line data={test} dataKey="loss" name="test (per epoch)" stroke="#ffb547" strokeWidth={2} dot={{ r: 4 }} isAnimationActive={false} />
            </LineChart>
          </ResponsiveContainer>
        ) : (
          <p className="empty">Press Train to see the loss fall.</p>
        )}
      </div>
    </section>
  );
}
