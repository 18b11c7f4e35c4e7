/**
 * The hooks for end-to-end tests and benchmarks (ours and outside ones) on `window.__aePlayground`:
 * their types (installTestHooks.ts installs them). Every build has the read-only ones: they observe
 * the store, they never drive the app (tests click and type like a person). Only a test build
 * (VITE_TEST_HOOKS=1, the e2e tests' dist-e2e) also has the fault hooks; the production build does
 * not contain their code at all. Types only, so the e2e tests can import them without the app.
 */
import type { Fault, MemoryReport } from './train/protocol';

/** In every build. */
export interface ReadHooks {
  /** Loss points and phases, as plain data. */
  snapshot: () => {
    phase: string;
    trainLoss: { step: number; loss: number }[];
    /** kl: the VAE's KL term on the test images (#16), where the run has one. */
    testLoss: { epoch: number; loss: number; trainLoss: number; kl?: number }[];
    memoryLog: MemoryReport[];
    backend: string | null;
    imagesPerSec: number;
    /** #16 the autoencoder family's figures of the run on screen (null / empty where absent). */
    family: {
      variant: string;
      pca: { k: number; testLoss: number; trainLoss: number; testMse: number } | null;
      pcaError: string | null;
      denoise: { epoch: number; corruptedLoss: number; reconLoss: number }[];
      rankCurve: number[] | null;
      generatedCount: number;
      hasManifold: boolean;
    };
  };
  requestMemory: () => void;
}

/** In a test build only (VITE_TEST_HOOKS=1). */
export interface FaultHooks {
  /** Fault injection for robustness tests. */
  fault: (kind: Fault) => void;
  /** Lets Auto race software GPU adapters too (on a machine without a GPU, to test the race). */
  raceSoftwareBackends: () => void;
}

/** The hooks of the test build, which the e2e tests run against. */
export type TestHooks = ReadHooks & FaultHooks;

/** What a build installs: the fault hooks only where VITE_TEST_HOOKS is '1'. */
export type InstalledHooks = ReadHooks & Partial<FaultHooks>;
