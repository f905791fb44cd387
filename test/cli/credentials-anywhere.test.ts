// `faasq up` records its URL and generated password in the per-user store (under a temp HOME
// here), so new → deploy → invoke work from another folder with nothing in the environment.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startFaasq, type FaasqProcess } from './support/faasq-process.js';
import { runCli } from './support/run-cli.js';

describe('cli credentials from any folder', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let up: FaasqProcess | undefined;
  let url = '';
  let home = '';

  before(async () => {
    tmp = await makeTempDir('faasq-cli-anywhere-');
    home = path.join(tmp.dir, 'home');
    const serverDir = path.join(tmp.dir, 'server');
    await mkdir(home);
    await mkdir(serverDir);
    // No FAASQ_PASSWORD: `up` generates one; FAASQ_CONFIG_DIR empty so the default (~/.faasq) counts.
    up = startFaasq(['up', '--port', '0', '--queue', 'memory', '--data-dir', path.join(serverDir, 'data'), '--log-level', 'warn'], {
      cwd: serverDir, env: { HOME: home, FAASQ_CONFIG_DIR: '' },
    });
    url = (await up.waitForLine(/listening on (http:\/\/\S+)/))[1]!;
  });

  after(async () => {
    await up?.stop();
    await tmp.cleanup();
  });

  test('cli - up records its credentials 0600 under ~/.faasq; new, deploy and invoke work from another folder', async () => {
    const file = path.join(home, '.faasq', 'config.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const auths = JSON.parse(await readFile(file, 'utf8')).auths as Record<string, { token: string }>;
    const port = new URL(url).port;
    assert.ok(auths[`http://127.0.0.1:${port}`], Object.keys(auths).join(','));
    assert.ok(auths[`http://localhost:${port}`], 'the localhost spelling too');

    const project = path.join(tmp.dir, 'project');
    await mkdir(project);
    const env = { HOME: home };
    const cli = (args: string[], input?: string) => runCli(args, { cwd: project, env, input });

    const created = await cli(['new', 'hello', '--lang', 'node']);
    assert.equal(created.code, 0, created.stderr);
    const deployed = await cli(['-g', url, 'deploy']);
    assert.equal(deployed.code, 0, deployed.stderr);
    await waitFor(async () => /Status:\s+Ready/.test((await cli(['-g', url, 'describe', 'hello'])).stdout), { timeoutMs: 20_000, intervalMs: 200, message: 'hello ready' });
    const invoked = await cli(['-g', `http://localhost:${port}`, 'invoke', 'hello'], 'faasq');
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.equal(invoked.stdout, 'Hello, faasq!\n');

    // Another HOME has no record: the same command is refused, so the store is what made it work.
    await mkdir(path.join(tmp.dir, 'other-home'));
    const stranger = await runCli(['-g', url, 'list'], { cwd: project, env: { HOME: path.join(tmp.dir, 'other-home') } });
    assert.equal(stranger.code, 4, stranger.stderr);
  });
});
