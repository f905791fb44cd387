// The README's run command, exactly as a new user types it, in a fresh clone of the committed
// tree: `npm install && npx faasq up` must install without an install-script warning, serve
// /healthz, answer a sync call and run an async call to the end. Only the port is chosen (env),
// so this can run beside other suites.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/shared/free-port.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const README_RUN = 'npm install && npx faasq up';
const START_TIMEOUT_MS = 240_000;

function skipReason(): string | undefined {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  if (!readme.includes(README_RUN)) throw new Error(`README.md no longer shows the run command this test runs: ${README_RUN}`);
  if (existsSync(path.join(ROOT, '.git'))) return undefined;
  const why = 'not a git checkout, so there is no committed tree to clone';
  if (process.env.CI) throw new Error(`${why} (CI is set, so this is an error, not a skip)`);
  return why;
}

describe('readme - the run command in a fresh clone', { skip: skipReason(), timeout: START_TIMEOUT_MS + 60_000 }, () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let child: ChildProcess | undefined;
  let output = '';
  let base = '';

  before(async () => {
    temp = await makeTempDir('faasq-readme-');
    const clone = path.join(temp.dir, 'faasq');
    const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone], { encoding: 'utf8' });
    assert.equal(cloned.status, 0, `git clone: ${cloned.stderr}`);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn('sh', ['-c', README_RUN], {
      cwd: clone,
      detached: true,
      env: { ...process.env, FAASQ_PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    await waitFor(
      async () => {
        if (exited) throw new Error(`the run command exited early:\n${output.slice(-4000)}`);
        const res = await fetch(`${base}/healthz`);
        await res.arrayBuffer();
        return res.status === 200;
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 250, message: '/healthz of the fresh clone answering 200' },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- output ---\n${output.slice(-4000)}`, { cause: err });
    });
  });

  after(async () => {
    if (child?.pid !== undefined && child.exitCode === null) {
      const gone = new Promise((resolve) => child!.once('exit', resolve));
      process.kill(-child.pid, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-child!.pid!, 'SIGKILL'), 15_000);
      await gone;
      clearTimeout(timer);
    }
    await temp?.cleanup();
  });

  test('readme - npm install prints no install-script warning', () => {
    assert.doesNotMatch(output, /install scripts not yet covered|install-scripts/i);
  });

  test('readme - a sync call answers', async () => {
    const res = await fetch(`${base}/function/echo`, { method: 'POST', body: 'hello from the readme', headers: { 'content-type': 'text/plain' } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello from the readme');
  });

  test('readme - an async call is accepted and succeeds', async () => {
    const res = await fetch(`${base}/async-function/echo`, { method: 'POST', body: 'queued', headers: { 'content-type': 'text/plain' } });
    await res.arrayBuffer();
    assert.equal(res.status, 202);
    const callId = res.headers.get('x-call-id');
    assert.ok(callId, 'X-Call-Id on the 202');
    const record = await waitFor(
      async () => {
        const got = await fetch(`${base}/async-function/${callId}`);
        const body = (await got.json()) as { state?: string };
        return body.state === 'succeeded' || body.state === 'failed' || body.state === 'dead' ? body : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: `call ${callId} finished` },
    );
    assert.equal(record.state, 'succeeded');
    const result = await fetch(`${base}/async-function/${callId}/result`);
    assert.equal(result.status, 200);
    assert.equal(await result.text(), 'queued');
  });
});
