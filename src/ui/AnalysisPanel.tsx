import { useAppStore } from '../state/store';
import { formatLoss } from './format';
import { ImageCanvas } from './ImageCanvas';

/** Copy test and linear probe: what the study asks of a trained autoencoder. */
export function AnalysisPanel() {
  const phase = useAppStore((s) => s.phase);
  const copyTest = useAppStore((s) => s.copyTest);
  const probe = useAppStore((s) => s.probe);
  const request = useAppStore((s) => s.requestAnalysis);
  const ready = phase === 'done';
  const test = copyTest.result?.find((r) => r.category === 'test');
  const outOfData = copyTest.result?.filter((r) => r.category !== 'test') ?? [];
  const copyError = outOfData.length ? outOfData.reduce((a, r) => a + r.loss, 0) / outOfData.length : null;
  return (
    <section className="panel analysis" aria-label="Copy test and probe">
      <div className="panel-head">
        <h2>Does it copy? Is the code useful?</h2>
        {!ready && <span className="muted">finish a training run first</span>}
      </div>
      <div className="analysis-grid">
        <div>
          <button type="button" onClick={() => request('copyTest')} disabled={!ready || copyTest.running}>
            {copyTest.running ? 'Running copy test…' : 'Copy test'}
          </button>
          <p className="muted">
            Reconstructs inputs the model never saw and that are unlike its data: uniform noise, the other data set, inverted images. An
            autoencoder that merely copied its input would reconstruct them all well.
          </p>
          {copyTest.error && (
            <p className="alert" role="alert">
              {copyTest.error}
            </p>
          )}
          {copyTest.result && (
            <>
              <p>
                Copy-test error (mean squared error, mean over the three): <strong data-testid="copy-test-error">{copyError !== null ? formatLoss(copyError) : '—'}</strong>
                {test && (
                  <>
                    {' '}
                    vs test error (MSE) <strong>{formatLoss(test.loss)}</strong> ({copyError !== null ? (copyError / test.loss).toFixed(1) : '—'}×)
                  </>
                )}
              </p>
              <table className="copy-table">
                <tbody>
                  {copyTest.result.map((r) => (
                    <tr key={r.category}>
                      <th scope="row">{r.label}</th>
                      <td className="num">{formatLoss(r.loss)}</td>
                      <td>
                        <div className="copy-samples">
                          {Array.from({ length: Math.min(4, r.samples.n) }, (_, i) => (
                            <div key={i} className="recon-pair">
                              <ImageCanvas batch={{ ...r.samples, pixels: r.samples.originals }} index={i} size={42} label={`${r.label} ${i + 1}`} />
                              <ImageCanvas batch={{ ...r.samples, pixels: r.samples.reconstructions }} index={i} size={42} label={`Reconstruction of ${r.label} ${i + 1}`} />
                            </div>
                          ))}
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </div>
        <div>
          <button type="button" onClick={() => request('probe')} disabled={!ready || probe.running}>
            {probe.running ? 'Probing…' : 'Probe'}
          </button>
          <p className="muted">
            Fits a linear classifier (logistic regression, in the worker) on the codes of the training images and tests it on the test
            images&apos; codes; the same probe on raw pixels is the baseline.
          </p>
          {probe.error && (
            <p className="alert" role="alert">
              {probe.error}
            </p>
          )}
          {probe.result && (
            <dl className="stats probe-stats">
              <div>
                <dt>Probe on the code</dt>
                <dd data-testid="probe-accuracy">{(probe.result.codeAccuracy * 100).toFixed(1)}%</dd>
              </div>
              <div>
                <dt>Probe on pixels</dt>
                <dd data-testid="probe-pixel-accuracy">{(probe.result.pixelAccuracy * 100).toFixed(1)}%</dd>
              </div>
              <div>
                <dt>Code size</dt>
                <dd>{probe.result.codeSize}</dd>
              </div>
              <div>
                <dt>Images</dt>
                <dd className="small">
                  {probe.result.trainCount} / {probe.result.testCount}
                </dd>
              </div>
            </dl>
          )}
        </div>
      </div>
    </section>
  );
}
