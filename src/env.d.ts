/// <reference types="vite/client" />
/**
 * Build-time flags. VITE_TEST_HOOKS === '1' only in the build the e2e tests run (npm run build:e2e):
 * fault injection (lose the GPU device, hang, crash, crash the views helper, race software adapters)
 * exists there and nowhere else; the production build (npm run build) drops that code entirely.
 */
interface ImportMetaEnv {
  readonly VITE_TEST_HOOKS?: '1';
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}
