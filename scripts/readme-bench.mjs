#!/usr/bin/env node
// Copies the latest tables of bench/results.md into the README's Benchmark section: every README table
// (before "### On a real GPU") whose header row is also a table header in results.md gets that table's
// rows. The prose around them (date, machine, "Where it stands") is written by hand after a run.
// Usage: node scripts/readme-bench.mjs [--check]   (--check: exit 1 if the README is out of date)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const readmePath = path.join(ROOT, 'README.md');
const readme = fs.readFileSync(readmePath, 'utf8').split('\n');
const results = fs.readFileSync(path.join(ROOT, 'bench', 'results.md'), 'utf8').split('\n');

/** Tables of a markdown file: header line → [start, end) line range of the whole table. */
function tables(lines, from = 0, to = lines.length) {
  const out = [];
  for (let i = from; i < to; i++) {
    if (lines[i].startsWith('|') && lines[i + 1]?.startsWith('|---')) {
      let j = i + 2;
      while (j < to && lines[j].startsWith('|')) j++;
      out.push({ header: lines[i], start: i, end: j });
      i = j;
    }
  }
  return out;
}

const section = readme.findIndex((l) => l === '## Benchmark');
const gpu = readme.findIndex((l, i) => i > section && l.startsWith('### On a real GPU'));
if (section < 0) throw new Error('README has no "## Benchmark" section');
const fresh = new Map(tables(results).map((t) => [t.header, results.slice(t.start, t.end)]));
const targets = tables(readme, section, gpu < 0 ? readme.length : gpu);
let out = readme.slice();
let replaced = 0;
for (const t of targets.reverse()) {
  const rows = fresh.get(t.header);
  if (!rows) continue;
  out = [...out.slice(0, t.start), ...rows, ...out.slice(t.end)];
  replaced++;
}
const text = out.join('\n');
if (process.argv.includes('--check')) {
  const same = text === readme.join('\n');
  console.log(same ? 'README benchmark tables are up to date' : 'README benchmark tables differ from bench/results.md');
  process.exit(same ? 0 : 1);
}
fs.writeFileSync(readmePath, text);
console.log(`replaced ${replaced} of ${targets.length} README tables from bench/results.md`);
