/// <reference lib="webworker" />
/**
 * The live-views helper: a worker started by the training worker when it trains on the CPU (WASM or
 * plain JS). It holds a copy of the model, takes the weights the training worker reads at each views
 * refresh, and runs the views' forward pass (16 reconstructions and their codes) on another core, so
 * training never waits for it. On GPU backends the training worker renders the views itself (reading
 * weights back from a GPU would stall its queue).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import './wasmPaths';
import { buildModel, type BuiltModel } from './buildModel';
import { trySet } from './startBackend';
import type { FromViewsHelper, ToViewsHelper } from './viewsProtocol';
import { renderViews } from './viewsRender';

declare const self: DedicatedWorkerGlobalScope;

function post(msg: FromViewsHelper, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

let built: BuiltModel | null = null;
let display: tf.Tensor4D | null = null;
let key = -1;

function dispose(): void {
  built?.model.dispose();
  built = null;
  display?.dispose();
  display = null;
}

async function start(): Promise<void> {
  const failure = await trySet('wasm');
  if (failure) throw new Error(`views helper: ${failure}`);
}

const started = start();
started.catch((e: unknown) => post({ type: 'failed', message: e instanceof Error ? e.message : String(e) }));

async function handle(msg: ToViewsHelper): Promise<void> {
  await started;
  switch (msg.type) {
    case 'model': {
      dispose();
      key = msg.key;
      built = buildModel(msg.spec, msg.inputShape);
      display = tf.tensor4d(msg.display, [msg.count, ...msg.inputShape] as [number, number, number, number]);
      break;
    }
    case 'render': {
      if (!built || !display || msg.key !== key) return; // a request for a model replaced since
      const t0 = performance.now();
      const { pixels, codes, codeShape } = renderViews(built, display, msg.weights);
      post(
        { type: 'rendered', key, step: msg.step, count: display.shape[0], pixels, codes, codeShape, ms: performance.now() - t0, numTensors: tf.memory().numTensors },
        [pixels.buffer, codes.buffer],
      );
      break;
    }
    case 'crash':
      // A test hook: only the e2e build (VITE_TEST_HOOKS=1) keeps this code.
      if (import.meta.env.VITE_TEST_HOOKS === '1') {
        setTimeout(() => {
          throw new Error('views helper crash requested by a test hook');
        });
      }
      break;
  }
}

let queue: Promise<void> = Promise.resolve();
self.onmessage = (event: MessageEvent<ToViewsHelper>) => {
  const msg = event.data;
  queue = queue
    .then(() => handle(msg))
    .catch((e: unknown) => post({ type: 'failed', message: e instanceof Error ? e.message : String(e) }));
};
