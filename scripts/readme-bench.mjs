#!/usr/bin/env node
// The README's benchmark numbers come from bench/results.md (written by `npm run bench`), never by hand:
//
//   1. Tables: every README table in the "## Benchmark" section (before "### On a real GPU") whose header
//      row is also a table header in results.md gets that table's rows. A table there with no such header
//      is an error (a renamed or dropped bench table would otherwise leave stale numbers behind).
//   2. Numbers in the prose, anywhere in the README, sit between markers that say where they come from:
//        <!--bench:Training throughput|default|wasm|Worker loop-->1,411<!--/bench-->
//      = the "Worker loop" cell of the row default | wasm of the table under the results.md heading that
//      starts with "Training throughput" (footnote marks like ⁽ᶜ⁾ dropped). A row is named by its leading
//      cells (one or more). Computed phrases: <!--bench:fit-summary-->…<!--/bench--> (what the per-round
//      worker / model.fit ratios show), <!--bench:date-->…<!--/bench--> (the run's date),
//      <!--bench:range:heading|column-->…<!--/bench--> (min–max of a column's leading numbers).
//
// Usage: node scripts/readme-bench.mjs           # rewrites README.md from bench/results.md
//        node scripts/readme-bench.mjs --check   # exits 1, with a diff, if README.md is not what (1) and (2) give
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const readmePath = path.join(ROOT, 'README.md');
const resultsPath = path.join(ROOT, 'bench', 'results.md');
const readme = fs.readFileSync(readmePath, 'utf8').split('\n');
const results = fs.readFileSync(resultsPath, 'utf8').split('\n');
const CHECK = process.argv.includes('--check');
const problems = [];

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

const cells = (row) => row.replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());

// ------------------------------------------------------------------------------------------------
// 1. Tables.

const section = readme.findIndex((l) => l === '## Benchmark');
if (section < 0) throw new Error('README has no "## Benchmark" section');
const gpu = readme.findIndex((l, i) => i > section && l.startsWith('### On a real GPU'));
const resultTables = tables(results);
const fresh = new Map(resultTables.map((t) => [t.header, t]));
let out = readme.slice();
const targets = tables(readme, section, gpu < 0 ? readme.length : gpu);
for (const t of [...targets].reverse()) {
  const src = fresh.get(t.header);
  if (!src) {
    problems.push(`README.md:${t.start + 1}: this Benchmark table has no table with the same header in bench/results.md:\n    ${t.header}`);
    continue;
  }
  out = [...out.slice(0, t.start), ...results.slice(src.start, src.end), ...out.slice(t.end)];
}

// ------------------------------------------------------------------------------------------------
// 2. Numbers and phrases in the prose.

/** The table under the results.md "## " heading that starts with `heading`. */
function tableUnder(heading) {
  const h = results.findIndex((l) => l.startsWith('## ') && l.slice(3).startsWith(heading));
  if (h < 0) return null;
  const next = results.findIndex((l, i) => i > h && l.startsWith('## '));
  return resultTables.find((t) => t.start > h && (next < 0 || t.start < next)) ?? null;
}

function cellValue(heading, rowKey, column) {
  const t = tableUnder(heading);
  if (!t) throw new Error(`no table under a heading "## ${heading}…" in bench/results.md`);
  const head = cells(results[t.start]);
  const col = head.indexOf(column);
  if (col < 0) throw new Error(`the "${heading}" table has no column "${column}" (it has: ${head.join(', ')})`);
  const row = results.slice(t.start + 2, t.end).map(cells).find((r) => rowKey.every((k, i) => r[i] === k));
  if (!row) throw new Error(`the "${heading}" table has no row ${rowKey.join(' | ')}`);
  return row[col].replace(/\s*⁽[^⁾]*⁾/g, '').trim();
}

/** "1.2× (1.33, 1.15, 1.02)" → { median: 1.2, rounds: [1.33, 1.15, 1.02] }; "1.1×" → one value, no rounds. */
function parseRatio(text) {
  const m = /^([\d.]+)×(?:\s*\(([^)]*)\))?$/.exec(text);
  if (!m) return null;
  return { median: Number(m[1]), rounds: m[2] ? m[2].split(',').map(Number) : [] };
}

