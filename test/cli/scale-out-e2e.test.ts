// End to end, scale-out shape: a real nats-server, `faasq gateway` and `faasq worker` as separate
// processes sharing its JetStream queue, and the CLI submitting and waiting for an async call.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { natsSkipReason, startNatsServer, type NatsNode } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { startFaasq, type FaasqProcess } from './support/faasq-process.js';
import { runCli } from './support/run-cli.js';

const CREDS = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'scale-password' };
const skip = natsSkipReason();

describe('cli against faasq gateway + worker on NATS', { skip }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let nats: NatsNode | undefined;
  let gateway: FaasqProcess | undefined;
  let worker: FaasqProcess | undefined;
  let url = '';

  before(async () => {
    tmp = await makeTempDir('faasq-cli-scale-');
    await writeFile(path.join(tmp.dir, 'stack.yml'), 'version: "1.0"\nfunctions:\n  upper:\n    fprocess: tr a-z A-Z\n');
    nats = await startNatsServer();
    const common = ['--queue', nats.url, '--log-level', 'warn'];
    gateway = startFaasq(['gateway', '--port', '0', '-f', 'stack.yml', '--data-dir', path.join(tmp.dir, 'gw'), ...common], { cwd: tmp.dir, env: CREDS });
    url = (await gateway.waitForLine(/listening on (http:\/\/\S+)/))[1];
    worker = startFaasq(['worker', '--functions-url', url, '--max-inflight', '4', '--data-dir', path.join(tmp.dir, 'wk'), ...common], { cwd: tmp.dir, env: CREDS });
    await worker.waitForLine(/faasq worker: consuming/);
  });

  after(async () => {
    await worker?.stop();
    await gateway?.stop();
    await nats?.close();
    await tmp.cleanup();
  });

  test('cli - invoke --async --wait goes through the gateway, JetStream and a separate worker', async () => {
    const env = { ...CREDS, FAASQ_URL: url, FAASQ_CONFIG_DIR: path.join(tmp.dir, 'conf') };
    const run = await runCli(['invoke', 'upper', '--async', '--wait', '--timeout', '30s', '--call-id', 'scale-1'], { input: 'over nats', env, timeoutMs: 45_000 });
    assert.equal(run.code, 0, `${run.stderr}\ngateway:\n${gateway?.stderr()}\nworker:\n${worker?.stderr()}`);
    assert.equal(run.stdout, 'OVER NATS');
    const record = await runCli(['call', 'get', 'scale-1', '--json'], { env });
    assert.equal(JSON.parse(record.stdout).state, 'succeeded');
    const queues = await runCli(['queue', 'list', '--json'], { env });
    assert.equal(queues.code, 0, queues.stderr);
    assert.ok(JSON.parse(queues.stdout).some((q: { name: string }) => q.name === 'faas-request'));
  });
});
