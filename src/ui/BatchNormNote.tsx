import { BN_MOMENTUM, hasBatchNorm, runningLossAt, startingShareLeft } from '../model/batchNormNote';
import { useAppStore } from '../state/store';
import { formatLoss } from './format';

const WINDOW = 20;

/**
 * Batch norm where it bites (issue #15): with batch-norm layers and an epoch's test loss, the training
 * loss as the steps see it (batch statistics) next to the losses in inference mode (moving averages),
 * and why they differ.
 */
export function BatchNormNote() {
  const show = useAppStore((s) => hasBatchNorm(s.spec) && !s.resultsStale);
  const last = useAppStore((s) => s.testLoss[s.testLoss.length - 1]);
  const running = useAppStore((s) => {
    const t = s.testLoss[s.testLoss.length - 1];
    return t ? runningLossAt(s.trainLoss, t.step, WINDOW) : null;
  });
  if (!show || !last || running === null) return null;
  const ratio = running > 0 ? last.loss / running : null;
  const left = startingShareLeft(last.step);
  return (
    <div className="bn-note" data-testid="bn-note" role="note" aria-labelledby="bn-note-title">
      <h3 id="bn-note-title">Batch norm: training mode vs inference mode (epoch {last.epoch}, step {last.step})</h3>
      <dl className="bn-numbers">
        <div>
          <dt>Training loss, batch statistics (mean of the last {Math.min(WINDOW, last.step)} steps)</dt>
          <dd data-testid="bn-train">{formatLoss(running)}</dd>
        </div>
        <div>
          <dt>Training images, inference mode (moving averages)</dt>
          <dd data-testid="bn-train-eval">{formatLoss(last.trainLoss)}</dd>
        </div>
        <div>
          <dt>Test loss, inference mode (moving averages)</dt>
          <dd data-testid="bn-test">
            {formatLoss(last.loss)}
            {ratio !== null && Number.isFinite(ratio) && <span className="muted"> ({ratio.toFixed(ratio >= 10 ? 0 : 1)}× the training loss)</span>}
          </dd>
        </div>
      </dl>
      <p>
        While training, each batch-norm layer normalises with the mean and variance of the batch in hand. To evaluate (the test loss, and the
        training images at each epoch&apos;s end) it uses moving averages of those statistics instead, updated with momentum {BN_MOMENTUM}: each
        step moves them only {Math.round((1 - BN_MOMENTUM) * 100)}% of the way to the current batch. Early on they still remember their starting values
        (mean 0, variance 1) and the first batches&apos; statistics (after {last.step.toLocaleString('en-US')} steps, {(left * 100).toFixed(left < 0.01 ? 2 : 0)}% of the start is left), while
        the weights have moved on, so inference mode can normalise with the wrong numbers and its loss can sit far above the training loss, on the
        training images too: that gap is not overfitting. It closes as training goes on and the averages catch up.
        {ratio !== null && Number.isFinite(ratio) && (
          <>
            {' '}
            {ratio >= 1.5
              ? `Here the test loss is ${ratio.toFixed(1)}× the training loss: the averages have not caught up yet.`
              : `Here the test loss is ${ratio.toFixed(1)}× the training loss, a small gap: the averages have caught up, or the batch statistics stayed near where they started.`}
          </>
        )}
      </p>
    </div>
  );
}
