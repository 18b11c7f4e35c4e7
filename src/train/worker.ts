/// <reference lib="webworker" />
/**
 * The training worker's entry: the only thread that trains (tfjs). It receives the page's messages
 * (protocol.ts) and routes them; the work lives in src/train/worker/:
 * - jobs.ts: the job queue (one training at a time), the run that pause/resume/stop refer to, the
 *   training job (data, backend, device-loss recovery), the copy test and probe, the gradient check;
 * - session.ts: the backend session (choice, Auto's race, lost devices, the model and optimizer);
 * - loop.ts: the training loop (loss reads, snapshots, the divergence rule, epoch ends, live views);
 * - faults.ts: fault injection, compiled in only for the e2e build (VITE_TEST_HOOKS=1).
 */
import type { FromWorker, ToWorker } from './protocol';
import { injectFault } from './worker/faults';
import { Jobs } from './worker/jobs';

declare const self: DedicatedWorkerGlobalScope;

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

/** A macrotask yield (no 4 ms timer clamp) so pause/stop messages get through between steps. */
function macrotaskYield(): () => Promise<void> {
  const channel = new MessageChannel();
  const waiting: (() => void)[] = [];
  channel.port1.onmessage = () => waiting.shift()?.();
  return () =>
    new Promise((resolve) => {
      waiting.push(resolve);
      channel.port2.postMessage(0);
    });
}

const jobs = new Jobs({
  post,
  yieldToEvents: macrotaskYield(),
  cores: self.navigator.hardwareConcurrency,
  dataBase: new URL(`${import.meta.env.BASE_URL}data/`, self.location.origin).href,
});

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  switch (msg.type) {
    case 'start':
      jobs.start(msg);
      break;
    case 'views':
      jobs.setLiveViews(msg.live);
      break;
    case 'pause':
      jobs.pause(msg.runId);
      break;
    case 'resume':
      jobs.resume(msg.runId);
      break;
    case 'stop':
      jobs.stop(msg.runId);
      break;
    case 'ping':
      post({ type: 'pong', id: msg.id });
      break;
    case 'debug':
      if (msg.action === 'memory') jobs.reportMemory();
      // Fault injection exists only in the e2e build: this constant folds to false elsewhere.
      else if (import.meta.env.VITE_TEST_HOOKS === '1') injectFault(msg.action, jobs);
      break;
    case 'analyze':
      jobs.analyze(msg.runId, msg.what);
      break;
    case 'gradCheck':
      jobs.gradCheck(msg.backends);
      break;
    case 'exportModel':
      jobs.exportModel(msg.runId);
      break;
    case 'importModel':
      jobs.importModel(msg.runId, msg.file);
      break;
    case 'featureMaps':
      jobs.setFeatureMaps(msg.image);
      break;
    case 'step':
      jobs.step(msg.runId);
      break;
    case 'generate':
      jobs.generate(msg.runId, msg.count, msg.seed);
      break;
    case 'latent':
      jobs.latent(msg.runId, msg.max);
      break;
    case 'decode':
      jobs.decode(msg.runId, msg.requestId, msg.codes, msg.count);
      break;
    default: {
      // A message type added to ToWorker and not handled above fails to compile here.
      const unhandled: never = msg;
      void unhandled;
    }
  }
};

post({ type: 'ready' });
