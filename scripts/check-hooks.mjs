#!/usr/bin/env node
/**
 * Fault-injection hooks exist only in the build the e2e tests run (VITE_TEST_HOOKS=1, dist-e2e/),
 * never in the production build (dist/).
 *
 *   node scripts/check-hooks.mjs --absent dist        fails if any hook string is in dist/'s scripts
 *   node scripts/check-hooks.mjs --present dist-e2e   fails unless every hook string is in dist-e2e/'s scripts
 *
 * The second form keeps the first honest: the same scan, on a build that has the hooks, finds each
 * string, so a check that scans the wrong files or strings cannot pass by finding nothing.
 * Scanned: every .js/.mjs/.cjs/.html file under the folder, worker chunks included; not source maps
 * (they quote the source, hooks and all) and not the data files.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const HOOK_STRINGS = ['loseDevice', 'crashViews', 'raceSoftware', 'raceSoftwareBackends', 'crash requested by a test hook'];

const [mode, dir] = process.argv.slice(2);
if ((mode !== '--absent' && mode !== '--present') || !dir) {
  console.error('usage: node scripts/check-hooks.mjs --absent|--present <build folder>');
  process.exit(2);
}

function* scripts(folder) {
  for (const name of readdirSync(folder)) {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) yield* scripts(path);
    else if (/\.(m?js|cjs|html)$/.test(name)) yield path;
  }
}

let files;
try {
  files = [...scripts(dir)];
} catch (e) {
  console.error(`check-hooks: cannot read ${dir} (${e instanceof Error ? e.message : e}); build it first`);
  process.exit(1);
}
const jsFiles = files.filter((f) => /\.(m?js|cjs)$/.test(f));
// A build has its page bundle and its worker chunks: fewer than two scripts means the wrong folder.
if (jsFiles.length < 2) {
  console.error(`check-hooks: ${dir} holds ${jsFiles.length} script file(s); expected a built app with worker chunks`);
  process.exit(1);
}

const found = new Map(HOOK_STRINGS.map((s) => [s, []]));
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  for (const s of HOOK_STRINGS) if (text.includes(s)) found.get(s).push(relative(dir, file));
}

const problems = [];
for (const [s, where] of found) {
  if (mode === '--absent' && where.length > 0) problems.push(`'${s}' is in the production build: ${where.join(', ')}`);
  if (mode === '--present' && where.length === 0) problems.push(`'${s}' is missing from the test build (the scan would pass vacuously)`);
}
if (problems.length > 0) {
  console.error(`check-hooks ${mode} ${dir}: FAILED (${jsFiles.length} scripts scanned)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  mode === '--absent'
    ? `check-hooks: no test hook in ${dir} (${jsFiles.length} scripts scanned)`
    : `check-hooks: every test hook is in ${dir} (${jsFiles.length} scripts scanned)`,
);
