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
        testLoss: s.testLoss.map((t) => (t.kl === undefined ? { epoch: t.epoch, loss: t.loss, trainLoss: t.trainLoss } : { epoch: t.epoch, loss: t.loss, trainLoss: t.trainLoss, kl: t.kl })),
        memoryLog: s.memoryLog,
        backend: s.backend?.name ?? null,
        imagesPerSec: s.progress?.imagesPerSec ?? 0,
        family: {
          variant: s.spec.variant,
          pca: s.pca && { k: s.pca.k, testLoss: s.pca.testLoss, trainLoss: s.pca.trainLoss, testMse: s.pca.testMse },
          pcaError: s.pcaError,
          denoise: s.denoise.map((d) => ({ ...d })),
          rankCurve: s.rankCurve ? Array.from(s.rankCurve.errors) : null,
          generatedCount: s.generated.result?.count ?? 0,
          hasManifold: s.generated.result?.manifold != null,
        },
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
