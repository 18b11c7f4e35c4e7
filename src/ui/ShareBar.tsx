import { useRef, useState } from 'react';
import { hashFor, specFromJson, specToJson } from '../share/codec';
import { useAppStore } from '../state/store';

/** Copy link, Export and Import, and the notices they raise. */
export function ShareBar() {
  const notice = useAppStore((s) => s.shareNotice);
  const setShareNotice = useAppStore((s) => s.setShareNotice);
  const replaceSpec = useAppStore((s) => s.replaceSpec);
  const fileRef = useRef<HTMLInputElement>(null);
  const [manualLink, setManualLink] = useState<string | null>(null);

  const link = (): string => `${window.location.origin}${window.location.pathname}${hashFor(useAppStore.getState().spec)}`;

  const copy = async (): Promise<void> => {
    const url = link();
    try {
      await navigator.clipboard.writeText(url);
      setManualLink(null);
      setShareNotice({ kind: 'info', text: `Link copied (${url.length} characters).` });
    } catch {
      setManualLink(url);
      setShareNotice({ kind: 'info', text: 'The clipboard is not available here: copy the link below.' });
    }
  };

  const exportJson = (): void => {
    const blob = new Blob([specToJson(useAppStore.getState().spec)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'autoencoder-experiment.json';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };

  const importJson = async (file: File): Promise<void> => {
    const text = await file.text().catch(() => '');
    const r = specFromJson(text);
    if (r.ok) {
      replaceSpec(r.spec);
      setShareNotice(r.warnings.length ? { kind: 'warning', text: `Imported ${file.name}, repaired: ${r.warnings.join('; ')}` } : { kind: 'info', text: `Imported ${file.name}.` });
    } else {
      setShareNotice({ kind: 'error', text: `${file.name}: ${r.error}. Your experiment is unchanged.` });
    }
  };

  return (
    <div className="share-bar">
      <button type="button" onClick={() => void copy()}>
        Copy link
      </button>
      <button type="button" onClick={exportJson} title="Save this experiment (design and settings, no weights) as a JSON file">
        Export
      </button>
      <button type="button" onClick={() => fileRef.current?.click()} title="Open an experiment saved with Export (a JSON file)">
        Import
      </button>
      <input
        ref={fileRef}
        type="file"
        accept="application/json,.json"
        aria-label="Import experiment file"
        hidden
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) void importJson(f);
          e.target.value = '';
        }}
      />
      {notice && (
        <div className={notice.kind === 'error' ? 'alert' : notice.kind === 'warning' ? 'warning' : 'info'} role={notice.kind === 'info' ? 'status' : 'alert'}>
          <span>{notice.text}</span>
          <button type="button" aria-label="Dismiss notice" onClick={() => setShareNotice(null)}>
            ✕
          </button>
        </div>
      )}
      {manualLink && <input className="manual-link" readOnly value={manualLink} aria-label="Share link" onFocus={(e) => e.target.select()} />}
    </div>
  );
}
