// The worker when the queue fails under it. With the `running` record written before the call
// (delay 0), a call whose `running` update throws (the backend was unreachable for a moment) must be
// let go, so its lease runs out and it is delivered again. With the record deferred, a failed
// `running` write must not cost the call: its final record carries the attempt.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CallRecord, Delivery, Queue, RecordGuard } from '../../src/queue/index.js';
import { FaasqError } from '../../src/shared/index.js';
import { waitFor } from '../support/wait-for.js';
import { startHarness, type Harness } from './support/harness.js';

type Updatable = { updateRecord(callId: string, patch: Partial<CallRecord>, guard?: RecordGuard): Promise<CallRecord | undefined> };

/** Makes the queue's first `running` update throw as an unreachable backend would; returns how many did. */
function failFirstRunningUpdate(h: Harness): { readonly count: number } {
  const queue = h.queue as Updatable;
  const original = queue.updateRecord.bind(h.queue);
  const failures = { count: 0 };
  queue.updateRecord = async (callId, patch, guard) => {
    if (patch.state === 'running' && failures.count === 0) {
      failures.count++;
      throw new FaasqError('E_QUEUE_UNAVAILABLE', 'injected: backend unreachable');
    }
    return original(callId, patch, guard);
  };
  return failures;
}

/** Fault injection at the seam: every delivery the worker gets from the queue passes through `wrap` first. */
function wrapDeliveries(h: Harness, wrap: (delivery: Delivery) => Delivery): void {
  const queue = h.queue as { consume: Queue['consume'] };
  const original = queue.consume.bind(h.queue);
  queue.consume = (options, handler) => original(options, (delivery) => handler(wrap(delivery)));
}

/** A harness with a 2 s lease and an `echo` function answering `echo:<body>`. */
async function startEchoHarness(): Promise<Harness> {
  const h = await startHarness({ 'queue.leaseMs': '2s' });
  h.deploy('echo');
  h.fns.handle('echo', (_req, res, body) => res.end(`echo:${body}`));
  return h;
}

describe('running record written before the call (delay 0)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ 'queue.leaseMs': '300ms', 'worker.runningRecordDelayMs': 0 });
    h.deploy('echo');
    h.fns.handle('echo', (_req, res, body) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`echo:${body}`);
    });
  });
  after(() => h.close());

  test('async worker - a call whose running update failed is delivered again after its lease and runs once', async () => {
    const failures = failFirstRunningUpdate(h);
    await h.startWorker();
    const callId = (await h.submit('echo', { body: 'again' })).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['succeeded'], 10_000);
    assert.equal(failures.count, 1, 'the injected failure happened');
    assert.equal(record.attempts, 1, 'the failed start was no attempt');
    assert.equal(h.fns.count('echo', callId), 1);
  });
});

describe('running record deferred', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ 'queue.leaseMs': '2s', 'worker.runningRecordDelayMs': '30ms' });
    h.deploy('slow');
    h.fns.handle('slow', (_req, res, body) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`slow:${body}`);
      }, 300);
    });
  });
  after(() => h.close());

  test('async worker - a running write that fails mid-call does not cost the call: it runs once and its final record counts the attempt', async () => {
    const failures = failFirstRunningUpdate(h);
    await h.startWorker();
    const callId = (await h.submit('slow', { body: 'on' })).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['succeeded'], 10_000);
    assert.equal(failures.count, 1, 'the injected failure happened');
    assert.equal(record.attempts, 1);
    assert.equal(record.maxAttempts, h.config.worker.retry.attempts);
    assert.ok(record.startedAt, 'the final record carries startedAt');
    assert.equal(h.fns.count('slow', callId), 1);
  });
});

describe('delivery count not kept', () => {
  let h: Harness;
  before(async () => {
    h = await startEchoHarness();
  });
  after(() => h.close());

  test('async worker - a delivery whose count could not be kept is not run: the call runs on its next delivery, once', async () => {
    // Fault injection at the seam: the first delivery's count cannot be kept (the disk refused the write).
    const runsAtDelivery: number[] = [];
    wrapDeliveries(h, (delivery) => {
      const { callId } = delivery.message;
      const isFirst = runsAtDelivery.length === 0;
      runsAtDelivery.push(h.fns.count('echo', callId));
      return {
        ...delivery,
        countKept: async () => {
          if (isFirst) throw new FaasqError('E_QUEUE_UNAVAILABLE', 'injected: count not kept');
          return delivery.countKept();
        },
      };
    });
    await h.startWorker();
    const callId = (await h.submit('echo', { body: 'kept' })).headers.get('x-call-id')!;
    await h.waitForState(callId, ['succeeded'], 10_000);
    assert.deepEqual(runsAtDelivery, [0, 0], 'delivered again after the lease, not run before');
    assert.equal(h.fns.count('echo', callId), 1);
  });
});

