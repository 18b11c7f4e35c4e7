/**
 * Read-only hooks for end-to-end tests and benchmarks (ours and outside ones): they observe the store,
 * they never drive the app (tests click and type like a person).
 */
import { debugWorker, useAppStore, type MemoryReport } from './state/store';

export interface TestHooks {
  /** Loss points and phases, as plain data. */
  snapshot: () => {
    phase: string;
    trainLoss: { step: number; loss: number }[];
    testLoss: { epoch: number; loss: number; trainLoss: number }[];
    memoryLog: MemoryReport[];
    backend: string | null;
    imagesPerSec: number;
  };
  requestMemory: () => void;
  /** Fault injection for robustness tests. */
  fault: (kind: 'loseDevice' | 'hang' | 'crash' | 'crashViews' | 'kill') => void;
  /** Lets Auto race software GPU adapters too (on a machine without a GPU, to test the race). */
  raceSoftwareBackends: () => void;
}

declare global {
  interface Window {
    __aePlayground?: TestHooks;
  }
}

export function installTestHooks(): void {
  window.__aePlayground = {
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
    fault: (kind) => debugWorker(kind),
    raceSoftwareBackends: () => debugWorker('raceSoftware'),
  };
}
