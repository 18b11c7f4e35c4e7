import { useEffect, useId, useRef, useState, type ChangeEvent, type DragEvent } from 'react';
import { IMAGE_SIZES, type InputFile } from '../data/ownImport';
import { filesFromDataTransfer, filesFromInput } from './dropFiles';
import { ownDatasetId } from '../model/spec';
import { useOwnData } from '../state/ownData';
import { useAppStore } from '../state/store';
import { downloadOwnSetNpz } from './downloadData';

/**
 * Own images (#17): a drop zone for image files, a folder or a zip, with the size and colour they are
 * turned into; the import's progress, its outcome and the files it skipped; and the sets kept in this
 * browser (delete, download as .npz for the exported scripts).
 */
export function OwnImages() {
  const { sets, importing, outcome, error, importFiles, cancelImport, remove, dismiss } = useOwnData();
  const dataset = useAppStore((s) => s.spec.dataset);
  const [size, setSize] = useState(28);
  const [channels, setChannels] = useState<1 | 3>(1);
  const [name, setName] = useState('');
  const [over, setOver] = useState(false);
  const filesRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const ids = useId();

  useEffect(() => {
    // webkitdirectory is not in React's input attributes.
    folderRef.current?.setAttribute('webkitdirectory', '');
  }, []);

  const start = (files: InputFile[]): void => {
    void importFiles(files, { size, channels, name: name.trim() || undefined }).then(() => setName(''));
  };
  const onChosen = (e: ChangeEvent<HTMLInputElement>): void => {
    if (e.target.files) start(filesFromInput(e.target.files));
    e.target.value = '';
  };
  const dropped = (dt: DataTransfer): void => {
    if (useOwnData.getState().importing) return;
    const items = dt.items;
    void (items && items.length > 0 ? filesFromDataTransfer(items) : Promise.resolve(filesFromInput(dt.files))).then((files) => startRef.current(files));
  };
  const onDrop = (e: DragEvent<HTMLDivElement>): void => {
    e.preventDefault();
    e.stopPropagation();
    setOver(false);
    dropped(e.dataTransfer);
  };
  const startRef = useRef(start);
  useEffect(() => {
    startRef.current = start;
  });
  useEffect(() => {
    // Files dropped anywhere on the page are imported too (with the size and colour chosen here), rather
    // than the browser leaving the app to show them and losing the experiment.
    const hasFiles = (e: globalThis.DragEvent): boolean => e.dataTransfer?.types.includes('Files') ?? false;
    const over = (e: globalThis.DragEvent): void => {
      if (hasFiles(e)) e.preventDefault();
    };
    const drop = (e: globalThis.DragEvent): void => {
      if (!hasFiles(e) || !e.dataTransfer) return;
      e.preventDefault();
      const target = e.target instanceof Element ? e.target : null;
      // A file field of its own (Import model) handles its drop.
      if (target?.closest('input[type=file]')) return;
      dropped(e.dataTransfer);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);
  const fraction = importing && importing.total > 0 ? importing.done / importing.total : null;

  return (
    <details className="own-images" open>
      <summary>Your own images</summary>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        data-testid="dropzone"
        role="group"
        aria-label="Drop images, a folder or a zip here"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
      >
        <p className="dropzone-hint">Drop images, a folder (one sub-folder per label) or a zip anywhere on the page. They are resized and kept in this browser: nothing is uploaded.</p>
        <div className="own-fields">
          <div className="setting">
            <label htmlFor={`${ids}-size`}>Image size</label>
            <select id={`${ids}-size`} value={size} onChange={(e) => setSize(Number(e.target.value))} disabled={importing !== null}>
              {IMAGE_SIZES.map((s) => (
                <option key={s} value={s}>
                  {s}×{s}
                </option>
              ))}
            </select>
          </div>
          <div className="setting">
            <label htmlFor={`${ids}-colour`}>Colour</label>
            <select id={`${ids}-colour`} value={channels} onChange={(e) => setChannels(e.target.value === '3' ? 3 : 1)} disabled={importing !== null}>
              <option value={1}>Grey</option>
              <option value={3}>RGB</option>
            </select>
          </div>
          <div className="setting">
            <label htmlFor={`${ids}-name`}>Set name</label>
            <input id={`${ids}-name`} type="text" maxLength={40} value={name} placeholder="folder's name" onChange={(e) => setName(e.target.value)} disabled={importing !== null} />
          </div>
        </div>
        <div className="button-row">
          <button type="button" onClick={() => filesRef.current?.click()} disabled={importing !== null}>
            Images or zip…
          </button>
          <button type="button" onClick={() => folderRef.current?.click()} disabled={importing !== null}>
            Folder…
          </button>
          <input
            ref={filesRef}
            type="file"
            multiple
            accept="image/*,.zip,application/zip"
            hidden
            aria-label="Image files or zip"
            data-testid="own-files"
            onChange={onChosen}
          />
          <input
            ref={folderRef}
            type="file"
            multiple
            hidden
            aria-label="Image folder"
            data-testid="own-folder"
            onChange={onChosen}
          />
        </div>
        {importing && (
          <div className="import-progress" data-testid="import-progress">
            <progress max={1} value={fraction ?? undefined} aria-label="Import progress" />
            <span>
              {importing.phase === 'reading' ? 'Reading files…' : importing.phase === 'saving' ? 'Saving to this browser…' : `Resizing ${importing.done.toLocaleString('en-US')} of ${importing.total.toLocaleString('en-US')} images`}
            </span>
            <button type="button" className="small" onClick={cancelImport}>
              Cancel import
            </button>
          </div>
        )}
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {outcome && (
        <div className={outcome.ok ? 'import-outcome ok' : 'import-outcome error'} data-testid="import-outcome" role={outcome.ok ? 'status' : 'alert'}>
          <p>{outcome.message}</p>
          {outcome.skipped.length > 0 && (
            <details open data-testid="import-skipped">
              <summary>Skipped files ({outcome.skipped.length})</summary>
              <ul>
                {outcome.skipped.slice(0, 50).map((s, i) => (
                  <li key={i}>
                    <code>{s.file}</code>: {s.reason}
                  </li>
                ))}
                {outcome.skipped.length > 50 && <li>…and {outcome.skipped.length - 50} more</li>}
              </ul>
            </details>
          )}
          <button type="button" className="small" onClick={dismiss}>
            Dismiss
          </button>
        </div>
      )}
      {sets.length > 0 && (
        <ul className="own-sets" aria-label="Image sets in this browser">
          {sets.map((s) => (
            <li key={s.name} aria-current={dataset === ownDatasetId(s.name) ? true : undefined}>
              <span>
                <strong>{s.name}</strong> · {s.count.toLocaleString('en-US')} images · {s.height}×{s.width} {s.channels === 3 ? 'RGB' : 'grey'}
                {s.classNames.length > 1 ? ` · ${s.classNames.length} labels` : ''}
              </span>
              <button type="button" className="small" onClick={() => void downloadOwnSetNpz(s.name)} aria-label={`Download ${s.name} as .npz`}>
                .npz
              </button>
              <button type="button" className="small" onClick={() => void remove(s.name)} aria-label={`Delete ${s.name}`}>
                Delete
              </button>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