/** What the per-round worker loop / model.fit ratios (live views on) of the throughput table show. */
function fitSummary() {
  const t = tableUnder('Training throughput');
  if (!t) throw new Error('no "Training throughput" table in bench/results.md');
  const head = cells(results[t.start]);
  const col = head.indexOf('Worker / fit (per round)');
  const rows = results
    .slice(t.start + 2, t.end)
    .map(cells)
    .map((r) => ({ cell: `${r[0]} ${r[1]}`, ratio: parseRatio(r[col]) }))
    .filter((r) => r.ratio);
  if (rows.length === 0) return 'no cell has a worker / model.fit ratio';
  const medians = rows.map((r) => r.ratio.median);
  const below = rows.filter((r) => r.ratio.median < 1);
  const lowRounds = rows.filter((r) => r.ratio.rounds.some((x) => x < 1));
  const minRound = Math.min(...rows.flatMap((r) => r.ratio.rounds));
  const minRoundCell = rows.find((r) => r.ratio.rounds.includes(minRound));
  const range = `${Math.min(...medians)}–${Math.max(...medians)}×`;
  const head1 = below.length === 0 ? `the per-round median is at least 1 in all ${rows.length} cells with a ratio (${range})` : `the per-round median is below 1 in ${below.length} of ${rows.length} cells (${below.map((r) => r.cell).join(', ')}; all: ${range})`;
  const head2 = lowRounds.length === 0 ? 'and no single round falls below 1' : `but single rounds fall below 1 in ${lowRounds.length} of them (${lowRounds.map((r) => r.cell).join(', ')}; lowest ${minRound} on ${minRoundCell.cell})`;
  return `${head1}, ${head2}`;
}

/** The range (min–max) of a column's leading numbers, e.g. the views' on/off medians: "0.92–0.99×". */
function columnRange(heading, column) {
  const t = tableUnder(heading);
  if (!t) throw new Error(`no table under a heading "## ${heading}…" in bench/results.md`);
  const col = cells(results[t.start]).indexOf(column);
  if (col < 0) throw new Error(`the "${heading}" table has no column "${column}"`);
  const vals = results
    .slice(t.start + 2, t.end)
    .map((r) => /^([\d.,]+)(×?)/.exec(cells(r)[col]))
    .filter(Boolean)
    .map((m) => ({ v: Number(m[1].replace(/,/g, '')), unit: m[2] }));
  if (vals.length === 0) throw new Error(`the "${column}" column of "${heading}" has no numbers`);
  const lo = Math.min(...vals.map((x) => x.v));
  const hi = Math.max(...vals.map((x) => x.v));
  return `${lo}–${hi}${vals[0].unit}`;
}

function benchValue(key) {
  if (key === 'fit-summary') return fitSummary();
  if (key.startsWith('range:')) {
    const [heading, column] = key.slice('range:'.length).split('|').map((x) => x.trim());
    return columnRange(heading, column);
  }
  if (key === 'date') {
    const d = results.find((l) => l.startsWith('- Date: '));
    if (!d) throw new Error('bench/results.md has no "- Date:" line');
    return d.slice('- Date: '.length, '- Date: '.length + 10);
  }
  const parts = key.split('|').map((s) => s.trim());
  if (parts.length < 3) throw new Error(`a bench marker is "heading|row key…|column", or fit-summary, or date: got "${key}"`);
  return cellValue(parts[0], parts.slice(1, -1), parts[parts.length - 1]);
}

const MARK = /<!--bench:([^>]*?)-->([\s\S]*?)<!--\/bench-->/g;
let text = out.join('\n');
let spans = 0;
text = text.replace(MARK, (whole, key, old) => {
  spans++;
  try {
    return `<!--bench:${key}-->${benchValue(key)}<!--/bench-->`;
  } catch (e) {
    problems.push(`README.md: <!--bench:${key}--> (now "${old}"): ${e instanceof Error ? e.message : String(e)}`);
    return whole;
  }
});

// ------------------------------------------------------------------------------------------------
// Write, or check.

/** A line diff (longest common subsequence) of two texts: the lines that differ, with their line numbers. */
function lineDiff(a, b) {
  const A = a.split('\n');
  const B = b.split('\n');
  const n = A.length;
  const m = B.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = A[i] === B[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const L = ['--- README.md (now)', '+++ README.md (from bench/results.md)'];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && A[i] === B[j]) {
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      L.push(`-${String(i + 1).padStart(5)}: ${A[i]}`);
      i++;
    } else {
      L.push(`+${String(j + 1).padStart(5)}: ${B[j]}`);
      j++;
    }
  }
  return L.join('\n');
}

const current = readme.join('\n');
if (CHECK) {
  if (problems.length) console.error(problems.join('\n'));
  if (text !== current) {
    console.error(`README.md's benchmark numbers differ from bench/results.md (run \`node scripts/readme-bench.mjs\` to copy them in):\n${lineDiff(current, text)}`);
    process.exit(1);
  }
  if (problems.length) process.exit(1);
  console.log(`README benchmark tables (${targets.length}) and marked numbers (${spans}) match bench/results.md`);
  process.exit(0);
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exitCode = 1;
}
fs.writeFileSync(readmePath, text);
console.log(`README: ${targets.length} tables and ${spans} marked numbers from bench/results.md`);
