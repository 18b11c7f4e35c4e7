/**
 * The page's keyboard shortcuts (#15), installed once (App.tsx): Space trains, pauses and resumes,
 * "s" trains one step, "r" resets, "p" turns the presenter view on and off, "?" lists the shortcuts,
 * Escape leaves the presenter view. None fires while a text field, number field, select or text area
 * has the focus, nor with Ctrl, Alt or Meta held. Space also leaves a button, checkbox or link reached
 * with the keyboard to do its own thing (pressing it); a button focused by a click gets no second press.
 */
import { useEffect } from 'react';
import { isActive, useAppStore, type AppState } from '../state/store';
import type { Phase } from '../train/protocol';

/** What the Train / Pause / Resume button (and Space) does in this phase. */
export function primaryActionOf(phase: Phase): 'train' | 'pause' | 'resume' {
  if (phase === 'paused') return 'resume';
  return isActive(phase) ? 'pause' : 'train';
}

/** The shortcuts as the "?" dialog and the buttons' hints show them. */
export const SHORTCUTS: readonly { keys: string; aria: string; what: string }[] = [
  { keys: 'Space', aria: 'Space', what: 'Train, Pause or Resume' },
  { keys: 's', aria: 'S', what: 'Step: train exactly one batch, then stay paused' },
  { keys: 'r', aria: 'R', what: 'Reset' },
  { keys: 'p', aria: 'P', what: 'Presenter view on or off' },
  { keys: 'Esc', aria: 'Escape', what: 'Leave the presenter view; close this list' },
  { keys: '?', aria: 'Shift+?', what: 'This list of shortcuts' },
];

/** Input types that take typed text (or arrow keys and digits): a key typed there is never a shortcut. */
const NOT_TEXT_INPUTS = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'file', 'color', 'image']);

/** Whether keys typed at `el` belong to it: text and number fields, selects, text areas, editable content. */
export function isTypingTarget(el: Element | null): boolean {
  if (!el) return false;
  if (el instanceof HTMLInputElement) return !NOT_TEXT_INPUTS.has(el.type);
  if (el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) return true;
  return el instanceof HTMLElement && el.isContentEditable;
}

/** Elements that Space presses (buttons, checkboxes, links, summaries): Space is theirs there. */
const SPACE_OWNERS =
  'button, a[href], input, select, textarea, summary, [role="button"], [role="checkbox"], [role="switch"], [role="radio"], [role="tab"], [role="menuitem"], [role="option"], [role="slider"], [contenteditable]';

/** Runs the shortcut for `key` on the store; returns whether the key was one. */
export function runShortcut(key: string, s: AppState, openHelp: () => void): boolean {
  switch (key) {
    case ' ': {
      const action = primaryActionOf(s.phase);
      if (action === 'pause') s.pause();
      else if (action === 'resume') s.resume();
      else s.train();
      return true;
    }
    case 's':
      s.step();
      return true;
    case 'r':
      if (s.phase !== 'idle' || s.trainLoss.length > 0) s.reset();
      return true;
    case 'p':
      s.setPresenter(!s.presenter);
      return true;
    case '?':
      openHelp();
      return true;
    case 'Escape':
      if (!s.presenter) return false;
      s.setPresenter(false);
      return true;
    default:
      return false;
  }
}

/**
 * Installs the shortcuts on the document. While a modal dialog is open (the shortcuts' list, or any
 * other), none fires: the dialog handles its own keys (Escape closes it).
 */
export function useShortcuts(openHelp: () => void): void {
  useEffect(() => {
    // A button that has the focus because it was clicked: Space is the shortcut there, not a second
    // press (click Step, then Space trains on rather than stepping again). A button reached with the
    // keyboard keeps Space for itself. (Not :focus-visible: a key press makes the clicked button match it.)
    let clicked: Element | null = null;
    const onPointer = (e: PointerEvent): void => {
      clicked = e.target instanceof Element ? e.target.closest('button') : null;
    };
    const onFocus = (e: FocusEvent): void => {
      if (e.target !== clicked) clicked = null; // focus moved by the keyboard or a script
    };
    const onKey = (e: KeyboardEvent): void => {
      if (document.querySelector('dialog[open]') || e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey || e.isComposing) return;
      const target = e.target instanceof Element ? e.target : null;
      if (isTypingTarget(target)) return;
      if (e.key === ' ' && target?.closest(SPACE_OWNERS) && target !== clicked) return;
      if (e.repeat && e.key !== 's') return; // a held key acts once (a held "s" steps on)
      if (runShortcut(e.key, useAppStore.getState(), openHelp)) e.preventDefault();
    };
    document.addEventListener('pointerdown', onPointer, true);
    document.addEventListener('focusin', onFocus, true);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('pointerdown', onPointer, true);
      document.removeEventListener('focusin', onFocus, true);
      document.removeEventListener('keydown', onKey);
    };
  }, [openHelp]);
}
