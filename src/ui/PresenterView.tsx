/**
 * The presenter view (#15): for a projector at 1280×720. The editors, settings, runs, diagnostics and
 * analyses are not shown; the loss chart, the reconstructions and the bottleneck code fill the screen
 * in big type and high contrast, under one compact bar (Train/Pause, Step, Reset, the step count, the
 * backend). Nothing scrolls: the grid below the bar takes exactly the rest of the viewport.
 */
import { BACKEND_LABELS } from '../model/spec';
import { useAppStore } from '../state/store';
import { CodeView } from './CodeView';
import { FeatureMaps } from './FeatureMaps';
import { formatLoss } from './format';
import { LossChart } from './LossChart';
import { ViewControls } from './PresenterControls';
import { ReconstructionGrid } from './ReconstructionGrid';
import { TrainingControls } from './TrainingPanel';

/** The compact bar: controls and the figures a class follows (step, epoch, loss, backend). */
function PresenterBar({ openHelp }: { openHelp: () => void }) {
  const progress = useAppStore((s) => s.progress);
  const phase = useAppStore((s) => s.phase);
  const phaseDetail = useAppStore((s) => s.phaseDetail);
  const backend = useAppStore((s) => s.backend);
  const lastLoss = useAppStore((s) => s.trainLoss[s.trainLoss.length - 1]?.loss);
  const error = useAppStore((s) => s.error);
  return (
    <header className="presenter-bar" aria-label="Presenter controls">
      <h1 className="sr-only">Autoencoder Playground: presenter view</h1>
      <div className="controls" role="group" aria-label="Training">
        <TrainingControls />
      </div>
      <dl className="presenter-stats">
        <div>
          <dt>Step</dt>
          <dd data-testid="step">{progress ? `${progress.step} / ${progress.totalSteps}` : '—'}</dd>
        </div>
        <div>
          <dt>Epoch</dt>
          <dd data-testid="epoch">{progress ? `${progress.epoch} / ${progress.epochs}` : '—'}</dd>
        </div>
        <div>
          <dt>Loss</dt>
          <dd title="The last step's training loss">{formatLoss(lastLoss)}</dd>
        </div>
        <div>
          <dt>Backend</dt>
          <dd data-testid="backend">{backend ? BACKEND_LABELS[backend.name] : 'not started'}</dd>
        </div>
      </dl>
      <p className="presenter-phase" aria-live="polite">
        {phase === 'idle' ? phaseDetail || 'Ready' : phaseDetail}
      </p>
      <ViewControls openHelp={openHelp} />
      {error && (
        <p className="alert presenter-error" role="alert">
          {error}
        </p>
      )}
    </header>
  );
}

export function PresenterView({ openHelp }: { openHelp: () => void }) {
  const lookInside = useAppStore((s) => s.lookInside);
  return (
    <>
      <PresenterBar openHelp={openHelp} />
      <main className="presenter-main">
        <div className="presenter-recon">
          <ReconstructionGrid />
        </div>
        <div className="presenter-chart">
          <LossChart />
        </div>
        <div className="presenter-code">
          <CodeView />
        </div>
        {/* "Look inside" (#15 item 6): a third column while open (styles.css); its toggle stays in the code column's place otherwise. */}
        <div className={lookInside ? 'presenter-fmaps' : 'presenter-fmaps-toggle'}>
          <FeatureMaps />
        </div>
      </main>
    </>
  );
}
