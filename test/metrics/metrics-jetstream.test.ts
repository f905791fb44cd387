// /metrics on a real `faasq up` with the JetStream queue (a real nats-server): the same mix of
// calls moves the same metrics by the same amounts as on the local backends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { natsSkipReason, startNatsServer } from '../support/nats-server.js';
import { ADMIN_AUTH, startObservedFaasq } from './support/observed-faasq.js';
import { runTraffic } from './support/traffic.js';
import { expectMetricsMoved } from './support/expect-metrics.js';

test('metrics jetstream - each metric moves by what the calls imply', { skip: natsSkipReason(), timeout: 120_000 }, async () => {
  const nats = await startNatsServer();
  try {
    const f = await startObservedFaasq({ queueUrl: nats.url });
    try {
      expectMetricsMoved(await runTraffic(f, { timeoutMs: 30_000 }));
      const res = await fetch(`${f.url}/system/queues/faas-request`, { headers: { authorization: ADMIN_AUTH } });
      const q = (await res.json()) as { submittedTotal: number; processedTotal: number };
      assert.equal(q.submittedTotal, 5);
      assert.equal(q.processedTotal, 4);
    } finally {
      await f.close();
    }
  } finally {
    await nats.close();
  }
});
