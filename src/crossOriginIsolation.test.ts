import { describe, expect, it } from 'vitest';
import { isolateThroughServiceWorker, RELOAD_MARK, type IsolationHost } from './crossOriginIsolation';

/** A browser whose pieces record what was asked of them. */
function fakeHost(opts: { isolated?: boolean; secure?: boolean; sw?: 'ok' | 'rejects' | 'never-active' | 'none'; storage?: 'ok' | 'none'; marked?: boolean } = {}) {
  const store = new Map<string, string>();
  if (opts.marked) store.set(RELOAD_MARK, '1');
  const log: string[] = [];
  const sw = opts.sw ?? 'ok';
  const host: IsolationHost = {
    crossOriginIsolated: opts.isolated ?? false,
    isSecureContext: opts.secure ?? true,
    serviceWorker:
      sw === 'none'
        ? undefined
        : {
            register: (url: string | URL) => {
              log.push(`register ${String(url)}`);
              return sw === 'rejects' ? Promise.reject(new Error('blocked')) : Promise.resolve({} as ServiceWorkerRegistration);
            },
            ready: sw === 'never-active' ? new Promise<ServiceWorkerRegistration>(() => undefined) : Promise.resolve({} as ServiceWorkerRegistration),
          },
    storage:
      opts.storage === 'none'
        ? null
        : {
            getItem: (k: string) => store.get(k) ?? null,
            setItem: (k: string, v: string) => void store.set(k, v),
            removeItem: (k: string) => void store.delete(k),
          },
    reload: () => log.push('reload'),
  };
  return { host, log, store };
}

describe('isolateThroughServiceWorker', () => {
  it('does nothing on a page that is isolated already (headers from the server), and clears an old mark', async () => {
    const { host, log, store } = fakeHost({ isolated: true, marked: true });
    expect(await isolateThroughServiceWorker(host, '/sw.js')).toBe('isolated');
    expect(log).toEqual([]);
    expect(store.has(RELOAD_MARK)).toBe(false);
  });

  it('registers the worker, then marks the session and reloads once', async () => {
    const { host, log, store } = fakeHost();
    expect(await isolateThroughServiceWorker(host, '/coi-serviceworker.js')).toBe('reloading');
    expect(log).toEqual(['register /coi-serviceworker.js', 'reload']);
    expect(store.get(RELOAD_MARK)).toBe('1');
  });

  it('never reloads twice: the reloaded page, still not isolated, goes on without threads', async () => {
    const first = fakeHost();
    await isolateThroughServiceWorker(first.host, '/sw.js');
    // The reload: same session storage, the page still not isolated (the worker could not help).
    const second = fakeHost({ marked: first.store.has(RELOAD_MARK) });
    expect(await isolateThroughServiceWorker(second.host, '/sw.js')).toBe('unavailable');
    expect(second.log).toEqual([]);
    expect(second.store.has(RELOAD_MARK)).toBe(false);
  });

  it('goes on unisolated where no service worker can run', async () => {
    for (const opts of [{ secure: false }, { sw: 'none' as const }, { storage: 'none' as const }]) {
      const { host, log } = fakeHost(opts);
      expect(await isolateThroughServiceWorker(host, '/sw.js')).toBe('unavailable');
      expect(log).toEqual([]);
    }
  });

  it('goes on unisolated, without a reload, when registering fails or the worker never becomes active', async () => {
    const rejected = fakeHost({ sw: 'rejects' });
    expect(await isolateThroughServiceWorker(rejected.host, '/sw.js')).toBe('unavailable');
    expect(rejected.log).toEqual(['register /sw.js']);
    const stuck = fakeHost({ sw: 'never-active' });
    expect(await isolateThroughServiceWorker(stuck.host, '/sw.js', 20)).toBe('unavailable');
    expect(stuck.log).toEqual(['register /sw.js']);
    expect(stuck.store.has(RELOAD_MARK)).toBe(false);
  });
});
