// Scale-out on one JetStream queue with real processes: two `faasq gateway`s accept into the same
// queues, three `faasq worker`s (no local runtime, --functions-url = a gateway) share the work,
// and workers apply per-function annotations read from the gateway's API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { natsSkipReason, startNatsServer, type NatsNode } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startFaasqChild, type FaasqChild } from './support/faasq-child.js';
import { ledgerStack, readLedger } from './support/ledger.js';

const skip = natsSkipReason();
const ENV = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'shared-pw', FAASQ_LOG_LEVEL: 'info' };
const CALLS = 60;

interface CallView { state: string; attempts: number }

describe('scale-out - gateways and workers sharing one JetStream queue', { skip }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let nats: NatsNode | undefined;
  const children: FaasqChild[] = [];
  let gateways: string[] = [];
  let workers: FaasqChild[] = [];
  let ledger = '';

  before(async () => {
    tmp = await makeTempDir('faasq-shared-');
    ledger = path.join(tmp.dir, 'ledger.txt');
    await writeFile(path.join(tmp.dir, 'stack.yml'), ledgerStack(ledger, {
      work: { sleepMs: 40 },
      failer: { status: 500, annotations: { 'com.openfaas.retry.attempts': '1' } },
    }));
    nats = await startNatsServer();
    const common = ['--queue', nats.url];
    for (const name of ['gw-a', 'gw-b']) {
      children.push(startFaasqChild(name, ['gateway', '--port', '0', '-f', 'stack.yml', '--data-dir', path.join(tmp.dir, name), ...common], { cwd: tmp.dir, env: ENV }));
    }
    gateways = await Promise.all(children.map((c) => c.url(60_000)));
    // No --data-dir: a worker on NATS must not leave a .faasq/ folder in its working directory.
    workers = ['wk-1', 'wk-2', 'wk-3'].map((name) =>
      startFaasqChild(name, ['worker', '--functions-url', gateways[0], '--max-inflight', '4', ...common], { cwd: tmp.dir, env: ENV }));
    children.push(...workers);
    await Promise.all(workers.map((w) => w.waitForLine(/faasq worker: consuming/, 60_000)));
  });

  after(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await nats?.close();
    await tmp.cleanup();
  });

  const record = async (callId: string): Promise<CallView | undefined> => {
    const res = await fetch(`${gateways[1]}/async-function/${callId}`);
    if (res.status !== 200) {
      await res.arrayBuffer();
      return undefined;
    }
    return (await res.json()) as CallView;
  };

  test('scale-out - calls accepted by two gateways are shared by three workers: each runs some, all run exactly once', { timeout: 90_000 }, async () => {
    const ids = Array.from({ length: CALLS }, (_, i) => `shared-${i}`);
    await Promise.all(ids.map(async (id, i) => {
      const res = await fetch(`${gateways[i % 2]}/async-function/work`, { method: 'POST', body: `body ${i}`, headers: { 'x-call-id': id } });
      await res.arrayBuffer();
      assert.equal(res.status, 202, `call ${id} via gateway ${i % 2}`);
    }));
    await waitFor(async () => (await readLedger(ledger)).ends.size >= CALLS, { timeoutMs: 60_000, intervalMs: 100, message: 'every call ran' });
    for (const id of ids) {
      const view = await waitFor(async () => { const r = await record(id); return r?.state === 'succeeded' ? r : undefined; }, { timeoutMs: 10_000, message: `${id} succeeded` });
      assert.equal(view.attempts, 1);
    }
    const { starts } = await readLedger(ledger);
    for (const id of ids) assert.equal(starts.get(id), 1, `${id} ran once`);

    const perWorker = workers.map((w) => new Set(w.logs().filter((l) => l.msg === 'call succeeded' && ids.includes(l.callId as string)).map((l) => l.callId as string)));
    const counts = perWorker.map((s) => s.size);
    assert.ok(counts.every((n) => n > 0), `every worker ran some calls: ${counts.join(', ')}`);
    assert.equal(counts.reduce((a, b) => a + b, 0), CALLS, `total exact: ${counts.join(', ')}`);
    assert.equal(new Set(perWorker.flatMap((s) => [...s])).size, CALLS);
  });

  test('scale-out - workers apply a function\'s retry annotation read from the gateway API', { timeout: 60_000 }, async () => {
    const res = await fetch(`${gateways[1]}/async-function/failer`, { method: 'POST', body: 'x', headers: { 'x-call-id': 'failer-1' } });
    await res.arrayBuffer();
    assert.equal(res.status, 202);
    // Without the annotation the worker default is 10 attempts 10 s apart: still retrying here.
    const view = await waitFor(async () => { const r = await record('failer-1'); return r && ['failed', 'dead'].includes(r.state) ? r : undefined; }, { timeoutMs: 20_000, intervalMs: 100, message: 'failer final' });
    assert.equal(view.attempts, 1);
  });

  test('scale-out - a worker on NATS leaves no .faasq folder behind', () => {
    assert.equal(existsSync(path.join(tmp.dir, '.faasq')), false);
  });
});
