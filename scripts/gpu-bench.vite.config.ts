import { defineConfig } from 'vite';

/**
 * Bundles src/bench/webgpuNode.ts (the worker's training code on tfjs' WebGPU backend in Node) into a
 * single file, tfjs included, for a GPU machine that has neither npm nor a browser. See scripts/gpu-bench.sh.
 */
export default defineConfig({
  publicDir: false,
  build: {
    ssr: 'src/bench/webgpuNode.ts',
    outDir: '.gpu/bundle',
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    rollupOptions: { output: { entryFileNames: 'webgpu-node-bench.mjs', codeSplitting: false } },
  },
  ssr: { noExternal: true, external: ['node-fetch'] },
});
