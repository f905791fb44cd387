#!/usr/bin/env node
// Runs the test suite: gets the outside tools some suites need (scripts/test-tools.mjs), a type
// check of src, test and bench, then node's test runner over every test/**/*.test.ts (through
// tsx). Extra arguments narrow the files: `npm test -- queue`. Tests skipped because a tool could
// not be had are counted with their reasons at the end; with CI set, a skip is a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ensureTools } from './test-tools.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const filters = process.argv.slice(2);
const isCi = Boolean(process.env.CI) && process.env.CI !== 'false';
const say = (line) => console.log(`test: ${line}`);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else if (name.endsWith('.test.ts')) out.push(path.relative(root, full));
  }
  return out;
}

const files = walk(path.join(root, 'test')).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const missing = process.env.FAASQ_TEST_NO_INSTALL ? {} : ensureTools(root, say);
for (const [tool, why] of Object.entries(missing)) say(`${tool}: ${why}; its suites will be skipped`);
if (isCi && Object.keys(missing).length > 0) {
  console.error('test: CI is set, so a missing tool is a failure, not a skip');
  process.exit(1);
}

const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.check.json'], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const skipsFile = path.join(root, '.tmp', 'test-skips.ndjson');
mkdirSync(path.dirname(skipsFile), { recursive: true });
rmSync(skipsFile, { force: true });
const concurrency = process.env.FAASQ_TEST_CONCURRENCY ?? '2';
const reporters = [
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  `--test-reporter=${path.join(root, 'scripts/skip-reporter.mjs')}`, `--test-reporter-destination=${skipsFile}`,
];
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=180000', ...reporters, ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FAASQ_TEST_TOOLS_MISSING: JSON.stringify(missing) } },
);

const skips = existsSync(skipsFile) ? readFileSync(skipsFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)) : [];
if (skips.length > 0) {
  const byReason = new Map();
  for (const s of skips) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
  say(`${skips.length} skipped (a skipped suite counts once):`);
  for (const [reason, count] of byReason) say(`  ${count} × ${reason}`);
  if (isCi) {
    console.error('test: CI is set, so a skipped test is a failure');
    process.exit(1);
  }
}
process.exit(result.status ?? 1);
