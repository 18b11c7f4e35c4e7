/**
 * Cross-origin isolation on hosts that cannot send COOP/COEP (#19, the CPU path). tfjs-wasm's threaded
 * build needs SharedArrayBuffer, which a page only gets when cross-origin isolated. `npm start` and
 * `npm run preview` send the two headers; a static host (GitHub Pages, a lecture's web space) may not.
 * There the page registers the `coi-serviceworker` package's service worker (served at the root by
 * vite.config.ts), which adds both headers to every response of this origin, and reloads once: the
 * reloaded page is isolated. A page that is still not isolated after that one reload (the worker could
 * not help), or where no service worker can run (plain http off localhost, some private windows, a
 * browser that blocks them), stays on the one-thread build, and the kernel line says why.
 *
 * No React, no tfjs: the browser's objects come in as arguments, so the rule is unit-tested.
 */

/** The service worker's file, at the site's root (its scope covers the app); vite.config.ts serves and emits it. */
export const COI_WORKER_FILE = 'coi-serviceworker.js';

/** Set for the one reload this module makes, so a page the worker could not isolate does not reload again. */
export const RELOAD_MARK = 'aep.coiReload';

/** What the page should do: go on (isolated, or isolation unavailable) or stop (a reload is under way). */
export type IsolationOutcome = 'isolated' | 'reloading' | 'unavailable';

/** The parts of the browser this uses (window, navigator.serviceWorker, sessionStorage, location). */
export interface IsolationHost {
  crossOriginIsolated: boolean;
  isSecureContext: boolean;
  serviceWorker: Pick<ServiceWorkerContainer, 'register' | 'ready'> | undefined;
  storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
  reload: () => void;
}

function storageOf(win: Window): IsolationHost['storage'] {
  try {
    return win.sessionStorage;
  } catch {
    return null; // storage disabled: without a mark a reload could repeat, so none is made
  }
}

export function browserIsolationHost(win: Window = window): IsolationHost {
  return {
    crossOriginIsolated: win.crossOriginIsolated,
    isSecureContext: win.isSecureContext,
    serviceWorker: 'serviceWorker' in win.navigator ? win.navigator.serviceWorker : undefined,
    storage: storageOf(win),
    reload: () => win.location.reload(),
  };
}

/**
 * Isolated already: go on. Otherwise register the worker at `workerUrl`, wait until it is active (at
 * most `timeoutMs`), mark the session and reload, once per session: the reload's document comes through
 * the worker with COOP/COEP. Never throws: any failure leaves the page as it is ('unavailable').
 */
export async function isolateThroughServiceWorker(host: IsolationHost, workerUrl: string, timeoutMs = 5000): Promise<IsolationOutcome> {
  const storage = host.storage;
  if (host.crossOriginIsolated) {
    storage?.removeItem(RELOAD_MARK);
    return 'isolated';
  }
  if (!host.isSecureContext || host.serviceWorker == null || storage == null) return 'unavailable';
  if (storage.getItem(RELOAD_MARK) != null) {
    // This page is the reload, and is still not isolated: the worker could not help; no second reload.
    storage.removeItem(RELOAD_MARK);
    return 'unavailable';
  }
  try {
    await host.serviceWorker.register(workerUrl);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const active = await Promise.race([
      host.serviceWorker.ready.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!active) return 'unavailable';
  } catch {
    return 'unavailable';
  }
  storage.setItem(RELOAD_MARK, '1');
  host.reload();
  return 'reloading';
}
