// The real `faasq up --log-format console` child process: readable log lines on stdout (not
// JSON), and SIGTERM shutting it down gracefully with exit status 0 after a "shutting down" line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSX = pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

test('console logs - faasq up --log-format console prints text lines and stops cleanly on SIGTERM', { timeout: 60_000 }, async () => {
  const tmp = await makeTempDir('faasq-console-');
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('FAASQ_')) env[k] = v;
  Object.assign(env, { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'console-test-password', FAASQ_CONFIG_DIR: path.join(tmp.dir, 'conf') });
  const child = spawn(process.execPath, ['--import', TSX, path.join(ROOT, 'src/cli/main-bin.ts'),
    'up', '--port', '0', '--queue', 'memory', '--data-dir', path.join(tmp.dir, 'data'), '--log-format', 'console'], { cwd: tmp.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = (await waitFor(() => /listening on (http:\/\/\S+)/.exec(stderr), { timeoutMs: 30_000, message: `faasq up listening; stderr: ${stderr}` }))[1];
    await waitFor(() => stdout.includes('gateway listening'), { timeoutMs: 10_000, message: 'gateway listening logged' });
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    await health.arrayBuffer();
    const line = stdout.split('\n').find((l) => l.includes('gateway listening'))!;
    assert.match(line, /INFO/);
    assert.throws(() => JSON.parse(line), 'a console line is not JSON');
    assert.doesNotMatch(stdout, /"level":\d/, 'no JSON lines at all');

    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(resolve, 20_000, 'timeout').unref())]);
    assert.equal(code, 0, `exit status after SIGTERM; stdout:\n${stdout}\nstderr:\n${stderr}`);
    assert.match(stdout, /shutting down/);
    assert.doesNotMatch(stdout + stderr, /console-test-password/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await tmp.cleanup();
  }
});
