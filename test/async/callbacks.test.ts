import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from './support/harness.js';
import { waitFor } from '../support/wait-for.js';
import type { CallRecord } from '../../src/queue/index.js';

async function callbackSettled(h: Harness, callId: string): Promise<NonNullable<CallRecord['callback']>> {
  const record = await waitFor(async () => {
    const r = await h.queue.getRecord(callId);
    return r?.callback && r.callback.state !== 'pending' ? r : undefined;
  }, { timeoutMs: 5000, message: `callback of ${callId} settled` });
  return record.callback!;
}

describe('async callbacks', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ 'worker.callback.attempts': 3, 'worker.callback.timeoutMs': '200ms' });
    h.deploy('fn');
    h.fns.handle('fn', (_req, res) => res.end('result'));
    await h.startWorker();
  });
  after(() => h.close());

  test('async callbacks - receiver answering 500 is retried until delivered', async () => {
    h.hooks.respondWith(500, 503);
    const callId = (await h.submit('fn', { headers: { 'x-callback-url': h.hooks.url } })).headers.get('x-call-id')!;
    const cb = await callbackSettled(h, callId);
    assert.equal(cb.state, 'delivered');
    assert.equal(cb.attempts, 3);
    assert.equal(cb.lastStatus, 200);
    assert.ok(cb.deliveredAt);
    const got = h.hooks.received.filter((r) => r.headers['x-call-id'] === callId);
    assert.equal(got.length, 3);
    assert.ok(got.every((r) => r.body.toString() === 'result'));
    // The call's own outcome was final before the callback finished.
    assert.equal((await h.queue.getRecord(callId))?.state, 'succeeded');
  });

  test('async callbacks - receiver always failing: outcome failed and recorded', async () => {
    h.hooks.respondWith(500, 500, 500);
    const callId = (await h.submit('fn', { headers: { 'x-callback-url': h.hooks.url } })).headers.get('x-call-id')!;
    const cb = await callbackSettled(h, callId);
    assert.equal(cb.state, 'failed');
    assert.equal(cb.attempts, 3);
    assert.equal(cb.lastStatus, 500);
  });

  test('async callbacks - slow receiver times out and is retried', async () => {
    h.hooks.delayNext(600, 1);
    const callId = (await h.submit('fn', { headers: { 'x-callback-url': h.hooks.url } })).headers.get('x-call-id')!;
    const cb = await callbackSettled(h, callId);
    assert.equal(cb.state, 'delivered');
    assert.equal(cb.attempts, 2);
  });

  test('async callbacks - receiver down: transport errors recorded', async () => {
    // Port 9 on loopback: nothing listens, the connection is refused.
    const callId = (await h.submit('fn', { headers: { 'x-callback-url': 'http://127.0.0.1:9/hook' } })).headers.get('x-call-id')!;
    const cb = await callbackSettled(h, callId);
    assert.equal(cb.state, 'failed');
    assert.equal(cb.attempts, 3);
    assert.equal(cb.lastStatus, undefined);
    assert.ok(cb.lastError);
  });
});
