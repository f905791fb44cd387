// NATS down: enqueue keeps trying for FAASQ_ACCEPT_TIMEOUT, then refuses (never hangs): with
// E_QUEUE_UNAVAILABLE when nothing was sent, with E_ACCEPT_UNCONFIRMED and the call id when the
// call was sent but not confirmed (the kill raced it); isHealthy() reports the outage,
// and after the server comes back the queue works again: a consumer started before the outage
// resumes, and a call stored before the outage is still there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFaasqError } from '../../src/shared/index.js';
import type { Consumer } from '../../src/queue/index.js';
import { makeMessage } from '../queue/contract.js';
import { natsSkipReason, startNatsServer } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';
import { makeJetStreamQueue } from './jetstream-support.js';

const skipReason = natsSkipReason();
const ACCEPT_TIMEOUT_MS = 2000;
const MAX_FAIL_MS = 5000;

async function expectUnavailableQuickly(operation: () => Promise<unknown>, isSendRacing = false): Promise<void> {
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('still pending after twice the limit')), MAX_FAIL_MS * 2);
  });
  try {
    await assert.rejects(Promise.race([operation(), hung]), (err: unknown) => {
      if (isSendRacing && isFaasqError(err, 'E_ACCEPT_UNCONFIRMED')) {
        assert.equal(err.status, 504);
        assert.ok(err.headers['X-Call-Id'], 'an unconfirmed refusal names the call');
        return true;
      }
      assert.ok(isFaasqError(err, 'E_QUEUE_UNAVAILABLE'), `got ${String(err)}`);
      assert.equal(err.status, 503);
      return true;
    });
  } finally {
    clearTimeout(timer);
  }
  const tookMs = Date.now() - startedAt;
  assert.ok(tookMs < MAX_FAIL_MS, `took ${tookMs}ms`);
}

test('jetstream queue - NATS down: enqueue refuses once its accept timeout (2 s) passes, 503 when nothing was sent, and recovers after restart', { skip: skipReason, timeout: 90_000 }, async (t) => {
  const server = await startNatsServer({ jetstream: true });
  const queue = makeJetStreamQueue(server.url, { leaseMs: 2000, acceptTimeoutMs: ACCEPT_TIMEOUT_MS });
  const consumers: Consumer[] = [];
  t.after(async () => {
    await Promise.all(consumers.map((c) => c.close()));
    await queue.close();
    await server.close();
  });
  await queue.start();
  assert.equal(queue.isHealthy(), true);
  const consumed = new Set<string>();
  const consume = (qname: string): void => {
    consumers.push(queue.consume({ queue: qname, maxInflight: 4 }, (d) => {
      consumed.add(d.message.callId);
      void d.ack().catch(() => undefined);
    }));
  };
  consume('live');
  const first = makeMessage('live');
  await queue.enqueue(first);
  await waitFor(() => consumed.has(first.callId), { message: 'delivered before the outage' });
  const stored = makeMessage('stored');
  await queue.enqueue(stored);

  await server.kill9();
  // Straight after the kill, before the client may have noticed: still bounded.
  await expectUnavailableQuickly(() => queue.enqueue(makeMessage('live')), true);
  await waitFor(() => !queue.isHealthy(), { timeoutMs: 5000, message: 'isHealthy() false while disconnected' });
  await expectUnavailableQuickly(() => queue.enqueue(makeMessage('live')));
  await expectUnavailableQuickly(() => queue.getRecord(first.callId));

  await server.restart();
  await waitFor(() => queue.isHealthy(), { timeoutMs: 10_000, message: 'isHealthy() true after restart' });
  const second = makeMessage('live');
  await waitFor(async () => (await queue.enqueue(second)).record.callId, { timeoutMs: 10_000, message: 'enqueue works again' });
  assert.equal((await queue.getRecord(stored.callId))?.state, 'queued');
  await waitFor(() => consumed.has(second.callId), { timeoutMs: 30_000, message: 'the consumer from before the outage resumes' });
  consume('stored');
  await waitFor(() => consumed.has(stored.callId), { timeoutMs: 10_000, message: 'the call stored before the outage is delivered' });
});
