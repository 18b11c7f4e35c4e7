import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { COI_WORKER_FILE } from './src/crossOriginIsolation';

/**
 * The built app's Content-Security-Policy: no inline script, no eval (WebAssembly compilation only),
 * no remote origins. Share links and imported files are untrusted; this is the second line of defence.
 * Only the build gets it: the dev server injects an inline React-refresh preamble.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * Cross-origin isolation (`npm start`, `npm run preview`, the bench and the e2e): with these two headers
 * the page and its workers get SharedArrayBuffer, so tfjs-wasm can run its threaded build (XNNPACK on a
 * pthread pool) where a model's plan asks for threads (src/model/wasmThreadPlan.ts). Everything the app
 * loads is its own, so require-corp blocks nothing. A host without them gets the headers from a service
 * worker (coiServiceWorker below), or else the one-thread build.
 */
export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function contentSecurityPolicy(): Plugin {
  return {
    name: 'content-security-policy',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP }, injectTo: 'head-prepend' }],
  };
}

/**
 * tfjs-wasm's threaded build starts each pthread worker from a Blob holding
 * `wasmFactoryThreadedSimd.toString()`: the source of the bundled factory. Minified, that function names
 * helpers of the bundle it was cut out of, so every pthread worker dies with "e is not defined" (tfjs issue
 * 4107). This plugin puts the factory's pristine source (the package's own file, read here in Node) into
 * the bundle as a string literal in place of the toString() call; the minifier leaves strings alone.
 */
export function wasmThreadsFactorySource(): Plugin {
  const call = 'wasmFactoryThreadedSimd.toString()';
  return {
    name: 'tfjs-wasm-threads-factory-source',
    transform(code, id) {
      if (!/@tensorflow[\\/]tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/.test(id.split('?')[0])) return null;
      if (!code.includes(call)) this.error(`tfjs-backend-wasm changed: ${call} not found in ${id}`);
      const require = createRequire(import.meta.url);
      const factory: unknown = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
      if (typeof factory !== 'function') this.error('tfjs-backend-wasm changed: its threaded factory is not a function');
      return { code: code.replace(call, JSON.stringify(factory.toString())), map: null };
    },
  };
}

/**
 * A host that cannot send COOP/COEP (a static host such as GitHub Pages): the `coi-serviceworker`
 * package's service worker adds both headers to every response of this origin. The page registers it
 * and reloads once (src/crossOriginIsolation.ts), and is then cross-origin isolated, so tfjs-wasm gets its
 * threaded build. The worker is the package's own file, served by the dev server and emitted into the
 * build at the root (where its scope covers the whole app).
 */
export function coiServiceWorker(): Plugin {
  const require = createRequire(import.meta.url);
  const source = (): string => readFileSync(require.resolve('coi-serviceworker/coi-serviceworker.min.js'), 'utf8');
  return {
    name: 'coi-serviceworker',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        if (req.url?.split('?')[0] !== `/${COI_WORKER_FILE}`) return next();
        res.setHeader('Content-Type', 'text/javascript');
        res.end(source());
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: COI_WORKER_FILE, source: source() });
    },
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicy(), wasmThreadsFactorySource(), coiServiceWorker()],
  // Workers are bundled apart, with their own plugins: the training worker runs tfjs-wasm.
  worker: { format: 'es', plugins: () => [wasmThreadsFactorySource()] },
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 4000,
    // Two pages: the app, and the benchmark page that scripts/bench.mjs drives.
    rollupOptions: { input: { main: 'index.html', bench: 'bench.html' } },
  },
  server: { host: '127.0.0.1', port: 5173, headers: CROSS_ORIGIN_ISOLATION },
  preview: { host: '127.0.0.1', port: 4173, headers: CROSS_ORIGIN_ISOLATION },
});
