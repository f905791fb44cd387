// The shared-inbox JetStream publisher against a real nats-server: acks with their sequence,
// msgID duplicates, expectations refused with the server's own error codes, no stream (no
// responders), and a reply that never comes (timeout), each as the errors jetstream-errors.ts
// translates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { createAckedPublisher } from '../../src/queue/jetstream/acked-publisher.js';
import { isUnavailableError, isWrongLastSequenceError, toQueueError } from '../../src/queue/jetstream/jetstream-errors.js';
import { natsSkipReason, startNatsServer } from '../support/nats-server.js';

const skipReason = natsSkipReason();

test('acked publisher - acks, duplicates, refused expectations, no stream and timeouts', { skip: skipReason }, async (t) => {
  const server = await startNatsServer({ jetstream: true });
  const nc = await connect({ servers: server.url });
  const publisher = createAckedPublisher(nc);
  t.after(async () => {
    publisher.close();
    await nc.close();
    await server.close();
  });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'PUB', subjects: ['pub.>'], retention: RetentionPolicy.Limits, storage: StorageType.File });
  const data = new TextEncoder().encode('hello');

  const first = await publisher.publish('pub.a', data, { msgID: 'm1', expectStream: 'PUB', timeoutMs: 2000 });
  assert.equal(first.seq, 1);
  assert.equal(first.isDuplicate, false);
  const again = await publisher.publish('pub.a', data, { msgID: 'm1', timeoutMs: 2000 });
  assert.equal(again.isDuplicate, true);
  assert.equal(again.seq, 1);

  // Many at once: each promise gets its own ack.
  const many = await Promise.all(Array.from({ length: 200 }, (_, i) => publisher.publish(`pub.n.${i}`, data, { timeoutMs: 2000 })));
  assert.deepEqual(many.map((a) => a.seq).sort((x, y) => x - y), Array.from({ length: 200 }, (_, i) => i + 2));

  await assert.rejects(publisher.publish('pub.a', data, { expectStream: 'OTHER', timeoutMs: 2000 }), (err: unknown) => toQueueError(err, 'x').code === 'E_INTERNAL');
  // Compare-and-set on the subject: 0 means "none yet", which pub.a is not.
  await assert.rejects(publisher.publish('pub.a', data, { expectLastSubjectSequence: 0, timeoutMs: 2000 }), (err: unknown) => isWrongLastSequenceError(err));
  const created = await publisher.publish('pub.fresh', data, { expectLastSubjectSequence: 0, timeoutMs: 2000 });
  const updated = await publisher.publish('pub.fresh', data, { expectLastSubjectSequence: created.seq, timeoutMs: 2000 });
  assert.ok(updated.seq > created.seq);

  await assert.rejects(publisher.publish('nostream.x', data, { timeoutMs: 2000 }), (err: unknown) => isUnavailableError(err));

  // Someone answers nothing: the publish times out (and counts as unavailable: 503, retry later).
  const silent = nc.subscribe('silent.x', { callback: () => undefined });
  t.after(() => silent.unsubscribe());
  await nc.flush();
  const t0 = Date.now();
  await assert.rejects(publisher.publish('silent.x', data, { timeoutMs: 300 }), (err: unknown) => isUnavailableError(err));
  assert.ok(Date.now() - t0 < 2000, 'timed out near its deadline');

  // A leader that has only proposed a msgID answers "duplicate" with sequence 0 (nats-server 2.10;
  // 2.11+ answer err_code 10158): no confirmation, so it is unavailable (the accept retries), never
  // stored. Answered here by a responder speaking the server's ack format, as a cut-off leader would.
  const staged = nc.subscribe('staged.x', { callback: (_err, msg) => { msg.respond(JSON.stringify({ stream: 'PUB', seq: 0, duplicate: true })); } });
  const inProcess = nc.subscribe('staged.y', { callback: (_err, msg) => { msg.respond(JSON.stringify({ error: { code: 409, err_code: 10158, description: 'duplicate message id is in process' } })); } });
  t.after(() => {
    staged.unsubscribe();
    inProcess.unsubscribe();
  });
  await nc.flush();
  await assert.rejects(publisher.publish('staged.x', data, { msgID: 'm9', timeoutMs: 2000 }), (err: unknown) => isUnavailableError(err) && toQueueError(err, 'enqueue').code === 'E_QUEUE_UNAVAILABLE');
  await assert.rejects(publisher.publish('staged.y', data, { msgID: 'm9', timeoutMs: 2000 }), (err: unknown) => toQueueError(err, 'enqueue').code === 'E_QUEUE_UNAVAILABLE');

  publisher.close();
  await assert.rejects(publisher.publish('pub.a', data, { timeoutMs: 2000 }), (err: unknown) => isUnavailableError(err));
});
