import { useMemo } from 'react';
import { BACKEND_LABELS } from '../model/spec';
import { formatLoss } from './format';
import { isActive, useAppStore } from '../state/store';
import { useExperimentCheck } from './useExperimentCheck';
import { primaryActionOf } from './useShortcuts';

function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds <= 0) return '—';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

const PRIMARY_LABEL = { train: 'Train', pause: 'Pause', resume: 'Resume' } as const;

/**
 * Train / Pause / Resume, Step and Reset, with their keyboard shortcuts as hints: in the training panel
 * and in the presenter view's bar. Step trains exactly one batch and leaves the run paused: from a
 * paused run, one more; with no run in progress, a new run's first. While a run trains, Step is
 * disabled (pause first, or press Space then s).
 */
export function TrainingControls() {
  const phase = useAppStore((s) => s.phase);
  const hasResults = useAppStore((s) => s.trainLoss.length > 0);
  const train = useAppStore((s) => s.train);
  const pause = useAppStore((s) => s.pause);
  const resume = useAppStore((s) => s.resume);
  const step = useAppStore((s) => s.step);
  const reset = useAppStore((s) => s.reset);
  const { reasons } = useExperimentCheck();
  const blocker = reasons[0] ?? null;
  const active = isActive(phase);
  const primary = primaryActionOf(phase);
  const primaryAction = { train, pause, resume }[primary];
  const canStep = phase === 'paused' || (!active && blocker === null);
  return (
    <>
      <button
        type="button"
        className="primary"
        onClick={() => {
          primaryAction();
        }}
        disabled={!active && blocker !== null}
        aria-describedby={blocker && !active ? 'train-blocker' : undefined}
        aria-keyshortcuts="Space"
        title={`${PRIMARY_LABEL[primary]} (Space)`}
      >
        {PRIMARY_LABEL[primary]}
      </button>
      <button
        type="button"
        onClick={() => {
          step();
        }}
        disabled={!canStep}
        aria-keyshortcuts="S"
        title={phase === 'training' ? 'Pause first: Step trains one batch of a paused run (S)' : 'Train exactly one batch, then stay paused (S)'}
      >
        Step
      </button>
      <button type="button" onClick={reset} disabled={phase === 'idle' && !hasResults} aria-keyshortcuts="R" title="Reset (R)">
        Reset
      </button>
    </>
  );
}

