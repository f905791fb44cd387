// End to end: `faasq up` as a real child process with the memory queue, driven by the CLI itself
// (list, deploy, sync and async invoke, call records, queue list, remove).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startFaasq, type FaasqProcess } from './support/faasq-process.js';
import { runCli } from './support/run-cli.js';

const CREDS = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'e2e-password' };

describe('cli against faasq up', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let up: FaasqProcess | undefined;
  let url = '';
  const cli = (args: string[], input?: string) =>
    runCli(['-g', url, ...args], { input, env: { ...CREDS, FAASQ_CONFIG_DIR: path.join(tmp.dir, 'conf') }, cwd: tmp.dir });

  before(async () => {
    tmp = await makeTempDir('faasq-cli-up-');
    await writeFile(path.join(tmp.dir, 'stack.yml'), 'version: "1.0"\nfunctions:\n  upper:\n    fprocess: tr a-z A-Z\n');
    // No -f: `up` must pick stack.yml from its working directory.
    up = startFaasq(['up', '--port', '0', '--queue', 'memory', '--data-dir', path.join(tmp.dir, 'data'), '--log-level', 'warn'], { cwd: tmp.dir, env: CREDS });
    url = (await up.waitForLine(/listening on (http:\/\/\S+)/))[1];
  });

  after(async () => {
    await up?.stop();
    await tmp.cleanup();
  });

  test('cli - up serves the stack; invoke sync and async --wait, call get, queue list, deploy, remove', async () => {
    const list = await cli(['list', '-q']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, 'upper\n');

    await waitFor(async () => /Status:\s+Ready/.test((await cli(['describe', 'upper'])).stdout), { timeoutMs: 15_000, intervalMs: 200, message: 'upper ready' });

    const sync = await cli(['invoke', 'upper'], 'hello');
    assert.equal(sync.code, 0, sync.stderr);
    assert.equal(sync.stdout, 'HELLO');

    const waited = await cli(['invoke', 'upper', '--async', '--wait', '--timeout', '20s', '--call-id', 'e2e-call-1'], 'queued');
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(waited.stdout, 'QUEUED');

    const record = await cli(['call', 'get', 'e2e-call-1', '--json']);
    assert.equal(record.code, 0, record.stderr);
    assert.equal(JSON.parse(record.stdout).state, 'succeeded');
    const result = await cli(['call', 'result', 'e2e-call-1']);
    assert.equal(result.stdout, 'QUEUED');

    const logs = await cli(['logs', 'upper', '--tail', '5']);
    assert.equal(logs.code, 0, logs.stderr);

    const queues = await cli(['queue', 'list']);
    assert.equal(queues.code, 0, queues.stderr);
    assert.match(queues.stdout, /^Queue\s+Depth/);

    const deployed = await cli(['deploy', '--name', 'rev', '--fprocess', 'rev']);
    assert.equal(deployed.code, 0, deployed.stderr);
    await waitFor(async () => (await cli(['invoke', 'rev', '--data', 'abc'])).stdout === 'cba', { timeoutMs: 15_000, intervalMs: 200, message: 'rev answers' });

    const removed = await cli(['remove', 'rev']);
    assert.equal(removed.code, 0, removed.stderr);
    const gone = await cli(['describe', 'rev']);
    assert.equal(gone.code, 1);

    const wrong = await runCli(['-g', url, 'list'], { env: { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'nope', FAASQ_CONFIG_DIR: path.join(tmp.dir, 'conf') } });
    assert.equal(wrong.code, 4);
  });
});
