/**
 * Keeps the experiment, the address bar and local storage in step (started with the app by
 * startApp, whatever panels are on screen):
 * - on load: a link's experiment wins, then a preset named in the address (`?preset=wiki-5-layer`, a short
 *   link for a lecture's slides; dropped from the address once applied), then the last design saved in this
 *   browser, then the default;
 * - edits update the hash (one history entry per pause in editing) and local storage;
 * - Back/Forward restore the experiment of that entry without reloading.
 * A bad link or stored value never breaks the page: the user sees why in an alert.
 */
import { findPreset, PRESETS } from '../model/presets';
import { normalizeSpec } from '../model/validate';
import type { ExperimentSpec } from '../model/spec';
import { hashFor, readHash } from '../share/codec';
import { useAppStore } from './store';

export const STORAGE_KEY = 'ae-playground:experiment:v1';
const HISTORY_DEBOUNCE_MS = 400;

function loadStored(): ExperimentSpec | null {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const r = normalizeSpec(JSON.parse(raw) as unknown);
    return r.ok ? r.spec : null;
  } catch {
    return null;
  }
}

function save(spec: ExperimentSpec): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(spec));
  } catch {
    // Storage full or disabled: the link still holds the experiment.
  }
}

/** Applies the experiment in the current hash; returns false when the hash holds none. */
function applyHash(): boolean {
  const { replaceSpec, setShareNotice } = useAppStore.getState();
  const result = readHash(window.location.hash);
  if (result === null) return false;
  if (result.ok) {
    replaceSpec(result.spec);
    setShareNotice(result.warnings.length ? { kind: 'warning', text: `The link was repaired: ${result.warnings.join('; ')}` } : null);
    return true;
  }
  const fallback = loadStored();
  setShareNotice({
    kind: 'error',
    text: `${result.error}. Showing ${fallback ? 'your last saved experiment' : 'the default experiment'} instead.`,
  });
  if (fallback) replaceSpec(fallback);
  return false;
}

/** Applies the link or the stored design, then follows edits and Back/Forward; returns the stop function. */
/** Applies `?preset=<id>` when the address names one; returns false when it names none (or an unknown one). */
function applyPresetParam(): boolean {
  const id = new URLSearchParams(window.location.search).get('preset');
  if (id === null) return false;
  const { replaceSpec, setShareNotice } = useAppStore.getState();
  const preset = findPreset(id);
  if (!preset) {
    setShareNotice({ kind: 'error', text: `There is no preset "${id}". The presets are: ${PRESETS.map((p) => p.id).join(', ')}.` });
    return false;
  }
  replaceSpec(structuredClone(preset.spec));
  return true;
}

export function startShareSync(): () => void {
  if (!applyHash()) {
    const linked = window.location.hash.includes('x=');
    if (linked || !applyPresetParam()) {
      const stored = loadStored();
      if (stored && !linked) useAppStore.getState().replaceSpec(stored);
    }
  }
  let lastHash = hashFor(useAppStore.getState().spec);
  // The query (a ?preset= name) has done its work: from now on the hash holds the experiment.
  window.history.replaceState(null, '', window.location.pathname + lastHash);
  save(useAppStore.getState().spec);

  let timer: ReturnType<typeof setTimeout> | null = null;
  const unsubscribe = useAppStore.subscribe((state, prev) => {
    if (state.spec === prev.spec) return;
    save(state.spec);
    const next = hashFor(state.spec);
    if (next === lastHash) return;
    if (timer) clearTimeout(timer);
    // Replace at once so a copied address is always current; push one entry per burst of edits.
    const pushing = timer === null;
    if (pushing) window.history.pushState(null, '', next);
    else window.history.replaceState(null, '', next);
    lastHash = next;
    timer = setTimeout(() => {
      timer = null;
    }, HISTORY_DEBOUNCE_MS);
  });
  const onPop = (): void => {
    if (window.location.hash === lastHash) return;
    lastHash = window.location.hash;
    applyHash();
    lastHash = hashFor(useAppStore.getState().spec);
  };
  window.addEventListener('popstate', onPop);
  window.addEventListener('hashchange', onPop);
  return () => {
    unsubscribe();
    window.removeEventListener('popstate', onPop);
    window.removeEventListener('hashchange', onPop);
    if (timer) clearTimeout(timer);
  };
}
