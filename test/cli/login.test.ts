// Login and stored credentials, gateway URL resolution, exit codes, and `faasq new`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { startFakeGateway, type FakeGateway } from './support/fake-gateway.js';
import { runCli } from './support/run-cli.js';

const BASIC = 'Basic ' + Buffer.from('admin:right').toString('base64');

describe('cli login and exit codes', () => {
  let gw: FakeGateway;
  let tmp: { dir: string; cleanup: () => Promise<void> };

  before(async () => {
    gw = await startFakeGateway({ auth: { user: 'admin', password: 'right' } });
    gw.on('GET', '/system/info', { json: { provider: { provider: 'faasq' }, version: { release: '0.1.0' }, arch: 'x64' } });
    gw.on('GET', '/system/functions', { json: [{ name: 'echo', replicas: 1, availableReplicas: 1 }] });
    tmp = await makeTempDir('faasq-cli-login-');
  });
  after(async () => {
    await gw.close();
    await tmp.cleanup();
  });

  test('cli - login checks the password, stores it 0600 per gateway, and later commands use it; logout forgets it', async () => {
    const configDir = path.join(tmp.dir, 'conf');
    const env = { FAASQ_CONFIG_DIR: configDir };

    const wrong = await runCli(['-g', gw.url, 'login', '--password-stdin'], { input: 'wrong\n', env });
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /invalid credentials/);
    await assert.rejects(stat(path.join(configDir, 'config.json')));

    const denied = await runCli(['list'], { env: { ...env, FAASQ_URL: gw.url } });
    assert.equal(denied.code, 4);
    assert.match(denied.stderr, /unauthorized/);

    const ok = await runCli(['-g', gw.url, 'login', '-u', 'admin', '--password-stdin'], { input: 'right\n', env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(gw.sent('GET', '/system/info').at(-1)?.headers.authorization, BASIC);
    const file = path.join(configDir, 'config.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.ok(JSON.parse(await readFile(file, 'utf8')).auths[gw.url]);

    // FAASQ_URL picks the gateway; the stored login supplies the credentials.
    const list = await runCli(['list', '-q'], { env: { ...env, FAASQ_URL: gw.url } });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, 'echo\n');
    assert.equal(gw.sent('GET', '/system/functions').at(-1)?.headers.authorization, BASIC);

    const out = await runCli(['-g', gw.url, 'logout'], { env });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')).auths, {});
    const after = await runCli(['-g', gw.url, 'list'], { env });
    assert.equal(after.code, 4);
  });

  test('cli - an unreachable gateway exits 3, a malformed URL or unknown command exits 2', async () => {
    // A port that was just free: bind, note it, close.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const env = { FAASQ_CONFIG_DIR: path.join(tmp.dir, 'none') };
    const [down, malformed, unknown, noArgs, badQueue] = await Promise.all([
      runCli(['-g', `http://127.0.0.1:${port}`, 'list'], { env }),
      runCli(['-g', 'not a url', 'list'], { env }),
      runCli(['frobnicate'], { env }),
      runCli(['invoke'], { env }),
      runCli(['up', '--queue', 'redis://nowhere', '--data-dir', path.join(tmp.dir, 'never')], { env, cwd: tmp.dir }),
    ]);
    assert.equal(badQueue.code, 2);
    assert.match(badQueue.stderr, /queue\.url/);
    assert.equal(down.code, 3);
    assert.match(down.stderr, /cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /invalid gateway URL/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    assert.equal(noArgs.code, 2);
  });

  test('cli - next to a local faasq up, its generated credentials are used without a login', async () => {
    const here = path.join(tmp.dir, 'local');
    await mkdir(path.join(here, '.faasq'), { recursive: true });
    await writeFile(path.join(here, '.faasq', 'credentials.json'), JSON.stringify({ user: 'admin', password: 'right' }));
    const env = { FAASQ_CONFIG_DIR: path.join(tmp.dir, 'no-login') };
    const list = await runCli(['list', '-q'], { env: { ...env, FAASQ_URL: gw.url }, cwd: here });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(gw.sent('GET', '/system/functions').at(-1)?.headers.authorization, `Basic ${Buffer.from('admin:right').toString('base64')}`);
    // Elsewhere (no .faasq here) nothing is sent, and the gateway refuses.
    const elsewhere = await runCli(['list', '-q'], { env: { ...env, FAASQ_URL: gw.url }, cwd: tmp.dir });
    assert.equal(elsewhere.code, 4);
  });

  test('cli - up with an unusable data dir fails at start with a clear error and a non-zero exit', async () => {
    // A regular file where a folder must go: mkdir fails whatever the user's permissions (root included).
    const blocker = path.join(tmp.dir, 'blocker');
    await writeFile(blocker, 'not a folder');
    const run = await runCli(['up', '--port', '0', '--queue', 'embedded', '--data-dir', path.join(blocker, 'data')], { env: { FAASQ_CONFIG_DIR: tmp.dir }, cwd: tmp.dir });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /cannot use data dir .*blocker\/data: a file is in the way/);
  });

  test('cli - new writes the handler folder and the stack file', async () => {
    const work = path.join(tmp.dir, 'new');
    const run = await runCli(['new', 'hello', '--lang', 'node', '--dir', work, '-f', path.join(work, 'stack.yml')], { env: { FAASQ_CONFIG_DIR: tmp.dir } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Created hello \(node\)/);
    const stack = await readFile(path.join(work, 'stack.yml'), 'utf8');
    assert.match(stack, /hello:/);
    assert.ok((await stat(path.join(work, 'hello'))).isDirectory());

    const again = await runCli(['new', 'hello', '--lang', 'node', '--dir', work, '-f', path.join(work, 'stack.yml')], { env: { FAASQ_CONFIG_DIR: tmp.dir } });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists/);
    const badLang = await runCli(['new', 'other', '--lang', 'cobol', '--dir', work], { env: { FAASQ_CONFIG_DIR: tmp.dir }, cwd: tmp.dir });
    assert.equal(badLang.code, 2);
  });
});
