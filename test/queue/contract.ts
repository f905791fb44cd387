// The Queue contract suite: every promise in the seam comment of src/queue/queue.ts, as
// node:test tests, run against each backend (memory, embedded, jetstream). Backend-neutral: it
// only uses the Queue interface, random queue names, and waits on conditions with deadlines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CallMessage, Delivery, Queue, QueueOptions } from '../../src/queue/index.js';
import { isFaasqError } from '../../src/shared/index.js';
import { waitFor } from '../support/wait-for.js';

export const CONTRACT_OPTIONS: QueueOptions = { leaseMs: 300, maxDepth: 10_000, dedupeWindowMs: 60_000, retentionMs: 60_000 };

export type MakeQueue = (options: QueueOptions) => Promise<{ queue: Queue; cleanup(): Promise<void> }>;

interface Got {
  readonly delivery: Delivery;
  readonly at: number;
}

function newName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export function makeMessage(queue: string, overrides: Partial<CallMessage> = {}): CallMessage {
  const now = Date.now();
  return {
    callId: randomUUID(),
    function: 'echo',
    namespace: 'openfaas-fn',
    queue,
    priority: 0,
    method: 'POST',
    path: '/',
    query: '',
    headers: { 'content-type': 'text/plain', 'x-trace': ['a', 'b'] },
    body: Buffer.from(`hello ${now}`),
    enqueuedAt: now,
    startTimeNs: `${BigInt(now) * 1_000_000n}`,
    ...overrides,
  };
}

