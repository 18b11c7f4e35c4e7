import type { TestHooks } from '../src/testHooks';

declare global {
  interface Window {
    __aePlayground?: TestHooks;
  }
}
export {};
