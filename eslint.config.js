import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist', 'dist-e2e', 'node_modules', 'public/data', 'test-results', 'playwright-report', 'bench/*.json', 'bench/gpu', '.scratch', '.gpu', '.bench', 'src/**/assembly'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser, ...globals.worker } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@tensorflow/*'], message: 'Only the training worker (src/train/worker*) may import tfjs.' }] },
      ],
    },
  },
  {
    files: ['src/train/worker.ts', 'src/train/worker/**/*.ts', 'src/bench/webgpuNode.ts', 'src/bench/fusedNode.ts', 'src/bench/wasmProfile.ts', 'scripts/**', 'e2e/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src/model/**/*.ts', 'src/data/**/*.ts', 'src/share/**/*.ts', 'src/train/fused/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@tensorflow/*', 'react', 'react-dom', 'zustand', 'recharts'], message: 'Pure logic: no React, no tfjs.' }] },
      ],
    },
  },
  {
    // The fused kernels' tests compare with tfjs (cpu backend) as the reference; the kernels themselves stay pure.
    files: ['src/train/fused/**/*.test.ts', 'src/train/fused/testRefs.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['scripts/**/*.{js,mjs}', '*.config.{js,ts}'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
