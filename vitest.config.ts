import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// The fused WebGPU kernels' tests (src/train/fused) run on Dawn's Node binding over SwiftShader's Vulkan
// driver, which Debian's Chromium ships: point the Vulkan loader at it (the test workers inherit this).
const chromiumDir = process.env.CHROMIUM_LIB_DIR ?? '/usr/lib/chromium';
if (existsSync(`${chromiumDir}/vk_swiftshader_icd.json`)) {
  process.env.VK_ICD_FILENAMES ??= `${chromiumDir}/vk_swiftshader_icd.json`;
  process.env.LD_LIBRARY_PATH = [chromiumDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
}

export default defineConfig({
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
    testTimeout: 120000,
  },
});
