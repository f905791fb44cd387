// Worker faults with real processes on JetStream: a worker killed with kill -9 mid-call has the
// call redelivered after the lease to another worker, which runs it again with the same call id;
// a delivery whose record already says succeeded is acked without running the function.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createQueue } from '../../src/queue/index.js';
import { silentLogger } from '../../src/shared/index.js';
import { natsSkipReason, startNatsServer, type NatsNode } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { basicAuth, startFaasqChild, type FaasqChild } from './support/faasq-child.js';
import { ledgerStack, readLedger } from './support/ledger.js';

const skip = natsSkipReason();
// A short lease so a dead worker's call comes back within seconds.
const ENV = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'crash-pw', FAASQ_LOG_LEVEL: 'info', FAASQ_ACK_WAIT: '2s' };

interface CallView { state: string; attempts: number; unknownAttempts?: number[] }

describe('scale-out - worker crashes on JetStream', { skip }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let nats: NatsNode | undefined;
  let gateway: FaasqChild | undefined;
  const workers: FaasqChild[] = [];
  let url = '';
  let ledger = '';

  before(async () => {
    tmp = await makeTempDir('faasq-crash-');
    ledger = path.join(tmp.dir, 'ledger.txt');
    await writeFile(path.join(tmp.dir, 'stack.yml'), ledgerStack(ledger, { slow: { sleepMs: 4000 }, quick: {} }));
    nats = await startNatsServer();
    gateway = startFaasqChild('gateway', ['gateway', '--port', '0', '-f', 'stack.yml', '--data-dir', path.join(tmp.dir, 'gw'), '--queue', nats.url], { cwd: tmp.dir, env: ENV });
    url = await gateway.url(60_000);
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.kill9()));
    await gateway?.stop();
    await nats?.close();
    await tmp.cleanup();
  });

  const startWorker = async (name: string): Promise<FaasqChild> => {
    const w = startFaasqChild(name, ['worker', '--functions-url', url, '--queue', nats!.url, '--max-inflight', '4'], { cwd: tmp.dir, env: ENV });
    workers.push(w);
    await w.waitForLine(/faasq worker: consuming/, 60_000);
    return w;
  };
  const accept = async (fn: string, callId: string): Promise<void> => {
    const res = await fetch(`${url}/async-function/${fn}`, { method: 'POST', body: callId, headers: { 'x-call-id': callId } });
    await res.arrayBuffer();
    assert.equal(res.status, 202);
  };
  const record = async (callId: string): Promise<CallView | undefined> => {
    const res = await fetch(`${url}/async-function/${callId}`);
    return res.status === 200 ? ((await res.json()) as CallView) : (await res.arrayBuffer(), undefined);
  };
  const succeeded = (callId: string, timeoutMs: number): Promise<CallView> =>
    waitFor(async () => { const r = await record(callId); return r?.state === 'succeeded' ? r : undefined; }, { timeoutMs, intervalMs: 100, message: `${callId} succeeded` });

  test('scale-out - a delivery whose record already says succeeded is acked and not run again', { timeout: 60_000 }, async () => {
    // No worker yet: the call waits in the queue while its record is marked succeeded, as if a
    // worker had finished it and died before the ack.
    await accept('quick', 'done-1');
    const config = loadConfig({ flags: { 'queue.url': nats!.url, 'queue.leaseMs': '2s' }, env: {} });
    const queue = createQueue({ config, logger: silentLogger() });
    await queue.start();
    try {
      const marked = await queue.updateRecord('done-1', { state: 'succeeded', attempts: 1, finishedAt: new Date().toISOString() });
      assert.equal(marked?.state, 'succeeded');
    } finally {
      await queue.close();
    }
    await accept('quick', 'after-1');
    await startWorker('wk-a');
    await succeeded('after-1', 30_000);
    const depth = await waitFor(async () => {
      const res = await fetch(`${url}/system/queues/faas-request`, { headers: { authorization: basicAuth(ENV.FAASQ_USER, ENV.FAASQ_PASSWORD) } });
      const q = (await res.json()) as { depth: number };
      return q.depth === 0 ? 'empty' : undefined;
    }, { timeoutMs: 10_000, message: 'queue drained' });
    assert.equal(depth, 'empty');
    const { starts } = await readLedger(ledger);
    assert.equal(starts.get('after-1'), 1);
    assert.equal(starts.get('done-1'), undefined, 'the succeeded call did not run again');
    assert.equal((await record('done-1'))?.state, 'succeeded');
  });

  test('scale-out - a worker killed with kill -9 mid-call: the call is redelivered after the lease and runs again with the same call id', { timeout: 90_000 }, async () => {
    const first = workers[0] ?? await startWorker('wk-a');
    await accept('slow', 'crash-1');
    await waitFor(async () => (await readLedger(ledger)).starts.get('crash-1') === 1, { timeoutMs: 20_000, intervalMs: 50, message: 'crash-1 started' });
    // An attempt counts once its record says running (worker.runningRecordDelayMs after the start).
    await waitFor(async () => (await record('crash-1'))?.state === 'running', { timeoutMs: 10_000, intervalMs: 20, message: 'crash-1 running' });
    assert.ok(first.logs().some((l) => l.msg === 'call started' && l.callId === 'crash-1'));
    await first.kill9();
    const second = await startWorker('wk-b');
    const view = await succeeded('crash-1', 45_000);
    assert.equal(view.attempts, 2, 'the record counts the lost attempt');
    assert.deepEqual(view.unknownAttempts, [1], 'the lost attempt is the one of unknown outcome');
    const { starts } = await readLedger(ledger);
    assert.equal(starts.get('crash-1'), 2, 'ran twice, both times with call id crash-1');
    const rerun = second.logs().find((l) => l.msg === 'call succeeded' && l.callId === 'crash-1');
    assert.ok(rerun, second.output());
    assert.equal(rerun.attempt, 2);
  });
});
