// Several faasq processes on one NATS: each has its own connection (a queue instance here), they
// share streams and buckets by prefix. Provisioning is idempotent, a call enqueued by one is
// consumed by another, and a cancel in one reaches every onCancel listener.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { createNames } from '../../src/queue/jetstream/index.js';
import type { Delivery, Queue } from '../../src/queue/index.js';
import { makeMessage } from '../queue/contract.js';
import { natsSkipReason, startNatsServer, type NatsNode } from '../support/nats-server.js';
import { waitFor } from '../support/wait-for.js';
import { createQueue } from '../../src/queue/index.js';
import { silentLogger } from '../../src/shared/index.js';
import { jetStreamConfig, makeJetStreamQueue, randomPrefix } from './jetstream-support.js';

const skipReason = natsSkipReason();
let server: NatsNode | undefined;

before(async () => {
  if (!skipReason) server = await startNatsServer({ jetstream: true });
});
after(() => server?.close());

async function openPair(t: { after(fn: () => Promise<void>): void }, leaseMs = 2000): Promise<{ a: Queue; b: Queue; prefix: string }> {
  const prefix = randomPrefix();
  const a = makeJetStreamQueue(server!.url, { leaseMs }, prefix);
  const b = makeJetStreamQueue(server!.url, { leaseMs }, prefix);
  t.after(async () => {
    await a.close();
    await b.close();
  });
  await Promise.all([a.start(), b.start()]);
  return { a, b, prefix };
}

test('jetstream queue - a call enqueued by one process is consumed by another; cancel reaches both', { skip: skipReason }, async (t) => {
  const { a, b } = await openPair(t);
  const message = makeMessage('shared');
  await a.enqueue(message);
  const got: Delivery[] = [];
  const consumer = b.consume({ queue: 'shared', maxInflight: 2 }, (d) => got.push(d));
  t.after(() => consumer.close());
  await waitFor(() => got.length === 1, { message: 'delivered to the other process' });
  const heardA: string[] = [];
  const heardB: string[] = [];
  t.after(a.onCancel((id) => heardA.push(id)));
  t.after(b.onCancel((id) => heardB.push(id)));
  assert.equal((await a.cancel(message.callId))?.state, 'cancelled');
  await waitFor(() => heardA.includes(message.callId) && heardB.includes(message.callId), { message: 'both processes heard the cancel' });
  assert.equal(heardA.length, 1, 'the cancelling process hears it once');
  await got[0].ack();
});

test('jetstream queue - provisioning is idempotent and adopts a new lease', { skip: skipReason }, async (t) => {
  const prefix = randomPrefix();
  const first = makeJetStreamQueue(server!.url, { leaseMs: 2000 }, prefix);
  t.after(() => first.close());
  await first.start();
  await first.ensureQueue('q');
  await first.ensureQueue('q');
  const second = makeJetStreamQueue(server!.url, { leaseMs: 7000 }, prefix);
  t.after(() => second.close());
  await second.start();
  await second.ensureQueue('q');
  const nc = await connect({ servers: server!.url });
  t.after(() => nc.close());
  const jsm = await jetstreamManager(nc);
  const names = createNames(prefix);
  const info = await jsm.consumers.info(names.queueStream('q'), names.durable(9));
  assert.equal(info.config.ack_wait, nanos(7000));
  assert.equal(info.config.filter_subject, names.priorityFilter('q', 9));
  assert.deepEqual(await second.listQueues(), ['faas-request', 'q'], 'the default queue exists from start()');
});

test('jetstream queue - the same callId after the dedupe window is a new call, inside it (or while still queued) a duplicate', { skip: skipReason }, async (t) => {
  const prefix = randomPrefix();
  const queue = makeJetStreamQueue(server!.url, { leaseMs: 2000, dedupeWindowMs: 300 }, prefix);
  t.after(() => queue.close());
  await queue.start();
  const message = makeMessage('window');
  const keyed = { hasCallerId: true };
  assert.equal((await queue.enqueue(message, keyed)).isDuplicate, false);
  assert.equal((await queue.enqueue(message, keyed)).isDuplicate, true);
  // The window is time: let it pass (well inside the server's own 2-minute msgID window).
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal((await queue.enqueue({ ...message, enqueuedAt: Date.now() }, keyed)).isDuplicate, true, 'still queued: the same call');
  const got: Delivery[] = [];
  const consumer = queue.consume({ queue: 'window', maxInflight: 4 }, (d) => {
    got.push(d);
    void d.complete({ state: 'succeeded', lastStatus: 200 }, undefined);
  });
  t.after(() => consumer.close());
  await waitFor(async () => got.length === 1 && (await queue.getRecord(message.callId))?.state === 'succeeded', { message: 'the first call done' });
  assert.equal((await queue.enqueue({ ...message, enqueuedAt: Date.now() }, keyed)).isDuplicate, false);
  await waitFor(() => got.length === 2, { message: 'the second call delivered' });
  assert.ok(got.every((d) => d.message.callId === message.callId));
});

test('jetstream queue - a delayed call waits on its own subject, counts as delayed, then starts fresh', { skip: skipReason }, async (t) => {
  const queue = makeJetStreamQueue(server!.url, { leaseMs: 2000 });
  t.after(() => queue.close());
  await queue.start();
  const notBefore = Date.now() + 800;
  const message = makeMessage('later', { priority: 6, notBefore });
  await queue.enqueue(message);
  const got: { delivery: Delivery; at: number }[] = [];
  const consumer = queue.consume({ queue: 'later', maxInflight: 1 }, (delivery) => {
    got.push({ delivery, at: Date.now() });
    void delivery.ack();
  });
  t.after(() => consumer.close());
  const waiting = (await queue.stats()).find((s) => s.name === 'later');
  assert.equal(waiting?.delayed, 1);
  assert.equal(waiting?.depth, 1);
  assert.deepEqual({ ...waiting?.depthByPriority }, { 6: 1 });
  await waitFor(() => got.length === 1, { timeoutMs: 5000, message: 'delivered when due' });
  assert.ok(got[0].at >= notBefore);
  assert.equal(got[0].delivery.deliveryCount, 1, 'waiting for notBefore is not a delivery');
  assert.equal(got[0].delivery.message.priority, 6);
  await waitFor(async () => (await queue.stats()).find((s) => s.name === 'later')?.depth === 0, { message: 'depth 0 after the ack' });
});

test('jetstream queue - createQueue passes a caller id on: the resubmission is a duplicate, not a second call', { skip: skipReason }, async (t) => {
  // createQueue wraps the JetStream backend (imported on start); the enqueue options must reach it.
  const queue = createQueue({ config: jetStreamConfig(server!.url, { leaseMs: 2000 }), logger: silentLogger() });
  t.after(() => queue.close());
  await queue.start();
  const message = makeMessage(`wrapped-${randomPrefix()}`);
  assert.equal((await queue.enqueue(message, { hasCallerId: true })).isDuplicate, false);
  const again = await queue.enqueue({ ...message, enqueuedAt: Date.now() + 1 }, { hasCallerId: true });
  assert.equal(again.isDuplicate, true);
  const stats = (await queue.stats()).find((s) => s.name === message.queue);
  assert.equal(stats?.depth, 1, 'one message queued');
});
