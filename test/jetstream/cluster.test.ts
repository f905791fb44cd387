// High availability on a 3-node loopback cluster with R3 streams: kill -9 of the queue stream's
// leader while calls are being enqueued loses no call whose enqueue resolved (retried with the
// same callId while the cluster elects a new leader), and the consumer delivers all of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFaasqError } from '../../src/shared/index.js';
import { createNames } from '../../src/queue/jetstream/index.js';
import type { CallMessage } from '../../src/queue/index.js';
import { makeMessage } from '../queue/contract.js';
import { natsSkipReason, startNatsCluster } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';
import { makeJetStreamQueue, randomPrefix } from './jetstream-support.js';

const skipReason = natsSkipReason();
const CALLS = 240;
const KILL_AT = 80;
const IN_FLIGHT = 8;
const MAX_ENQUEUE_MS = 30_000;

/** Enqueues until accepted, retrying retryable failures with the same callId (what a client does). */
async function enqueueUntilAccepted(enqueue: (m: CallMessage) => Promise<unknown>, message: CallMessage): Promise<number> {
  const deadline = Date.now() + MAX_ENQUEUE_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await enqueue(message);
      return attempt;
    } catch (err) {
      if (!isFaasqError(err) || !err.isRetryable || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

test('jetstream queue - R3 cluster: kill -9 of the stream leader mid-enqueue loses no accepted call', { skip: skipReason, timeout: 150_000 }, async (t) => {
  const cluster = await startNatsCluster(3);
  const prefix = randomPrefix();
  const queue = makeJetStreamQueue(cluster.url, { leaseMs: 5000, streamReplicas: 3 }, prefix);
  const consumed = new Map<string, number>();
  let consumer: { close(): Promise<void> } | undefined;
  t.after(async () => {
    await consumer?.close();
    await queue.close();
    await cluster.close();
  });
  await queue.start();
  const qname = 'ha';
  await queue.ensureQueue(qname);
  const stream = createNames(prefix).queueStream(qname);
  // Wrapped: index 0 is a leader too, and waitFor waits for a truthy value.
  const { leader } = await waitFor(async () => {
    const index = await cluster.streamLeader(stream);
    return index === undefined ? undefined : { leader: index };
  }, { timeoutMs: 10_000, message: 'stream leader' });

  consumer = queue.consume({ queue: qname, maxInflight: 32 }, (d) => {
    consumed.set(d.message.callId, (consumed.get(d.message.callId) ?? 0) + 1);
    void d.ack().catch(() => undefined);
  });

  const accepted: string[] = [];
  let retries = 0;
  let next = 0;
  let killing: Promise<void> | undefined;
  const worker = async (): Promise<void> => {
    while (next < CALLS) {
      const index = next++;
      if (index === KILL_AT) killing = cluster.nodes[leader].kill9();
      const message = makeMessage(qname, { priority: index % 10 });
      retries += (await enqueueUntilAccepted((m) => queue.enqueue(m), message)) - 1;
      accepted.push(message.callId);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  await killing;
  assert.equal(accepted.length, CALLS);
  t.diagnostic(`killed n${leader + 1} (stream leader); ${retries} enqueue retries`);

  await waitFor(() => accepted.every((id) => consumed.has(id)), { timeoutMs: 60_000, intervalMs: 200, message: 'every accepted call consumed' });
  const duplicates = [...consumed.values()].filter((n) => n > 1).length;
  t.diagnostic(`${consumed.size} consumed, ${duplicates} delivered more than once (at least once is the contract)`);

  await cluster.nodes[leader].restart();
  await waitFor(async () => (await queue.stats()).find((s) => s.name === qname)?.depth === 0, { timeoutMs: 20_000, message: 'queue drained after the restart' });
});