export function TrainingPanel() {
  const phase = useAppStore((s) => s.phase);
  const phaseDetail = useAppStore((s) => s.phaseDetail);
  const progress = useAppStore((s) => s.progress);
  const phaseFraction = useAppStore((s) => s.phaseFraction);
  const backend = useAppStore((s) => s.backend);
  const kernels = useAppStore((s) => s.kernels);
  const trainLoss = useAppStore((s) => s.trainLoss);
  const testLoss = useAppStore((s) => s.testLoss);
  const error = useAppStore((s) => s.error);
  const warning = useAppStore((s) => s.warning);
  const resultsStale = useAppStore((s) => s.resultsStale);
  const dismissError = useAppStore((s) => s.dismissError);
  const liveViews = useAppStore((s) => s.liveViews);
  const setLiveViews = useAppStore((s) => s.setLiveViews);
  const { memory, reasons } = useExperimentCheck();
  const blocker = reasons[0] ?? null;
  const active = isActive(phase);
  const lastTrain = trainLoss[trainLoss.length - 1]?.loss;
  const lastTest = testLoss[testLoss.length - 1]?.loss;
  const lastTrainEval = testLoss[testLoss.length - 1]?.trainLoss;
  const memoryReport = useAppStore((s) => s.memoryLog[s.memoryLog.length - 1]);
  const fraction = progress ? progress.step / Math.max(1, progress.totalSteps) : phase === 'done' ? 1 : (phaseFraction ?? 0);
  const recentTrain = useMemo(() => {
    const tail = trainLoss.slice(-20);
    return tail.length ? tail.reduce((a, p) => a + p.loss, 0) / tail.length : undefined;
  }, [trainLoss]);

  return (
    <section className="panel training" aria-label="Training">
      <div className="controls">
        <TrainingControls />
        <label className="toggle" title="Off: the loss chart, reconstructions and code update only at each epoch's end, and training gets the whole machine">
          <input type="checkbox" checked={liveViews} onChange={(e) => setLiveViews(e.target.checked)} />
          Live views
        </label>
        <span className="backend-badge" title={backend?.reason ?? 'The backend is chosen when training starts'}>
          Backend: <strong data-testid="backend">{backend ? BACKEND_LABELS[backend.name] : 'not started'}</strong>
        </span>
      </div>
      {blocker && !active && (
        <p className="alert" id="train-blocker" role="alert">
          Cannot train: {blocker}
        </p>
      )}
      {memory.level === 'warn' && !blocker && (
        <p className="warning" role="status">
          {memory.message}
        </p>
      )}
      {backend && <p className="backend-reason" data-testid="backend-reason">{backend.reason}</p>}
      {kernels && (
        <p
          className="backend-reason"
          data-testid="kernel-path"
          data-fused={kernels.fused ? 'yes' : 'no'}
          data-simd={kernels.wasmSimd === undefined ? undefined : kernels.wasmSimd ? 'yes' : 'no'}
          data-threads={kernels.wasmThreads}
          title={kernels.wasmThreadsNote ? `${kernels.detail}. Threads: ${kernels.wasmThreadsNote}.` : kernels.detail}
        >
          {kernels.fused
            ? `Kernels: the fused WebGPU path, ${kernels.dispatches ?? '?'} dispatches per step (${kernels.detail}).`
            : kernels.wasmSimd !== undefined
              ? `Kernels: ${kernels.detail}; ${kernels.wasmThreads === undefined || kernels.wasmThreads <= 1 ? 'one thread' : `${kernels.wasmThreads} threads`}.`
              : `Kernels: tfjs' stock WebGPU kernels, as the fused path does not cover ${kernels.detail}.`}
        </p>
      )}
      <div
        className="progress"
        role="progressbar"
        aria-label="Training progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction * 100)}
      >
        <div className="progress-fill" style={{ width: `${(fraction * 100).toFixed(1)}%` }} />
      </div>
      <p className="phase" aria-live="polite">
        {phase === 'idle' ? phaseDetail || 'Ready' : phaseDetail}
      </p>
      <dl className="stats">
        <div>
          <dt>Epoch</dt>
          <dd data-testid="epoch">{progress ? `${progress.epoch} / ${progress.epochs}` : '—'}</dd>
        </div>
        <div>
          <dt>Step</dt>
          <dd data-testid="step">{progress ? `${progress.step} / ${progress.totalSteps}` : '—'}</dd>
        </div>
        <div>
          <dt>Images/s</dt>
          <dd data-testid="throughput">{progress && progress.imagesPerSec > 0 ? progress.imagesPerSec.toFixed(0) : '—'}</dd>
        </div>
        <div>
          <dt>Time left</dt>
          <dd>{progress && phase === 'training' ? formatTime(progress.etaSeconds) : '—'}</dd>
        </div>
        <div>
          <dt>Train loss</dt>
          <dd data-testid="train-loss" title={`last step ${formatLoss(lastTrain)}`}>
            {formatLoss(recentTrain)}
          </dd>
        </div>
        <div>
          <dt>Test loss</dt>
          <dd data-testid="test-loss">{formatLoss(lastTest)}</dd>
        </div>
        <div title="Test loss minus the training loss evaluated the same way, at the last epoch">
          <dt>Gap (test − train)</dt>
          <dd data-testid="gap">{lastTest !== undefined && lastTrainEval !== undefined ? formatLoss(lastTest - lastTrainEval) : '—'}</dd>
        </div>
        <div title="Tensors alive in the worker after the last epoch: flat means no leak">
          <dt>Tensors</dt>
          <dd>{memoryReport && memoryReport.numTensors >= 0 ? memoryReport.numTensors : '—'}</dd>
        </div>
      </dl>
      {resultsStale && !active && (
        <p className="info" role="status">
          The curves and figures on this page are from the last run, before the experiment was changed. Press Train to run this one.
        </p>
      )}
      {warning && (
        <p className="warning" role="alert">
          {warning}
        </p>
      )}
      {error && (
        <div className="alert" role="alert">
          <span>{error}</span>
          <button type="button" onClick={dismissError} aria-label="Dismiss error">
            ✕
          </button>
        </div>
      )}
    </section>
  );
}
