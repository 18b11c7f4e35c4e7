/**
 * The presenter view's toggle and the keyboard shortcuts' list (#15): in the header of the normal
 * view and in the presenter view's bar.
 */
import { useEffect, useRef } from 'react';
import { useAppStore } from '../state/store';
import { SHORTCUTS } from './useShortcuts';

/** "Presenter view" (aria-pressed) and "Keyboard shortcuts". */
export function ViewControls({ openHelp }: { openHelp: () => void }) {
  const presenter = useAppStore((s) => s.presenter);
  const setPresenter = useAppStore((s) => s.setPresenter);
  return (
    <div className="view-controls">
      <button
        type="button"
        aria-pressed={presenter}
        aria-keyshortcuts="P"
        title={presenter ? 'Back to the workbench (P or Esc)' : 'Big type, editors hidden: for a projector (P)'}
        onClick={() => setPresenter(!presenter)}
      >
        Presenter view
      </button>
      <button type="button" aria-haspopup="dialog" aria-keyshortcuts="Shift+?" title="Keyboard shortcuts (?)" onClick={openHelp}>
        {presenter ? <span aria-hidden="true">?</span> : null}
        <span className={presenter ? 'sr-only' : undefined}>Keyboard shortcuts</span>
      </button>
    </div>
  );
}

/** The shortcuts' list: a modal dialog; Escape or Close closes it and the focus goes back where it was. */
export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const returnTo = useRef<Element | null>(null);
  // Opens on a change to open only: switching views mounts a new dialog, maybe before the state that
  // closed the old one has rendered (a stale `open` then must not show the list again).
  const wasOpen = useRef(open);
  useEffect(() => {
    const dialog = ref.current;
    const opening = open && !wasOpen.current;
    wasOpen.current = open;
    if (!dialog) return;
    if (opening && !dialog.open) {
      returnTo.current = document.activeElement;
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="shortcuts-dialog"
      aria-labelledby="shortcuts-title"
      onClose={() => {
        onClose();
        const back = returnTo.current;
        returnTo.current = null;
        if (back instanceof HTMLElement && back.isConnected) back.focus();
      }}
    >
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <table className="shortcuts-table">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">What it does</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.keys}>
              <td>
                <kbd>{s.keys}</kbd>
              </td>
              <td>{s.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint-strong">Not while typing in a field, nor with Ctrl, Alt or ⌘ held.</p>
      <form method="dialog">
        <button type="submit">
          Close
        </button>
      </form>
    </dialog>
  );
}
