#!/usr/bin/env node
// Run by `npm run build` and `prepare` after tsc: records the package version and the commit the
// build came from in dist/build-info.json, which GET /system/info reads at run time. A checkout
// without git (a source archive) records "unknown"; a packed tarball carries the file as built.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const git = (...args) => {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return '';
  }
};
// Only this checkout's own repository counts: a faasq folder without .git inside someone else's
// repository must not report that repository's commit.
const top = git('rev-parse', '--show-toplevel');
const isOwnRepo = top !== '' && path.resolve(top) === root;
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const info = {
  release: pkg.version || 'unknown',
  sha: (isOwnRepo && git('rev-parse', 'HEAD')) || 'unknown',
  commit_message: (isOwnRepo && git('log', '-1', '--format=%s')) || '',
};
const file = path.join(root, 'dist', 'build-info.json');
if (info.sha === 'unknown') {
  // Rebuilt where git cannot tell (an unpacked tarball): keep what the original build recorded.
  try {
    const earlier = JSON.parse(readFileSync(file, 'utf8'));
    if (earlier.release === info.release && earlier.sha && earlier.sha !== 'unknown') Object.assign(info, earlier);
  } catch {
    // no earlier record
  }
}
mkdirSync(path.dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify(info, null, 2) + '\n');
console.error(`faasq build: ${info.release} (${info.sha})`);
