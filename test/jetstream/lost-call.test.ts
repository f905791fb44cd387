// The call once lost under faults (issue 22): its final record write failed while the work
// stream's leader was frozen, the retry re-read the record, the lookup of the queued message
// failed too, and the failure was read as "no record": the final write took that for a cancel and
// acked the call. Reproduced here with a real nats-server behind a proxy that drops the record
// writes and the queued-message lookups while the function runs: the call must come through once
// they pass again, its function run once, its callback sent. (The worker now needs no lookup for a
// call it holds leased, whose message is queued for certain; any lookup made still meets the fault.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { natsSkipReason } from '../support/nats-server.js';
import type { NatsFaultProxy } from '../support/nats-fault-proxy.js';
import { waitFor } from '../support/wait-for.js';
import type { Harness } from '../async/support/harness.js';
import { startProxiedHarness, type ProxiedHarness } from './jetstream-support.js';

const RECORD_WRITES = /^\$KV\.FAASQ_records\./;
const QUEUE_LOOKUPS = /^\$JS\.API\.STREAM\.MSG\.GET\.FAASQ_Q_/;

describe('jetstream - a failed record lookup during the final write is no answer', { skip: natsSkipReason() }, () => {
  let env: ProxiedHarness | undefined;
  let proxy: NatsFaultProxy;
  let h: Harness;
  let writes: { readonly count: number } | undefined;

  before(async () => {
    // No `running` record (a long delay): the call's record is its queued message until the final write.
    env = await startProxiedHarness('faasq-lost-call-', { 'queue.leaseMs': '3s', 'worker.runningRecordDelayMs': '60s' });
    ({ proxy, h } = env);
    h.deploy('echo');
    h.fns.handle('echo', (_req, res, body) => {
      // The faults start while the call's first run is under way: its final write and every re-read meet them.
      if (writes === undefined) {
        writes = proxy.drop(RECORD_WRITES);
        proxy.drop(QUEUE_LOOKUPS);
      }
      setTimeout(() => res.end(`echo:${body}`), 50);
    });
    await h.startWorker();
  });

  after(() => env?.close());

  for (const withCallback of [true, false]) {
    test(`jetstream - a call whose final write and record lookups fail ${withCallback ? 'with' : 'without'} a callback is not lost: it finishes once NATS answers again, run once`, { timeout: 90_000 }, async () => {
      proxy.clear();
      writes = undefined;
      const token = `tok-${withCallback}-${Date.now()}`;
      const res = await h.submit('echo', { body: token, headers: withCallback ? { 'x-callback-url': h.hooks.url } : {} });
      assert.equal(res.status, 202);
      const callId = res.headers.get('x-call-id')!;
      // The final write failed (2 s timeout) and was tried again, failing again: the old code had
      // acked the call by the first failed lookup of its retry.
      await waitFor(() => (writes?.count ?? 0) >= 2, { timeoutMs: 30_000, message: 'the final write met the fault twice' });
      proxy.clear();
      const record = await h.waitForState(callId, ['succeeded'], 40_000);
      assert.equal(record.attempts, 1);
      assert.equal(h.fns.count('echo', callId), 1, 'the function ran once');
      if (withCallback) {
        const got = await waitFor(() => h.hooks.received.find((c) => c.body.toString() === `echo:${token}`), { timeoutMs: 20_000, message: 'the callback' });
        assert.equal(got.headers['x-call-id'], callId);
        assert.equal(record.callback?.url, h.hooks.url);
      }
    });
  }
});
