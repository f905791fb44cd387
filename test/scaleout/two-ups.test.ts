// Two `faasq up --queue nats://…` with the same stack share one queue; when one is killed with
// kill -9, the other finishes every call the dead one had in flight (after the lease expires).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { natsSkipReason, startNatsServer, type NatsNode } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startFaasqChild, type FaasqChild } from './support/faasq-child.js';
import { ledgerStack } from './support/ledger.js';

const skip = natsSkipReason();
const ENV = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'ups-pw', FAASQ_LOG_LEVEL: 'info', FAASQ_ACK_WAIT: '2s' };
const CALLS = 24;

describe('scale-out - two faasq up instances on one JetStream queue', { skip }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let nats: NatsNode | undefined;
  let ups: FaasqChild[] = [];
  let urls: string[] = [];

  before(async () => {
    tmp = await makeTempDir('faasq-ups-');
    await writeFile(path.join(tmp.dir, 'stack.yml'), ledgerStack(path.join(tmp.dir, 'ledger.txt'), { slow: { sleepMs: 1500 } }));
    nats = await startNatsServer();
    ups = ['up-a', 'up-b'].map((name) =>
      startFaasqChild(name, ['up', '--port', '0', '-f', 'stack.yml', '--queue', nats!.url, '--max-inflight', '4', '--data-dir', path.join(tmp.dir, name)], { cwd: tmp.dir, env: ENV }));
    urls = await Promise.all(ups.map((u) => u.url(60_000)));
  });

  after(async () => {
    await Promise.all(ups.map((u) => u.stop()));
    await nats?.close();
    await tmp.cleanup();
  });

  test('scale-out - both instances take calls; after kill -9 of one the other finishes its in-flight calls', { timeout: 120_000 }, async () => {
    const ids = Array.from({ length: CALLS }, (_, i) => `up-${i}`);
    for (const [i, id] of ids.entries()) {
      const res = await fetch(`${urls[i % 2]}/async-function/slow`, { method: 'POST', body: id, headers: { 'x-call-id': id } });
      await res.arrayBuffer();
      assert.equal(res.status, 202);
    }
    const [a, b] = ups;
    const callIds = (child: FaasqChild, msg: string): Set<string> =>
      new Set(child.logs().filter((l) => l.msg === msg && ids.includes(l.callId as string)).map((l) => l.callId as string));
    // Kill A while it is running calls (and B has started some too: the queue is shared).
    await waitFor(() => callIds(a, 'call started').size > 0 && callIds(b, 'call started').size > 0, { timeoutMs: 30_000, message: 'both instances running calls' });
    await a.kill9();
    const doneByA = callIds(a, 'call succeeded');
    const inflightOnA = [...callIds(a, 'call started')].filter((id) => !doneByA.has(id));
    assert.ok(inflightOnA.length > 0, 'A had calls in flight when killed');

    for (const id of ids) {
      await waitFor(async () => {
        const res = await fetch(`${urls[1]}/async-function/${id}`);
        return res.status === 200 && ((await res.json()) as { state: string }).state === 'succeeded';
      }, { timeoutMs: 60_000, intervalMs: 100, message: `${id} succeeded` });
    }
    const doneByB = callIds(b, 'call succeeded');
    for (const id of inflightOnA) assert.ok(doneByB.has(id), `B finished ${id}, in flight on A at the kill`);
    assert.ok(doneByB.size > 0);
    for (const id of ids) assert.ok(doneByA.has(id) || doneByB.has(id), `${id} finished by A before the kill or by B`);
  });
});
