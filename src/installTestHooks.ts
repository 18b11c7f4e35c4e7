/** Installs the hooks typed in testHooks.ts on `window.__aePlayground`. */
import { debugWorker, useAppStore } from './state/store';
import type { InstalledHooks } from './testHooks';

export function installTestHooks(): InstalledHooks {
  const hooks: InstalledHooks = {
    snapshot: () => {
      const s = useAppStore.getState();
      return {
        phase: s.phase,
        trainLoss: s.trainLoss,
        testLoss: s.testLoss.map((t) => ({ epoch: t.epoch, loss: t.loss, trainLoss: t.trainLoss })),
        memoryLog: s.memoryLog,
        backend: s.backend?.name ?? null,
        imagesPerSec: s.progress?.imagesPerSec ?? 0,
      };
    },
    requestMemory: () => debugWorker('memory'),
  };
  // Statically false in the production build, so the bundler drops this block and the strings in it.
  if (import.meta.env.VITE_TEST_HOOKS === '1') {
    hooks.fault = (kind) => debugWorker(kind);
    hooks.raceSoftwareBackends = () => debugWorker('raceSoftware');
  }
  // Not declared on Window in src: e2e/global.d.ts declares the test build's TestHooks for the tests.
  Object.defineProperty(window, '__aePlayground', { value: hooks, configurable: true, writable: true });
  return hooks;
}
