// /metrics on a real `faasq up` with the memory and the embedded queue: every OpenFaaS metric and
// every faasq_ metric moves by exactly what a known mix of calls implies; GET /system/queues
// reports the same counts with rates.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ADMIN_AUTH, startObservedFaasq } from './support/observed-faasq.js';
import { runTraffic } from './support/traffic.js';
import { expectMetricsMoved } from './support/expect-metrics.js';
import { valueOf } from './support/prom-text.js';
import { waitFor } from '../support/wait-for.js';

interface QueueJson {
  name: string;
  depth: number;
  submittedTotal: number;
  processedTotal: number | null;
  ingestRate: number;
  processRate: number | null;
  rateWindowSeconds: number;
}

for (const backend of ['memory', 'embedded']) {
  describe(`metrics on ${backend}`, () => {
    test(`metrics ${backend} - each metric moves by what the calls imply`, { timeout: 60_000 }, async () => {
      const f = await startObservedFaasq({ queueUrl: backend });
      try {
        const traffic = await runTraffic(f);
        expectMetricsMoved(traffic);

        const res = await fetch(`${f.url}/system/queues`, { headers: { authorization: ADMIN_AUTH } });
        assert.equal(res.status, 200);
        const q = ((await res.json()) as QueueJson[]).find((x) => x.name === 'faas-request');
        assert.ok(q, 'faas-request listed');
        assert.equal(q.submittedTotal, 5);
        assert.equal(q.processedTotal, 4);
        assert.ok(q.ingestRate > 0, `ingestRate ${q.ingestRate}`);
        assert.ok(q.processRate !== null && q.processRate > 0, `processRate ${q.processRate}`);
        assert.equal(q.rateWindowSeconds, 60);
        // The per-queue route carries the same numbers as the list.
        const one = (await (await fetch(`${f.url}/system/queues/faas-request`, { headers: { authorization: ADMIN_AUTH } })).json()) as QueueJson;
        assert.equal(one.submittedTotal, 5);
        assert.equal(one.processedTotal, 4);
        // The counters agree with the Prometheus ones.
        assert.equal(valueOf(traffic.after, 'queue_worker_messages_submitted_total', { queue_name: 'faas-request' }), q.submittedTotal);
      } finally {
        await f.close();
      }
    });
  });
}

test('metrics - a refused async call counts under faasq_calls_rejected_total with its code', async () => {
  const f = await startObservedFaasq();
  try {
    const before = await f.scrape();
    const res = await fetch(`${f.url}/async-function/ok`, { method: 'POST', headers: { 'x-priority': 'high' } });
    await res.arrayBuffer();
    assert.equal(res.status, 400);
    const missing = await fetch(`${f.url}/async-function/nope`, { method: 'POST' });
    await missing.arrayBuffer();
    assert.equal(missing.status, 404);
    const after = await f.scrape();
    const moved = (labels: Record<string, string>) => valueOf(after, 'faasq_calls_rejected_total', labels) - valueOf(before, 'faasq_calls_rejected_total', labels);
    assert.equal(moved({ function_name: 'ok.openfaas-fn' }), 1);
    assert.equal(moved({ code: 'E_FUNCTION_NOT_FOUND' }), 1);
    assert.equal(valueOf(after, 'queue_worker_messages_submitted_total'), 0);
    // Names that are not deployed never become label values (sync or async).
    const sync = await fetch(`${f.url}/function/no-such-fn-${Date.now()}`);
    await sync.arrayBuffer();
    assert.equal(sync.status, 404);
    const latest = await f.scrape();
    assert.doesNotMatch(latest, /function_name="(nope|no-such-fn)/);
  } finally {
    await f.close();
  }
});

test('metrics - cancelling a running call counts once and frees its in-flight slot', { timeout: 30_000 }, async () => {
  const f = await startObservedFaasq();
  try {
    const before = await f.scrape();
    const callId = await f.submit('slow');
    await f.waitForState(callId, ['running']);
    const during = await f.scrape();
    assert.equal(valueOf(during, 'queue_worker_function_invocation_inflight', { function_name: 'slow.openfaas-fn' }), 1);
    const res = await fetch(`${f.url}/async-function/${callId}`, { method: 'DELETE' });
    await res.arrayBuffer();
    assert.equal(res.status, 202);
    await f.waitForState(callId, ['cancelled']);
    // The worker logs that it stopped the attempt; only then is the slot free.
    await waitFor(() => f.json().some((l) => l.callId === callId && l.msg === 'call stopped: cancelled'), { message: 'worker stopped the attempt' });
    const after = await f.scrape();
    assert.equal(valueOf(after, 'faasq_calls_cancelled_total') - valueOf(before, 'faasq_calls_cancelled_total'), 1);
    assert.equal(valueOf(after, 'queue_worker_function_invocation_inflight', { function_name: 'slow.openfaas-fn' }), 0);
    assert.equal(valueOf(after, 'queue_worker_messages_processed_total') - valueOf(before, 'queue_worker_messages_processed_total'), 0, 'a cancelled call is not processed');
    assert.equal(f.json().filter((l) => l.callId === callId && l.msg === 'call cancelled').length, 1);
  } finally {
    await f.close();
  }
});
