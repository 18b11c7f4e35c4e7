import { useAppStore } from '../state/store';
import type { BackendName } from '../model/spec';

const ALL: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** Checks every layer kind's gradients on every backend against finite differences. */
export function Diagnostics() {
  const gradCheck = useAppStore((s) => s.gradCheck);
  const run = useAppStore((s) => s.runGradCheck);
  const failed = gradCheck.rows.filter((r) => !r.ok);
  return (
    <details className="panel diagnostics">
      <summary>Diagnostics: gradient check</summary>
      <p className="muted">
        Runs one training step of every layer kind on each backend and compares its gradients with finite differences, so no
        backend&apos;s kernels are trusted blindly. Stops any training in progress.
      </p>
      <button type="button" onClick={() => run(ALL)} disabled={gradCheck.running}>
        {gradCheck.running ? 'Checking…' : 'Check gradients'}
      </button>
      {gradCheck.rows.length > 0 && (
        <p data-testid="gradcheck-summary" aria-live="polite">
          {gradCheck.rows.length} checks, {failed.length} failed
          {gradCheck.running ? ' (running)' : ''}
        </p>
      )}
      {gradCheck.errors.map((e) => (
        <p key={e} className="warning">
          {e}
        </p>
      ))}
      {gradCheck.rows.length > 0 && (
        <table className="gradcheck" data-testid="gradcheck-table">
          <thead>
            <tr>
              <th scope="col">Backend</th>
              <th scope="col">Layer</th>
              <th scope="col">Max rel. error</th>
              <th scope="col">Result</th>
            </tr>
          </thead>
          <tbody>
            {gradCheck.rows.map((r) => (
              <tr key={`${r.backend}-${r.kind}`} title={r.detail}>
                <td>{r.backend}</td>
                <td>{r.kind}</td>
                <td>{r.maxRelError.toExponential(1)}</td>
                <td className={r.ok ? 'ok' : 'bad'}>{r.ok ? 'ok' : 'FAILED'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