describe('final write during a queue outage', () => {
  let h: Harness;
  before(async () => {
    h = await startEchoHarness();
  });
  after(() => h.close());

  test('async worker - a final write refused as unavailable is retried with the lease kept: the call runs once', async () => {
    // Fault injection at the seam: the first complete() of every delivery fails as in a NATS leader election.
    let refused = 0;
    wrapDeliveries(h, (delivery) => {
      const complete = delivery.complete.bind(delivery);
      let isFirst = true;
      return {
        ...delivery,
        message: delivery.message,
        deliveryCount: delivery.deliveryCount,
        complete: async (patch, result, guard) => {
          if (isFirst) {
            isFirst = false;
            refused++;
            throw new FaasqError('E_QUEUE_UNAVAILABLE', 'injected: leader election');
          }
          return complete(patch, result, guard);
        },
      };
    });
    await h.startWorker();
    const callId = (await h.submit('echo', { body: 'once' })).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['succeeded'], 10_000);
    assert.equal(refused, 1, 'the injected failure happened');
    assert.equal(record.attempts, 1);
    assert.equal(h.fns.count('echo', callId), 1, 'not run again');
    assert.equal((await h.queue.getResult(callId))?.body.toString(), 'echo:once');
  });
});

describe('final record of a call with a callback, answer lost', () => {
  let h: Harness;
  before(async () => {
    h = await startEchoHarness();
  });
  after(() => h.close());

  test('async worker - a final record written but reported unavailable is recognised on the retry: the callback goes out once and the call runs once', async () => {
    // Fault injection at the seam: the first final update is stored, then reported as failed, as a
    // write whose answer was lost in a NATS leader election.
    const queue = h.queue as Updatable;
    const original = queue.updateRecord.bind(h.queue);
    let lost = 0;
    queue.updateRecord = async (callId, patch, guard) => {
      const written = await original(callId, patch, guard);
      if (patch.state === 'succeeded' && lost === 0) {
        lost++;
        throw new FaasqError('E_QUEUE_UNAVAILABLE', 'injected: answer lost');
      }
      return written;
    };
    await h.startWorker();
    const callId = (await h.submit('echo', { body: 'cb', headers: { 'x-callback-url': h.hooks.url } })).headers.get('x-call-id')!;
    await waitFor(() => h.hooks.received.some((r) => r.headers['x-call-id'] === callId), { timeoutMs: 10_000, message: 'callback received' });
    const record = await h.waitForState(callId, ['succeeded'], 10_000);
    assert.equal(lost, 1, 'the injected failure happened');
    await waitFor(async () => (await h.queue.getRecord(callId))?.callback?.state === 'delivered', { timeoutMs: 5000, message: 'callback recorded as delivered' });
    assert.equal(record.attempts, 1);
    assert.equal(h.fns.count('echo', callId), 1, 'not run again');
    assert.equal(h.hooks.received.filter((r) => r.headers['x-call-id'] === callId).length, 1);
  });
});

describe('callback sent, its bookkeeping lost', () => {
  let h: Harness;
  before(async () => {
    h = await startEchoHarness();
  });
  after(() => h.close());

  test('async worker - a callback whose outcome could not be recorded is sent again only after the record counts the lost send: the record explains both copies', async () => {
    // Fault injection at the seam: the first callback bookkeeping write fails (the queue froze just
    // after the POST went out), so the delivery is handed back and the callback resumed.
    const queue = h.queue as Updatable;
    const original = queue.updateRecord.bind(h.queue);
    let lost = 0;
    queue.updateRecord = async (callId, patch, guard) => {
      if (patch.callback?.state === 'delivered' && lost === 0) {
        lost++;
        throw new FaasqError('E_QUEUE_UNAVAILABLE', 'injected: bookkeeping lost');
      }
      return original(callId, patch, guard);
    };
    await h.startWorker();
    const callId = (await h.submit('echo', { body: 'twice', headers: { 'x-callback-url': h.hooks.url } })).headers.get('x-call-id')!;
    const copies = (): number => h.hooks.received.filter((r) => r.headers['x-call-id'] === callId).length;
    const record = await waitFor(async () => {
      const r = await h.queue.getRecord(callId);
      return r?.callback?.state === 'delivered' ? r : undefined;
    }, { timeoutMs: 15_000, message: 'callback recorded as delivered' });
    assert.equal(lost, 1, 'the injected failure happened');
    assert.equal(copies(), 2, 'the receiver got the callback twice (at least once)');
    assert.ok(record.callback!.attempts >= copies(), `record counts ${record.callback!.attempts} sends for ${copies()} copies`);
    assert.equal(h.fns.count('echo', callId), 1, 'the function ran once');
  });
});
