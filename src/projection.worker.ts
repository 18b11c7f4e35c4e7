/// <reference lib="webworker" />
/**
 * The latent map's projection worker: PCA or UMAP (src/model/projection.ts) off the main thread. It
 * receives ProjectionRequest and answers ProjectionResponse: progress during UMAP, then the points
 * (normalised into [0,1]², n × 2 interleaved, the buffer transferred) or an error. One job at a time;
 * the page (src/ui/projectionClient.ts) ends the worker to drop a job it no longer wants.
 */
import { normalizePoints, pca2d, umap2d, type ProjectionRequest, type ProjectionResponse } from './model/projection';

declare const self: DedicatedWorkerGlobalScope;

function post(msg: ProjectionResponse, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

function run(req: ProjectionRequest): void {
  const { id, method, codes, n, d, seed } = req;
  try {
    let raw: Float32Array;
    let explained: [number, number] | null = null;
    if (method === 'pca') {
      const fit = pca2d(codes, n, d);
      raw = fit.points;
      explained = fit.explained;
    } else if (method === 'umap') {
      let last = -1;
      raw = umap2d(codes, n, d, {
        seed,
        onProgress: (fraction) => {
          // At most one message per percent.
          const pct = Math.floor(fraction * 100);
          if (pct === last) return;
          last = pct;
          post({ id, type: 'progress', fraction });
        },
      });
    } else {
      throw new Error(`unknown projection method ${String(method)}`);
    }
    const points = normalizePoints(raw);
    post({ id, type: 'done', points, explained }, [points.buffer]);
  } catch (err) {
    post({ id, type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
}

self.onmessage = (event: MessageEvent<ProjectionRequest>) => run(event.data);
