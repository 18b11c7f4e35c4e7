import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { kerasScript } from '../export/keras';
import { pytorchScript } from '../export/pytorch';
import { hashFor } from '../share/codec';
import { useAppStore } from '../state/store';

type Lang = 'pytorch' | 'keras';
const LANGS: { id: Lang; label: string; file: string }[] = [
  { id: 'pytorch', label: 'PyTorch', file: 'autoencoder_pytorch.py' },
  { id: 'keras', label: 'Keras', file: 'autoencoder_keras.py' },
];

/** "Export code": the design as a PyTorch or Keras script (issue #18), shown, copied, downloaded. */
export function ExportCode() {
  const spec = useAppStore((s) => s.spec);
  const [open, setOpen] = useState(false);
  const [lang, setLang] = useState<Lang>('pytorch');
  const [status, setStatus] = useState('');
  const dialogRef = useRef<HTMLDialogElement>(null);
  const openerRef = useRef<HTMLButtonElement>(null);
  const preRef = useRef<HTMLPreElement>(null);
  const tabRefs = useRef<Record<Lang, HTMLButtonElement | null>>({ pytorch: null, keras: null });

  useEffect(() => {
    const d = dialogRef.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      // Into the dialog: its first control is the framework choice.
      tabRefs.current[lang]?.focus();
    }
    if (!open && d.open) d.close();
    // Only on opening and closing, not when the tab changes (the arrow keys move the focus themselves).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open]);

  const result = useMemo((): { ok: true; code: string } | { ok: false; error: string } => {
    if (!open) return { ok: true, code: '' };
    const link = `${window.location.origin}${window.location.pathname}${hashFor(spec)}`;
    try {
      return { ok: true, code: lang === 'pytorch' ? pytorchScript(spec, { link }) : kerasScript(spec, { link }) };
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }, [open, lang, spec]);

  const current = LANGS.find((l) => l.id === lang) ?? LANGS[0];

  const close = (): void => {
    setOpen(false);
    setStatus('');
    openerRef.current?.focus();
  };

  const download = (): void => {
    if (!result.ok) return;
    const blob = new Blob([result.code], { type: 'text/x-python' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = current.file;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    setStatus(`Downloaded ${current.file}.`);
  };

  const copy = async (): Promise<void> => {
    if (!result.ok) return;
    try {
      await navigator.clipboard.writeText(result.code);
      setStatus(`Copied the ${current.label} script (${result.code.split('\n').length} lines).`);
    } catch {
      const sel = window.getSelection();
      if (sel && preRef.current) sel.selectAllChildren(preRef.current);
      setStatus('The clipboard is not available here: the script is selected, copy it with Ctrl+C.');
    }
  };

  const onTabKey = (e: KeyboardEvent<HTMLButtonElement>): void => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    e.preventDefault();
    const i = LANGS.findIndex((l) => l.id === lang);
    const next = LANGS[(i + (e.key === 'ArrowRight' ? 1 : LANGS.length - 1)) % LANGS.length].id;
    setLang(next);
    setStatus('');
    tabRefs.current[next]?.focus();
  };

  return (
    <>
      <button type="button" ref={openerRef} onClick={() => setOpen(true)} aria-haspopup="dialog">
        Export code
      </button>
      <dialog
        ref={dialogRef}
        className="export-code-dialog"
        aria-labelledby="export-code-title"
        onCancel={(e) => {
          // Escape: close through our state, so focus goes back to the button.
          e.preventDefault();
          close();
        }}
      >
        {open && (
          <div className="export-code">
            <div className="export-code-head">
              <h2 id="export-code-title">Export code</h2>
              <button type="button" onClick={close} aria-label="Close export code">
                ✕
              </button>
            </div>
            <p className="muted">
              This design as a self-contained Python script: the same layers, shapes, initialisers, loss, optimizer and settings, a data loader, and
              the link back here. The PyTorch script runs on one GPU as it is and on many with <code>torchrun --nproc_per_node=N</code>, and loads
              the weights of “Export model” with <code>--weights model.json</code>.
            </p>
            {spec.variant !== 'plain' && (
              <p className="muted" data-testid="export-variant-note">
                Variant “{spec.variant}”: the PyTorch script trains with the variant’s objective (corruption, code penalty, sampling and KL, or rank mask). The Keras
                script builds its layers (a VAE: the mean path) but trains them on the plain reconstruction loss.
              </p>
            )}
            <div role="tablist" aria-label="Framework" className="export-code-tabs">
              {LANGS.map((l) => (
                <button
                  key={l.id}
                  type="button"
                  role="tab"
                  id={`export-code-tab-${l.id}`}
                  aria-selected={lang === l.id}
                  aria-controls="export-code-panel"
                  tabIndex={lang === l.id ? 0 : -1}
                  ref={(el) => {
                    tabRefs.current[l.id] = el;
                  }}
                  onClick={() => {
                    setLang(l.id);
                    setStatus('');
                  }}
                  onKeyDown={onTabKey}
                >
                  {l.label}
                </button>
              ))}
            </div>
            <div role="tabpanel" id="export-code-panel" aria-labelledby={`export-code-tab-${lang}`} className="export-code-panel">
              {result.ok ? (
                <>
                  <div className="export-code-actions">
                    <button type="button" onClick={download}>
                      Download {current.file}
                    </button>
                    <button type="button" onClick={() => void copy()}>
                      Copy
                    </button>
                    <span role="status" className="muted">
                      {status}
                    </span>
                  </div>
                  <pre ref={preRef} data-testid="export-code" tabIndex={0} aria-label={`${current.label} script`}>
                    {result.code}
                  </pre>
                </>
              ) : (
                <p className="alert" role="alert">
                  Nothing to export: {result.error}.
                </p>
              )}
            </div>
          </div>
        )}
      </dialog>
    </>
  );
}
