/**
 * Where the WASM backend finds its binaries in the built app (Vite emits them as assets). Imported for
 * its effect by every worker that starts the WASM backend.
 */
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
// Sets which build the first wasm backend loads (the one-thread one): before any backend starts.
import './wasmThreads';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});


