import { useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatShape } from '../model/spec';
import { formatLoss } from './format';
import { variantSummary } from '../model/settings';
import { SWEEP_AXES, type SweepAxis } from '../model/sweep';
import { useRunsStore } from '../state/runs';
import type { RunRecord } from '../storage/runsDb';

const COLORS = ['#4f8cff', '#ffb547', '#4fd18b', '#ff6b6b', '#c38bff', '#7cc4ff', '#f2e35b', '#ff9ecf'];
const STUDY_SHAPES = '7x7x4, 14x14x1, 2x2x49, 1x1x196';
const SWEEP_DEFAULTS: Record<SweepAxis, string> = {
  shape: STUDY_SHAPES,
  variant: 'plain, denoising, sparse, vae, rankOrdered',
  noise: '0.1, 0.3, 0.5',
  sparsity: '0, 0.01, 0.05, 0.2',
  beta: '0.5, 1, 4',
  codeDropout: '0, 0.2, 0.5',
  codeNoise: '0, 0.5, 1',
};

function copyError(r: RunRecord): number | null {
  if (!r.copyTest) return null;
  // An own image set of a size no built-in set has gets no "another data set" row (NaN): average the rest.
  const values = [r.copyTest.noise, r.copyTest.otherDataset, r.copyTest.inverted].filter(Number.isFinite);
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

function OverlayChart({ runs }: { runs: RunRecord[] }) {
  const series = useMemo(() => runs.map((r) => ({ id: r.id ?? 0, name: r.name, data: r.curves.test.map((t) => ({ epoch: t.epoch, loss: t.loss })) })), [runs]);
  if (runs.length === 0) return <p className="muted">Tick runs in the table to overlay their test-loss curves.</p>;
  return (
    <div className="chart-box small-chart" role="img" aria-label={`Test loss of ${runs.length} runs`}>
      <ResponsiveContainer width="100%" height="100%">
        <LineChart margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
          <CartesianGrid stroke="#2a3242" strokeDasharray="3 3" />
          <XAxis dataKey="epoch" type="number" domain={[1, 'dataMax']} allowDecimals={false} stroke="#9aa6bd" label={{ value: 'epoch', position: 'insideBottomRight', offset: -4, fill: '#9aa6bd' }} />
          <YAxis dataKey="loss" type="number" domain={['auto', 'auto']} stroke="#9aa6bd" width={64} tickFormatter={(v: number) => v.toFixed(3)} />
          <Tooltip contentStyle={{ background: '#151b26', border: '1px solid #2a3242' }} />
          <Legend />
          {series.map((s, i) => (
            <Line key={s.id} data={s.data} dataKey="loss" name={s.name} stroke={COLORS[i % COLORS.length]} strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** What each sweep axis is called in the form, and what it starts with. */
const SWEEP_AXIS_LABELS: Record<SweepAxis, string> = {
  shape: 'Bottleneck shape',
  variant: 'Variant',
  noise: 'Noise',
  sparsity: 'Sparsity',
  beta: 'Beta',
  codeDropout: 'Code dropout',
  codeNoise: 'Code σ',
};

export function RunsPanel() {
  const runs = useRunsStore((s) => s.runs);
  const selected = useRunsStore((s) => s.selected);
  const error = useRunsStore((s) => s.error);
  const sweep = useRunsStore((s) => s.sweep);
  const { remove, open, toggle, startSweep, stopSweep } = useRunsStore.getState();
  const [axis, setAxis] = useState<SweepAxis>('shape');
  const [texts, setTexts] = useState<Record<SweepAxis, string>>(SWEEP_DEFAULTS);
  const shapes = texts[axis];
  const setShapes = (v: string): void => setTexts((t) => ({ ...t, [axis]: v }));
  const overlay = runs.filter((r) => r.id !== undefined && selected.includes(r.id));
  return (
    <section className="panel runs" aria-label="Runs and sweeps">
      <div className="panel-head">
        <h2>Runs</h2>
        <span className="muted">every finished run is kept in this browser</span>
      </div>
      <div className="sweep-form">
        <label htmlFor="sweep-axis">Sweep over</label>
        <select id="sweep-axis" value={axis} onChange={(e) => setAxis(e.target.value as SweepAxis)} disabled={sweep.running}>
          {SWEEP_AXES.map((a) => (
            <option key={a} value={a}>
              {SWEEP_AXIS_LABELS[a]}
            </option>
          ))}
        </select>
        <label htmlFor="sweep-shapes">{axis === 'shape' ? 'Bottleneck shapes' : `${SWEEP_AXIS_LABELS[axis]} values`}</label>
        <input id="sweep-shapes" value={shapes} onChange={(e) => setShapes(e.target.value)} spellCheck={false} aria-describedby="sweep-help" />
        {sweep.running ? (
          <button type="button" className="danger" onClick={stopSweep}>
            Stop sweep
          </button>
        ) : (
          <button type="button" className="primary" onClick={() => void startSweep(shapes, axis)}>
            Sweep
          </button>
        )}
      </div>
      <p className="muted" id="sweep-help">
        {axis !== 'shape' && (
          <>
            Sweep trains this experiment once per value ({axis === 'variant' ? 'plain, denoising, sparse, vae, rankOrdered' : 'numbers'}; a setting of another variant switches the
            runs to its variant). With bottleneck shapes:{' '}
          </>
        )}
        Sweep trains one variant per shape (H×W×C or N) with this experiment&apos;s settings and a generated conv architecture
        (conv 16 → max-pools, or a learned stride-k conv for odd factors, down to H×W → conv C is the code → upsampling or
        transposed convs back → conv 1), then runs the copy test and the probe on each.
      </p>
      {sweep.running && (
        <p className="sweep-progress" role="status" data-testid="sweep-progress">
          Run {sweep.index} of {sweep.total}: {sweep.label}
        </p>
      )}
      {sweep.log.length > 0 && !sweep.running && <p className="muted">{sweep.log.join(' · ')}</p>}
      {error && (
        <p className="alert" role="alert">
          {error}
        </p>
      )}
      <div className="table-wrap">
        <table className="runs-table" data-testid="runs-table">
          <thead>
            <tr>
              <th scope="col">Overlay</th>
              <th scope="col">Run</th>
              <th scope="col">Bottleneck</th>
              <th scope="col">Code values</th>
              <th scope="col">Params</th>
              <th scope="col">Train loss</th>
              <th scope="col">Test loss</th>
              <th scope="col">Gap</th>
              <th scope="col">Copy-test error</th>
              <th scope="col">Probe: code / pixels</th>
              <th scope="col">Backend</th>
              <th scope="col">Time</th>
              <th scope="col">Variant</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {runs.length === 0 && (
              <tr>
                <td colSpan={14} className="empty">
                  No runs yet: train a model or start a sweep.
                </td>
              </tr>
            )}
            {runs.map((r) => (
              <tr key={r.id} data-testid="run-row">
                <td>
                  <input type="checkbox" aria-label={`Overlay ${r.name}`} checked={r.id !== undefined && selected.includes(r.id)} onChange={() => r.id !== undefined && toggle(r.id)} />
                </td>
                <td className="run-name">{r.name}</td>
                <td className="num">{formatShape(r.bottleneck)}</td>
                <td className="num">{r.codeSize}</td>
                <td className="num">{r.params}</td>
                <td className="num">{formatLoss(r.trainLoss)}</td>
                <td className="num">{formatLoss(r.testLoss)}</td>
                <td className="num">{formatLoss(r.gap)}</td>
                <td className="num">{formatLoss(copyError(r))}</td>
                <td className="num">{r.probe ? `${(r.probe.codeAccuracy * 100).toFixed(1)}% / ${(r.probe.pixelAccuracy * 100).toFixed(1)}%` : '—'}</td>
                <td>{r.backend}</td>
                <td className="num">{r.seconds.toFixed(0)} s</td>
                <td data-testid="run-variant">{variantSummary(r.spec)}</td>
                <td className="row-actions">
                  <button type="button" onClick={() => r.id !== undefined && open(r.id)} aria-label={`Open ${r.name}`} disabled={sweep.running}>
                    Open
                  </button>
                  <button type="button" className="danger" onClick={() => r.id !== undefined && void remove(r.id)} aria-label={`Delete ${r.name}`} disabled={sweep.running}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <OverlayChart runs={overlay} />
    </section>
  );
}
