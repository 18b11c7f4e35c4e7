/**
 * Fault injection for the end-to-end tests: lose the GPU device, hang, crash, crash the live-views
 * helper, let Auto race software adapters. Compiled into the worker only when the build sets
 * VITE_TEST_HOOKS=1 (src/env.d.ts): worker.ts calls this behind that constant, so the production
 * bundle drops it.
 */
import type { DebugAction } from '../protocol';
import type { Jobs } from './jobs';
import { activeGpuDevice } from './session';

export type FaultAction = Exclude<DebugAction, 'memory'>;

export function injectFault(action: FaultAction, jobs: Jobs): void {
  switch (action) {
    case 'loseDevice':
      activeGpuDevice()?.destroy();
      break;
    case 'hang': {
      const until = performance.now() + 60_000;
      while (performance.now() < until) {
        // a deliberate busy loop: the page's watchdog must notice
      }
      break;
    }
    case 'crash':
      setTimeout(() => {
        throw new Error('crash requested by a test hook');
      });
      break;
    case 'crashViews':
      jobs.helper.crash();
      break;
    case 'raceSoftware':
      jobs.session.includeSoftwareAdapters();
      break;
    default: {
      const unhandled: never = action;
      void unhandled;
    }
  }
}
