// ConcurrencyLimiter as pure logic: slots, FIFO waiting, bounded queue, max wait, leaving callers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConcurrencyLimiter } from '../../src/gateway/index.js';
import { isFaasqError } from '../../src/shared/errors.js';

const settings = (maxConcurrent: number, maxWaiting = 10, maxWaitMs = 5000) => ({ maxConcurrent, maxWaiting, maxWaitMs });

describe('concurrency limiter', () => {
  test('limiter - zero means unlimited', () => {
    const l = new ConcurrencyLimiter(settings(0));
    for (let i = 0; i < 1000; i++) assert.equal(l.tryAcquire(), true);
    assert.equal(l.waiting, 0);
  });

  test('limiter - grants up to maxConcurrent slots at once', async () => {
    const l = new ConcurrencyLimiter(settings(2));
    await l.acquire();
    await l.acquire();
    assert.equal(l.active, 2);
    assert.equal(l.tryAcquire(), false);
  });

  test('limiter - waiters get slots in FIFO order as slots are released', async () => {
    const l = new ConcurrencyLimiter(settings(1));
    await l.acquire();
    const order: number[] = [];
    const a = l.acquire().then(() => order.push(1));
    const b = l.acquire().then(() => order.push(2));
    assert.equal(l.waiting, 2);
    l.release(10);
    await a;
    assert.deepEqual(order, [1]);
    assert.equal(l.active, 1);
    l.release(10);
    await b;
    assert.deepEqual(order, [1, 2]);
    l.release(10);
    assert.equal(l.active, 0);
    assert.equal(l.waiting, 0);
  });

  test('limiter - a new caller does not jump the queue', async () => {
    const l = new ConcurrencyLimiter(settings(1));
    await l.acquire();
    const waiter = l.acquire();
    l.release();
    assert.equal(l.tryAcquire(), false, 'the slot went to the waiter');
    await waiter;
    assert.equal(l.active, 1);
  });

  test('limiter - full wait queue rejects at once with E_CONCURRENCY_LIMIT and Retry-After', async () => {
    const l = new ConcurrencyLimiter(settings(1, 1));
    await l.acquire();
    const waiting = l.acquire();
    await assert.rejects(l.acquire(), (err: unknown) => {
      assert.ok(isFaasqError(err, 'E_CONCURRENCY_LIMIT'));
      assert.equal(err.status, 429);
      assert.ok(Number(err.headers['Retry-After']) >= 1);
      return true;
    });
    l.release();
    await waiting;
  });

  test('limiter - Retry-After grows with the average hold time', async () => {
    const l = new ConcurrencyLimiter(settings(1, 0));
    await l.acquire();
    l.release(4000);
    await l.acquire();
    await assert.rejects(l.acquire(), (err: unknown) => isFaasqError(err) && Number(err.headers['Retry-After']) === 4);
  });

  test('limiter - a caller waiting longer than maxWaitMs is rejected and leaves the queue', async () => {
    const l = new ConcurrencyLimiter(settings(1, 10, 50));
    await l.acquire();
    const started = Date.now();
    await assert.rejects(l.acquire(), (err: unknown) => isFaasqError(err, 'E_CONCURRENCY_LIMIT'));
    assert.ok(Date.now() - started >= 45);
    assert.equal(l.waiting, 0);
    l.release();
    assert.equal(l.active, 0, 'the released slot went to nobody');
  });

  test('limiter - an aborted waiter leaves the queue and never gets a slot', async () => {
    const l = new ConcurrencyLimiter(settings(1));
    await l.acquire();
    const controller = new AbortController();
    const gone = l.acquire(controller.signal);
    const next = l.acquire();
    controller.abort(new Error('client left'));
    await assert.rejects(gone, /client left/);
    assert.equal(l.waiting, 1);
    l.release();
    await next;
    assert.equal(l.active, 1);
    assert.equal(l.waiting, 0);
  });

  test('limiter - an already aborted signal is rejected without queueing', async () => {
    const l = new ConcurrencyLimiter(settings(1));
    await l.acquire();
    await assert.rejects(l.acquire(AbortSignal.abort(new Error('gone'))), /gone/);
    assert.equal(l.waiting, 0);
  });
});