/** Absence checks: the property is that nothing arrives, so a short quiet period is the test. */
async function quietFor(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

export function runQueueContract(name: string, makeQueue: MakeQueue): void {
  const lease = CONTRACT_OPTIONS.leaseMs;

  /** Opens a started queue for one test and registers its cleanup. */
  async function open(t: { after(fn: () => Promise<void>): void }, overrides: Partial<QueueOptions> = {}): Promise<Queue> {
    const { queue, cleanup } = await makeQueue({ ...CONTRACT_OPTIONS, ...overrides });
    t.after(async () => {
      await queue.close();
      await cleanup();
    });
    await queue.start();
    return queue;
  }

  function collect(queue: Queue, qname: string, maxInflight: number, onDelivery?: (d: Delivery) => void): { got: Got[]; close(): Promise<void> } {
    const got: Got[] = [];
    const consumer = queue.consume({ queue: qname, maxInflight }, (delivery) => {
      got.push({ delivery, at: Date.now() });
      onDelivery?.(delivery);
    });
    return { got, close: () => consumer.close() };
  }

  /** A fresh queue with one call enqueued and its first delivery held, unsettled, in `c.got[0]`. */
  async function deliverOne(t: { after(fn: () => Promise<void>): void }, maxInflight = 5): Promise<{ queue: Queue; message: CallMessage; c: { got: Got[] } }> {
    const queue = await open(t);
    const qname = newName('q');
    const message = makeMessage(qname);
    await queue.enqueue(message);
    const c = collect(queue, qname, maxInflight);
    t.after(() => c.close());
    await waitFor(() => c.got.length >= 1, { message: 'delivery' });
    return { queue, message, c };
  }

  /** Keeps every delivery in `got` leased until stopped. */
  function keepAlive(got: Got[]): () => void {
    const timer = setInterval(() => got.forEach((g) => g.delivery.extend()), lease / 4);
    return () => clearInterval(timer);
  }

  test(`${name} queue - a callback's recorded sends never go down and a delivered callback stays delivered (bookkeeping from two workers, either order)`, async (t) => {
    const queue = await open(t);
    const message = makeMessage(newName('q'), { callbackUrl: 'http://127.0.0.1:9/cb' });
    await queue.enqueue(message);
    const url = 'http://127.0.0.1:9/cb';
    await queue.updateRecord(message.callId, { state: 'succeeded', callback: { url, state: 'pending', attempts: 0 } });
    // The worker that resumed the callback: it counted the lost send, then delivered.
    await queue.updateRecord(message.callId, { callback: { url, state: 'delivered', attempts: 2, lastStatus: 200, deliveredAt: new Date().toISOString() } });
    // The first worker's late bookkeeping of its own (first) send.
    const late = await queue.updateRecord(message.callId, { callback: { url, state: 'failed', attempts: 1, lastError: 'timed out' } });
    assert.equal(late?.callback?.attempts, 2);
    assert.equal(late?.callback?.state, 'delivered');
    assert.equal((await queue.getRecord(message.callId))?.callback?.attempts, 2);
    // A new outcome owes its callback afresh (attempts 0): that replaces the old bookkeeping.
    const owed = await queue.updateRecord(message.callId, { callback: { url, state: 'pending', attempts: 0 } });
    assert.deepEqual(owed?.callback, { url, state: 'pending', attempts: 0 });
  });

  test(`${name} queue - enqueue stores the call and creates its record (queued, attempts 0)`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const message = makeMessage(qname, { priority: 3 });
    const result = await queue.enqueue(message);
    assert.equal(result.isDuplicate, false);
    assert.equal(result.record.callId, message.callId);
    assert.equal(result.record.state, 'queued');
    assert.equal(result.record.attempts, 0);
    assert.equal(result.record.function, 'echo');
    assert.equal(result.record.queue, qname);
    const record = await queue.getRecord(message.callId);
    assert.equal(record?.state, 'queued');
    assert.equal(record?.attempts, 0);
    const c = collect(queue, qname, 1);
    t.after(() => c.close());
    const [first] = await waitFor(() => (c.got.length === 1 ? c.got : undefined), { message: 'delivery' });
    const m = first.delivery.message;
    assert.equal(first.delivery.deliveryCount, 1);
    await first.delivery.countKept();
    assert.equal(m.callId, message.callId);
    assert.equal(m.priority, 3);
    assert.equal(m.method, 'POST');
    assert.deepEqual(m.headers, message.headers);
    assert.ok(Buffer.isBuffer(m.body));
    assert.equal(m.body.toString(), message.body.toString());
    assert.equal(m.startTimeNs, message.startTimeNs);
    await first.delivery.ack();
    assert.equal(await queue.getRecord('no-such-call'), undefined);
    assert.ok(queue.isHealthy());
  });

  /** The call is delivered once, with the first submission's body, and never again within two leases. */
  async function assertDeliveredOnce(t: { after(fn: () => Promise<void> | void): void }, queue: Queue, qname: string, message: CallMessage): Promise<void> {
    const c = collect(queue, qname, 5, (d) => void d.ack());
    t.after(() => c.close());
    await waitFor(() => c.got.length >= 1, { message: 'first delivery' });
    await quietFor(lease * 2);
    assert.equal(c.got.length, 1);
    assert.equal(c.got[0].delivery.message.body.toString(), message.body.toString());
  }

  test(`${name} queue - a second enqueue of the same callId is a duplicate and is not delivered twice`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const message = makeMessage(qname);
    const first = await queue.enqueue(message, { hasCallerId: true });
    const second = await queue.enqueue({ ...message, body: Buffer.from('other') }, { hasCallerId: true });
    assert.equal(second.isDuplicate, true);
    assert.equal(second.record.callId, first.record.callId);
    assert.equal(second.record.acceptedAt, first.record.acceptedAt);
    await assertDeliveredOnce(t, queue, qname, message);
  });

  test(`${name} queue - a callId already used for another function is a 409 naming it, never a duplicate`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const message = makeMessage(qname);
    await queue.enqueue(message, { hasCallerId: true });
    for (const other of [{ function: 'other' }, { namespace: 'team-b' }]) {
      await assert.rejects(queue.enqueue({ ...message, ...other }, { hasCallerId: true }), (err: unknown) => {
        assert.ok(isFaasqError(err, 'E_CONFLICT'), String(err));
        assert.equal(err.status, 409);
        assert.equal(err.detail.function, 'echo.openfaas-fn');
        assert.match(err.message, /echo\.openfaas-fn/);
        return true;
      });
    }
    const same = await queue.enqueue(message, { hasCallerId: true });
    assert.equal(same.isDuplicate, true);
  });

  test(`${name} queue - a call due in 300 days waits without a timer that overflows (and would fire at once, again and again)`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const warnings: string[] = [];
    const onWarning = (w: Error): void => { warnings.push(w.name); };
    process.on('warning', onWarning);
    t.after(() => { process.off('warning', onWarning); });
    const c = collect(queue, qname, 5, (d) => void d.ack());
    t.after(() => c.close());
    const now = Date.now();
    await queue.enqueue(makeMessage(qname, { notBefore: now + 300 * 86_400_000, enqueuedAt: now }));
    await quietFor(100);
    assert.equal(c.got.length, 0, 'not delivered early');
    assert.deepEqual(warnings.filter((n) => n === 'TimeoutOverflowWarning'), []);
  });

  test(`${name} queue - a private call's record says so, stored and derived alike`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const generated = makeMessage(qname, { isPrivate: true });
    const chosen = makeMessage(qname, { isPrivate: true });
    await queue.enqueue(generated);
    await queue.enqueue(chosen, { hasCallerId: true });
    const open_ = makeMessage(qname);
    await queue.enqueue(open_);
    assert.equal((await queue.getRecord(generated.callId))?.isPrivate, true);
    assert.equal((await queue.getRecord(chosen.callId))?.isPrivate, true);
    assert.equal((await queue.getRecord(open_.callId))?.isPrivate, undefined);
    const c = collect(queue, qname, 5, () => undefined);
    t.after(() => c.close());
    await waitFor(() => c.got.length >= 3, { message: 'three deliveries' });
    for (const { delivery } of c.got) {
      const record = await delivery.record();
      assert.equal(record?.isPrivate, delivery.message.isPrivate, delivery.message.callId);
      await delivery.ack();
    }
  });

  test(`${name} queue - a caller resubmitting a queued call's generated id gets a duplicate`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const message = makeMessage(qname);
    const first = await queue.enqueue(message);
    assert.equal(first.isDuplicate, false);
    const again = await queue.enqueue({ ...message, body: Buffer.from('other'), enqueuedAt: Date.now() + 5 }, { hasCallerId: true });
    assert.equal(again.isDuplicate, true);
    assert.equal(again.record.callId, message.callId);
    await assertDeliveredOnce(t, queue, qname, message);
  });

  test(`${name} queue - delivery.record() is the queued record and complete() stores the outcome, the result and the ack`, async (t) => {
    const { queue, message, c } = await deliverOne(t);
    const delivery = c.got[0].delivery;
    const record = await delivery.record();
    assert.equal(record?.state, 'queued');
    assert.equal(record?.attempts, 0);
    const running = await queue.updateRecord(message.callId, { state: 'running', attempts: 1 }, { ifStateIn: ['queued'] });
    assert.equal(running?.state, 'running');
    const result = { status: 201, headers: { 'x-out': 'yes' }, body: Buffer.from('done'), isTruncated: false };
    const final = await delivery.complete({ state: 'succeeded', lastStatus: 201, durationMs: 3 }, result, { ifStateIn: ['running'] });
    assert.equal(final?.state, 'succeeded');
    assert.equal(final?.hasResult, true);
    assert.ok(final?.finishedAt);
    const stored = await queue.getRecord(message.callId);
    assert.equal(stored?.state, 'succeeded');
    assert.equal(stored?.attempts, 1);
    assert.equal(stored?.lastStatus, 201);
    const got = await queue.getResult(message.callId);
    assert.equal(got?.status, 201);
    assert.equal(got?.body.toString(), 'done');
    assert.equal(got?.headers['x-out'], 'yes');
    await quietFor(lease * 2);
    assert.equal(c.got.length, 1, 'acked: not delivered again');
    const [stats] = (await queue.stats()).filter((s) => s.name === message.queue);
    assert.equal(stats?.depth ?? 0, 0);
  });

  test(`${name} queue - complete() after a cancel acks, keeps the result and leaves the record cancelled`, async (t) => {
    const { queue, message, c } = await deliverOne(t);
    const delivery = c.got[0].delivery;
    await queue.updateRecord(message.callId, { state: 'running', attempts: 1 }, { ifStateIn: ['queued'] });
    assert.equal((await queue.cancel(message.callId))?.state, 'cancelled');
    const final = await delivery.complete({ state: 'succeeded', lastStatus: 200 }, { status: 200, headers: {}, body: Buffer.from('late'), isTruncated: false }, { ifStateIn: ['running'] });
    assert.equal(final, undefined);
    assert.equal((await queue.getRecord(message.callId))?.state, 'cancelled');
    assert.equal((await queue.getResult(message.callId))?.body.toString(), 'late');
    await quietFor(lease * 2);
    assert.equal(c.got.length, 1, 'acked: not delivered again');
  });

  test(`${name} queue - the first guarded update of a delivered call loses to a cancel that came first`, async (t) => {
    const { queue, message, c } = await deliverOne(t);
    const record = await c.got[0].delivery.record();
    assert.equal(record?.state, 'queued');
    await queue.cancel(message.callId);
    const running = await queue.updateRecord(message.callId, { state: 'running', attempts: 1 }, { ifStateIn: ['queued', 'retrying', 'running'] });
    assert.equal(running, undefined);
    assert.equal((await queue.getRecord(message.callId))?.state, 'cancelled');
    await c.got[0].delivery.ack();
  });

  test(`${name} queue - higher priority is delivered first`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    for (const priority of [1, 5, 9, 0, 5]) await queue.enqueue(makeMessage(qname, { priority }));
    const c = collect(queue, qname, 1, (d) => void d.ack());
    t.after(() => c.close());
    await waitFor(() => c.got.length === 5, { message: 'five deliveries' });
    assert.deepEqual(c.got.map((g) => g.delivery.message.priority), [9, 5, 5, 1, 0]);
  });

  test(`${name} queue - calls of one priority are delivered oldest first`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const m = makeMessage(qname, { priority: 4 });
      ids.push(m.callId);
      await queue.enqueue(m);
    }
    const c = collect(queue, qname, 1, (d) => void d.ack());
    t.after(() => c.close());
    await waitFor(() => c.got.length === 10, { message: 'ten deliveries' });
    assert.deepEqual(c.got.map((g) => g.delivery.message.callId), ids);
  });

  test(`${name} queue - a call is not delivered before notBefore`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const notBefore = Date.now() + 700;
    const delayed = makeMessage(qname, { notBefore });
    await queue.enqueue(delayed);
    const now = makeMessage(qname);
    await queue.enqueue(now);
    const c = collect(queue, qname, 5, (d) => void d.ack());
    t.after(() => c.close());
    const got = await waitFor(() => c.got.find((g) => g.delivery.message.callId === delayed.callId), { timeoutMs: 5000, message: 'delayed delivery' });
    assert.ok(got.at >= notBefore, `delivered ${notBefore - got.at}ms early`);
    assert.equal(c.got[0].delivery.message.callId, now.callId, 'the ready call is not held up by the delayed one');
  });

  test(`${name} queue - no more than maxInflight deliveries are unsettled at once`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    for (let i = 0; i < 5; i++) await queue.enqueue(makeMessage(qname));
    const c = collect(queue, qname, 2);
    t.after(() => c.close());
    const stop = keepAlive(c.got);
    t.after(stop);
    await waitFor(() => c.got.length === 2, { message: 'two deliveries' });
    await quietFor(lease);
    assert.equal(c.got.length, 2);
    await c.got[0].delivery.ack();
    await waitFor(() => c.got.length === 3, { message: 'a third delivery after an ack' });
    await quietFor(lease / 2);
    assert.equal(c.got.length, 3);
    assert.equal(new Set(c.got.map((g) => g.delivery.message.callId)).size, 3, 'a leased call is not handed out again');
  });

  test(`${name} queue - an unsettled delivery is redelivered after the lease with deliveryCount 2`, async (t) => {
    const { message, c } = await deliverOne(t, 1);
    await waitFor(() => c.got.length === 2, { timeoutMs: lease * 10, message: 'redelivery' });
    assert.equal(c.got[1].delivery.message.callId, message.callId);
    assert.equal(c.got[0].delivery.deliveryCount, 1);
    assert.equal(c.got[1].delivery.deliveryCount, 2);
    assert.ok(c.got[1].at - c.got[0].at >= lease * 0.9, 'not redelivered before the lease ran out');
    await c.got[1].delivery.ack();
  });

  test(`${name} queue - extend() keeps the lease so the call is not redelivered`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    await queue.enqueue(makeMessage(qname));
    const c = collect(queue, qname, 1);
    t.after(() => c.close());
    const stop = keepAlive(c.got);
    t.after(stop);
    await waitFor(() => c.got.length === 1, { message: 'delivery' });
    await quietFor(lease * 3);
    stop();
    assert.equal(c.got.length, 1);
    await c.got[0].delivery.ack();
    await quietFor(lease * 2);
    assert.equal(c.got.length, 1);
  });

  test(`${name} queue - ack removes the call`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    await queue.enqueue(makeMessage(qname));
    const c = collect(queue, qname, 1, (d) => void d.ack());
    t.after(() => c.close());
    await waitFor(() => c.got.length === 1, { message: 'delivery' });
    await waitFor(async () => (await queue.stats()).find((s) => s.name === qname)?.depth === 0, { message: 'depth 0' });
    await quietFor(lease * 2);
    assert.equal(c.got.length, 1);
  });

  test(`${name} queue - retry(delay) redelivers after the delay, not before`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    await queue.enqueue(makeMessage(qname));
    let retriedAt = 0;
    const c = collect(queue, qname, 1, (d) => {
      if (d.deliveryCount === 1) {
        retriedAt = Date.now();
        void d.retry(600);
      } else void d.ack();
    });
    t.after(() => c.close());
    await waitFor(() => c.got.length === 2, { timeoutMs: 5000, message: 'redelivery after retry' });
    assert.equal(c.got[1].delivery.deliveryCount, 2);
    assert.ok(c.got[1].at - retriedAt >= 590, `redelivered after ${c.got[1].at - retriedAt}ms`);
  });

  test(`${name} queue - release() redelivers at once`, async (t) => {
    const queue = await open(t, { leaseMs: 5000 });
    const qname = newName('q');
    await queue.enqueue(makeMessage(qname));
    const c = collect(queue, qname, 1, (d) => {
      if (d.deliveryCount === 1) void d.release();
      else void d.ack();
    });
    t.after(() => c.close());
    await waitFor(() => c.got.length === 2, { timeoutMs: 2000, message: 'redelivery after release' });
    assert.ok(c.got[1].at - c.got[0].at < 2000);
  });

  test(`${name} queue - deadLetter moves the call to the dead-letter store and stops delivery`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const message = makeMessage(qname, { function: 'flaky' });
    await queue.enqueue(message);
    const c = collect(queue, qname, 1, (d) => void d.deadLetter({ status: 502, error: 'upstream died' }));
    t.after(() => c.close());
    await waitFor(async () => (await queue.listDeadLetters({ queue: qname })).length === 1, { message: 'dead letter listed' });
    const [dead] = await queue.listDeadLetters({ queue: qname });
    assert.equal(dead.callId, message.callId);
    assert.equal(dead.function, 'flaky');
    assert.equal(dead.lastStatus, 502);
    assert.equal(dead.lastError, 'upstream died');
    assert.equal(dead.message.body.toString(), message.body.toString());
    assert.equal((await queue.getDeadLetter(message.callId))?.callId, message.callId);
    assert.equal((await queue.listDeadLetters({ function: 'flaky', queue: qname })).length, 1);
    assert.equal((await queue.listDeadLetters({ function: 'other', queue: qname })).length, 0);
    await quietFor(lease * 2);
    assert.equal(c.got.length, 1);
  });

  test(`${name} queue - replay puts a dead letter back: delivered again, record queued with attempts 0`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const message = makeMessage(qname);
    await queue.enqueue(message);
    let isDead = true;
    const c = collect(queue, qname, 1, (d) => {
      if (isDead) void d.deadLetter({ status: 500 });
      else void d.ack();
    });
    t.after(() => c.close());
    await waitFor(async () => (await queue.getDeadLetter(message.callId)) !== undefined, { message: 'dead letter' });
    await queue.updateRecord(message.callId, { state: 'dead', attempts: 3, lastStatus: 500 });
    isDead = false;
    assert.equal(await queue.replayDeadLetters([message.callId]), 1);
    const record = await queue.getRecord(message.callId);
    assert.equal(record?.state, 'queued');
    assert.equal(record?.attempts, 0);
    await waitFor(() => c.got.length === 2, { message: 'delivered again' });
    assert.equal(c.got[1].delivery.message.callId, message.callId);
    assert.equal(await queue.getDeadLetter(message.callId), undefined);
    assert.equal(await queue.replayDeadLetters(['no-such-call']), 0);
  });

  test(`${name} queue - purge removes dead letters`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    for (let i = 0; i < 3; i++) await queue.enqueue(makeMessage(qname));
    const c = collect(queue, qname, 3, (d) => void d.deadLetter({ error: 'no' }));
    t.after(() => c.close());
    await waitFor(async () => (await queue.listDeadLetters({ queue: qname })).length === 3, { message: 'three dead letters' });
    const [one] = await queue.listDeadLetters({ queue: qname, limit: 1 });
    assert.equal(await queue.purgeDeadLetters([one.callId]), 1);
    assert.equal((await queue.listDeadLetters({ queue: qname })).length, 2);
    assert.equal(await queue.purgeDeadLetters(undefined, { queue: qname }), 2);
    assert.equal((await queue.listDeadLetters({ queue: qname })).length, 0);
  });

  test(`${name} queue - cancel of a queued call: never delivered, record cancelled, listener called`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const message = makeMessage(qname);
    await queue.enqueue(message);
    const heard: string[] = [];
    const off = queue.onCancel((id) => heard.push(id));
    t.after(off);
    const record = await queue.cancel(message.callId);
    assert.equal(record?.state, 'cancelled');
    assert.equal((await queue.getRecord(message.callId))?.state, 'cancelled');
    await waitFor(() => heard.includes(message.callId), { message: 'cancel listener' });
    const c = collect(queue, qname, 1, (d) => void d.ack());
    t.after(() => c.close());
    await quietFor(lease);
    assert.equal(c.got.length, 0);
    assert.equal(await queue.cancel('no-such-call'), undefined);
  });

  test(`${name} queue - cancel of a leased call tells the listeners`, async (t) => {
    const { queue, message, c } = await deliverOne(t, 1);
    const heard: string[] = [];
    const off = queue.onCancel((id) => heard.push(id));
    t.after(off);
    await queue.cancel(message.callId);
    await waitFor(() => heard.includes(message.callId), { message: 'cancel listener' });
    assert.equal((await queue.getRecord(message.callId))?.state, 'cancelled');
    await c.got[0].delivery.ack();
  });

  test(`${name} queue - updateRecord merges a patch and honours the state guard`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const message = makeMessage(qname);
    await queue.enqueue(message);
    const running = await queue.updateRecord(message.callId, { state: 'running', attempts: 1, startedAt: new Date().toISOString() }, { ifStateIn: ['queued', 'retrying'] });
    assert.equal(running?.state, 'running');
    assert.equal(running?.attempts, 1);
    assert.equal(running?.function, 'echo');
    const refused = await queue.updateRecord(message.callId, { state: 'running', attempts: 2 }, { ifStateIn: ['queued'] });
    assert.equal(refused, undefined);
    assert.equal((await queue.getRecord(message.callId))?.attempts, 1);
    const done = await queue.updateRecord(message.callId, { state: 'succeeded', lastStatus: 200, finishedAt: new Date().toISOString() });
    assert.equal(done?.state, 'succeeded');
    assert.equal((await queue.getRecord(message.callId))?.lastStatus, 200);
    assert.equal(await queue.updateRecord('no-such-call', { state: 'failed' }), undefined);
  });

  test(`${name} queue - a counted callback send is decided inside the write: two at once count two`, async (t) => {
    const queue = await open(t);
    const message = makeMessage(newName('q'));
    await queue.enqueue(message);
    await queue.updateRecord(message.callId, { state: 'succeeded', lastStatus: 200, finishedAt: new Date().toISOString(), callback: { url: 'http://127.0.0.1:9/cb', state: 'pending', attempts: 1 } });
    // Both resumptions read attempts 1 and would each have written 2.
    const owed = { url: 'http://127.0.0.1:9/cb', state: 'pending' as const, attempts: 2 };
    const [a, b] = await Promise.all([1, 2].map(() => queue.updateRecord(message.callId, { callback: owed }, { ifStateIn: ['succeeded'], countsCallbackSend: true })));
    assert.deepEqual([a?.callback?.attempts, b?.callback?.attempts].sort(), [2, 3], 'each write saw the other');
    assert.equal((await queue.getRecord(message.callId))?.callback?.attempts, 3);
    const refused = await queue.updateRecord(message.callId, { callback: owed }, { ifStateIn: ['queued'], countsCallbackSend: true });
    assert.equal(refused, undefined, 'the state guard still holds');
    assert.equal((await queue.getRecord(message.callId))?.callback?.attempts, 3);
  });

  test(`${name} queue - putResult and getResult keep status, headers and body`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const message = makeMessage(qname);
    await queue.enqueue(message);
    assert.equal(await queue.getResult(message.callId), undefined);
    const body = Buffer.from([0, 1, 2, 255, 10]);
    await queue.putResult(message.callId, { status: 201, headers: { 'content-type': 'application/octet-stream', 'set-cookie': ['a=1', 'b=2'] }, body, isTruncated: false });
    const result = await queue.getResult(message.callId);
    assert.equal(result?.status, 201);
    assert.deepEqual(result?.headers, { 'content-type': 'application/octet-stream', 'set-cookie': ['a=1', 'b=2'] });
    assert.ok(result && Buffer.isBuffer(result.body));
    assert.deepEqual(result?.body, body);
    assert.equal(result?.isTruncated, false);
  });

  test(`${name} queue - a running call's result survives its final update, and a cancel`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    const done = makeMessage(qname);
    const cancelled = makeMessage(qname);
    await queue.enqueue(done);
    await queue.enqueue(cancelled);
    const result = { status: 200, headers: { 'content-type': 'text/plain' }, body: Buffer.from('ok'), isTruncated: false };
    for (const m of [done, cancelled]) {
      assert.ok(await queue.updateRecord(m.callId, { state: 'running', attempts: 1 }, { ifStateIn: ['queued'] }));
      await queue.putResult(m.callId, result);
      assert.deepEqual((await queue.getResult(m.callId))?.body, result.body, 'readable while the call runs');
    }
    const final = await queue.updateRecord(done.callId, { state: 'succeeded', lastStatus: 200, hasResult: true }, { ifStateIn: ['running'] });
    assert.equal(final?.state, 'succeeded');
    assert.equal((await queue.getRecord(done.callId))?.hasResult, true);
    assert.deepEqual((await queue.getResult(done.callId))?.body, result.body);

    await queue.cancel(cancelled.callId);
    assert.equal(await queue.updateRecord(cancelled.callId, { state: 'succeeded', hasResult: true }, { ifStateIn: ['running'] }), undefined, 'the guard refuses a cancelled call');
    assert.equal((await queue.getRecord(cancelled.callId))?.state, 'cancelled');
    assert.deepEqual((await queue.getResult(cancelled.callId))?.body, result.body, 'the result is kept');
  });

  test(`${name} queue - enqueue beyond maxDepth fails with E_QUEUE_FULL and Retry-After`, async (t) => {
    const queue = await open(t, { maxDepth: 3 });
    const qname = newName('q');
    for (let i = 0; i < 3; i++) await queue.enqueue(makeMessage(qname));
    await assert.rejects(queue.enqueue(makeMessage(qname)), (err: unknown) => {
      assert.ok(isFaasqError(err, 'E_QUEUE_FULL'), `got ${String(err)}`);
      assert.equal(err.status, 429);
      assert.equal(err.headers['Retry-After'], '1');
      return true;
    });
    const c = collect(queue, qname, 1, (d) => void d.ack());
    t.after(() => c.close());
    await waitFor(() => c.got.length === 3, { message: 'three deliveries' });
    await waitFor(async () => (await queue.enqueue(makeMessage(qname))).isDuplicate === false, { message: 'room again after acks' });
  });

  test(`${name} queue - stats count depth, priorities, delayed, in-flight and dead letters`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    await queue.enqueue(makeMessage(qname, { priority: 5 }));
    await queue.enqueue(makeMessage(qname, { priority: 5 }));
    await queue.enqueue(makeMessage(qname, { priority: 1, notBefore: Date.now() + 60_000 }));
    const before = (await queue.stats()).find((s) => s.name === qname);
    assert.ok(before);
    assert.equal(before.depth, 3);
    // Backends may list empty priorities as 0; only the non-empty ones are compared.
    const nonEmpty = Object.fromEntries(Object.entries(before.depthByPriority).filter(([, n]) => n > 0));
    assert.deepEqual(nonEmpty, { 5: 2, 1: 1 });
    assert.equal(before.delayed, 1);
    assert.equal(before.inflight, 0);
    assert.equal(before.deadLetters, 0);
    assert.ok(before.oldestAgeMs >= 0);
    assert.ok((await queue.listQueues()).includes(qname));
    let isFirst = true;
    const c = collect(queue, qname, 2, (d) => {
      if (isFirst) void d.deadLetter({ status: 500 });
      isFirst = false;
    });
    t.after(() => c.close());
    const stop = keepAlive(c.got);
    t.after(stop);
    await waitFor(async () => {
      const s = (await queue.stats()).find((x) => x.name === qname);
      return s && s.deadLetters === 1 && s.inflight === 1 && s.depth === 2 && s.delayed === 1;
    }, { message: 'stats after one dead letter and one in flight' });
  });

  test(`${name} queue - queues are independent: a stuck queue does not block another`, async (t) => {
    const queue = await open(t);
    const stuck = newName('stuck');
    const free = newName('free');
    await queue.ensureQueue(stuck);
    await queue.ensureQueue(free);
    for (let i = 0; i < 3; i++) await queue.enqueue(makeMessage(stuck, { priority: 9 }));
    const s = collect(queue, stuck, 1);
    t.after(() => s.close());
    const stop = keepAlive(s.got);
    t.after(stop);
    await waitFor(() => s.got.length === 1, { message: 'stuck delivery' });
    for (let i = 0; i < 3; i++) await queue.enqueue(makeMessage(free));
    const f = collect(queue, free, 1, (d) => void d.ack());
    t.after(() => f.close());
    await waitFor(() => f.got.length === 3, { message: 'the free queue drains' });
    assert.equal(s.got.length, 1);
    assert.ok(f.got.every((g) => g.delivery.message.queue === free));
    const names = await queue.listQueues();
    assert.ok(names.includes(stuck) && names.includes(free));
  });

  test(`${name} queue - two consumers on one queue share the calls without double delivery`, async (t) => {
    const queue = await open(t, { leaseMs: 5000 });
    const qname = newName('q');
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const m = makeMessage(qname, { priority: i % 3 });
      ids.add(m.callId);
      await queue.enqueue(m);
    }
    // Acks come a little later, so leased calls are still around while more are handed out.
    const timers = new Set<NodeJS.Timeout>();
    t.after(() => timers.forEach((x) => clearTimeout(x)));
    const ackSoon = (d: Delivery): void => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void d.ack();
      }, 20);
      timers.add(timer);
    };
    const a = collect(queue, qname, 3, ackSoon);
    const b = collect(queue, qname, 3, ackSoon);
    t.after(() => a.close());
    t.after(() => b.close());
    await waitFor(() => a.got.length + b.got.length >= 20, { message: 'twenty deliveries' });
    await quietFor(lease);
    const seen = [...a.got, ...b.got].map((g) => g.delivery.message.callId);
    assert.equal(seen.length, 20);
    assert.deepEqual(new Set(seen), ids);
  });

  test(`${name} queue - a closed consumer gets no more deliveries`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    await queue.enqueue(makeMessage(qname));
    const c = collect(queue, qname, 5, (d) => void d.ack());
    await waitFor(() => c.got.length === 1, { message: 'first delivery' });
    await c.close();
    await queue.enqueue(makeMessage(qname));
    await quietFor(lease);
    assert.equal(c.got.length, 1);
    const other = collect(queue, qname, 5, (d) => void d.ack());
    t.after(() => other.close());
    await waitFor(() => other.got.length === 1, { message: 'a new consumer gets the call' });
  });

  test(`${name} queue - close() is idempotent and a closed queue refuses calls with E_QUEUE_UNAVAILABLE`, async (t) => {
    const queue = await open(t);
    const qname = newName('q');
    await queue.enqueue(makeMessage(qname));
    assert.equal(queue.isHealthy(), true);
    await queue.close();
    await queue.close();
    assert.equal(queue.isHealthy(), false);
    await assert.rejects(
      (async () => queue.enqueue(makeMessage(qname)))(),
      (err: unknown) => isFaasqError(err, 'E_QUEUE_UNAVAILABLE'),
    );
  });
}
