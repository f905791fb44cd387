import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startHarness } from './support/harness.js';
import { waitFor } from '../support/wait-for.js';

describe('async worker lifecycle', () => {
  test('async lifecycle - a call running 3x the lease runs once (lease extended)', async () => {
    const h = await startHarness({ 'queue.leaseMs': '200ms' });
    try {
      h.deploy('long');
      h.fns.handle('long', (_req, res) => { setTimeout(() => res.end('done'), 800); });
      await h.startWorker();
      const callId = (await h.submit('long')).headers.get('x-call-id')!;
      const record = await h.waitForState(callId, ['succeeded']);
      assert.equal(record.attempts, 1);
      assert.equal(h.fns.count('long', callId), 1);
    } finally {
      await h.close();
    }
  });

  test('async lifecycle - cancel a queued call: it never runs', async () => {
    const h = await startHarness();
    try {
      h.deploy('later');
      h.fns.handle('later', (_req, res) => res.end('ran'));
      await h.startWorker();
      const callId = (await h.submit('later', { headers: { 'x-delay': '400ms' } })).headers.get('x-call-id')!;
      const del = await fetch(`${h.url}/async-function/${callId}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      // A later call on the same queue runs, so the worker had every chance to run the cancelled one.
      const next = (await h.submit('later', { headers: { 'x-delay': '500ms' } })).headers.get('x-call-id')!;
      await h.waitForState(next, ['succeeded']);
      assert.equal(h.fns.count('later', callId), 0);
      assert.equal((await h.queue.getRecord(callId))?.state, 'cancelled');
    } finally {
      await h.close();
    }
  });

  test('async lifecycle - cancel a running call: invocation aborted, record stays cancelled, delivery acked', async () => {
    const h = await startHarness();
    try {
      h.deploy('hang');
      let aborted = 0;
      h.fns.handle('hang', (req) => { req.socket.on('close', () => aborted++); });
      const cancelled: string[] = [];
      h.events.on('call.cancelled', (e) => cancelled.push(e.callId));
      await h.startWorker();
      const callId = (await h.submit('hang')).headers.get('x-call-id')!;
      await h.waitForState(callId, ['running']);
      await waitFor(() => h.fns.count('hang', callId) === 1);
      const del = await fetch(`${h.url}/async-function/${callId}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      await waitFor(() => aborted === 1, { message: 'function connection closed' });
      await waitFor(() => cancelled.includes(callId), { message: 'call.cancelled emitted' });
      const stats = await waitFor(async () => {
        const s = (await h.queue.stats()).find((q) => q.name === 'faas-request');
        return s && s.inflight === 0 && s.depth === 0 ? s : undefined;
      }, { message: 'delivery settled' });
      assert.equal(stats.deadLetters, 0);
      assert.equal((await h.queue.getRecord(callId))?.state, 'cancelled');
      assert.equal(h.fns.count('hang', callId), 1);
    } finally {
      await h.close();
    }
  });

  test('async lifecycle - shutdown lets short calls finish within the grace period', async () => {
    const h = await startHarness({ 'worker.shutdownGraceMs': '3s' });
    try {
      h.deploy('short');
      h.fns.handle('short', (_req, res) => { setTimeout(() => res.end('ok'), 200); });
      const worker = await h.startWorker();
      const callId = (await h.submit('short')).headers.get('x-call-id')!;
      await h.waitForState(callId, ['running']);
      await worker.close();
      assert.equal((await h.queue.getRecord(callId))?.state, 'succeeded');
    } finally {
      await h.close();
    }
  });

  test('async lifecycle - shutdown hands long calls back for immediate redelivery', async () => {
    const h = await startHarness({ 'worker.shutdownGraceMs': '200ms', 'queue.leaseMs': '30s' });
    try {
      h.deploy('slow');
      let isSlow = true;
      h.fns.handle('slow', (_req, res) => {
        if (isSlow) return; // hangs until the worker gives up on it
        res.end('second run');
      });
      const first = await h.startWorker();
      const callId = (await h.submit('slow')).headers.get('x-call-id')!;
      await h.waitForState(callId, ['running']);
      const t0 = Date.now();
      await first.close();
      assert.ok(Date.now() - t0 < 2000, `close took ${Date.now() - t0}ms`);
      const handedBack = await h.queue.getRecord(callId);
      // The function was stopped mid-run: its attempt stays counted, as one of unknown outcome.
      assert.equal(handedBack?.state, 'queued');
      assert.equal(handedBack?.attempts, 1);
      assert.deepEqual(handedBack?.unknownAttempts, [1]);
      isSlow = false;
      const t1 = Date.now();
      await h.startWorker();
      const record = await h.waitForState(callId, ['succeeded'], 3000);
      // Released, not left to the 30 s lease.
      assert.ok(Date.now() - t1 < 3000);
      // Two runs, two attempts: the record explains the second run.
      assert.equal(record.attempts, 2);
      assert.deepEqual(record.unknownAttempts, [1]);
      assert.equal(h.fns.count('slow', callId), 2);
    } finally {
      await h.close();
    }
  });

  test('async lifecycle - close is idempotent', async () => {
    const h = await startHarness();
    try {
      const worker = await h.startWorker();
      await Promise.all([worker.close(), worker.close()]);
      await worker.close();
    } finally {
      await h.close();
    }
  });
});
