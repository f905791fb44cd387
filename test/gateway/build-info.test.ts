// /system/info's version: the package version and the commit it was built from, recorded by the
// build (scripts/write-build-info.mjs → dist/build-info.json) and read at run time; "unknown" only
// when neither the record nor git can tell. Covers a git clone, a folder without git, and an
// unpacked tarball rebuilt where git cannot tell.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readBuildInfo } from '../../src/shared/build-info.js';
import { makeTempDir } from '../support/temp-dir.js';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WRITER = path.join(ROOT, 'scripts/write-build-info.mjs');
const git = (cwd: string, ...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

/** A package folder like an installed faasq: package.json, scripts/write-build-info.mjs, dist/shared/. */
async function fakePackage(dir: string, version: string): Promise<string> {
  await mkdir(path.join(dir, 'scripts'), { recursive: true });
  await mkdir(path.join(dir, 'dist', 'shared'), { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'faasq', version }));
  await copyFile(WRITER, path.join(dir, 'scripts', 'write-build-info.mjs'));
  return pathToFileURL(path.join(dir, 'dist', 'shared', 'build-info.js')).href;
}

describe('build info', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let t: TestGateway;
  before(async () => {
    tmp = await makeTempDir('faasq-build-info-');
    t = await startTestGateway();
  });
  after(async () => {
    await t.close();
    await tmp.cleanup();
  });

  test('build info - /system/info has a non-empty release and the sha of the commit this runs from', async () => {
    const res = await fetch(`${t.url}/system/info`, { headers: { authorization: t.auth } });
    const info = (await res.json()) as { version: { release: string; sha: string }; provider: { version: { sha: string } } };
    assert.match(info.version.release, /^\d+\.\d+\.\d+/);
    assert.equal(info.version.sha, git(ROOT, 'rev-parse', 'HEAD'));
    assert.equal(info.provider.version.sha, info.version.sha);
  });

  test('build info - a build in a git clone records HEAD; the record is read at run time', async () => {
    const dir = path.join(tmp.dir, 'clone');
    const moduleUrl = await fakePackage(dir, '1.2.3');
    git(dir, 'init', '-q');
    git(dir, 'add', 'package.json');
    git(dir, 'commit', '-q', '-m', 'first commit');
    execFileSync(process.execPath, [path.join(dir, 'scripts', 'write-build-info.mjs')], { stdio: 'ignore' });
    const info = readBuildInfo(moduleUrl);
    assert.deepEqual(info, { release: '1.2.3', sha: git(dir, 'rev-parse', 'HEAD'), commit_message: 'first commit' });
  });

  test('build info - without git the sha is "unknown", and a tarball rebuilt without git keeps the recorded sha', async () => {
    const bare = path.join(tmp.dir, 'archive');
    const moduleUrl = await fakePackage(bare, '2.0.0');
    assert.deepEqual(readBuildInfo(moduleUrl), { release: '2.0.0', sha: 'unknown', commit_message: '' }, 'no record, no git');
    execFileSync(process.execPath, [path.join(bare, 'scripts', 'write-build-info.mjs')], { stdio: 'ignore' });
    assert.equal(readBuildInfo(moduleUrl).sha, 'unknown');

    const tarball = path.join(tmp.dir, 'tarball');
    const tarUrl = await fakePackage(tarball, '3.0.0');
    await writeFile(path.join(tarball, 'dist', 'build-info.json'), JSON.stringify({ release: '3.0.0', sha: 'abc123', commit_message: 'packed' }));
    execFileSync(process.execPath, [path.join(tarball, 'scripts', 'write-build-info.mjs')], { stdio: 'ignore' });
    assert.deepEqual(readBuildInfo(tarUrl), { release: '3.0.0', sha: 'abc123', commit_message: 'packed' });
    assert.match(await readFile(path.join(tarball, 'dist', 'build-info.json'), 'utf8'), /abc123/);
  });
});
