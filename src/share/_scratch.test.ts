import { it } from 'vitest';
import { decodeExperiment } from './codec';
import { compressToEncodedURIComponent } from 'lz-string';
it('scratch', () => {
  let n = 1000;
  let c = '';
  while (true) { const cc = compressToEncodedURIComponent('a'.repeat(n)); if (cc.length > 19990) break; c = cc; n = Math.floor(n * 1.2); }
  console.log('n', n, c.length);
  const t = Date.now();
  console.log(JSON.stringify(decodeExperiment('1.' + c)), Date.now() - t);
  const c2 = compressToEncodedURIComponent('['.repeat(5000000));
  console.log(c2.length);
  const t2 = Date.now();
  console.log(JSON.stringify(decodeExperiment('1.' + c2)), Date.now() - t2);
});
