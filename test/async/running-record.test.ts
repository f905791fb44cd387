// The deferred `running` record (worker.runningRecordDelayMs): a call that finishes within the delay
// goes from queued straight to its final record, which carries the attempt's fields; one that runs
// longer shows `running`; a cancel inside the delay still stops the call and wins the record.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CallRecord, RecordGuard } from '../../src/queue/index.js';
import { waitFor } from '../support/wait-for.js';
import { startHarness, type Harness } from './support/harness.js';

type Updatable = { updateRecord(callId: string, patch: Partial<CallRecord>, guard?: RecordGuard): Promise<CallRecord | undefined> };

describe('running record deferred by 1 s', () => {
  let h: Harness;
  const runningWrites: string[] = [];
  before(async () => {
    h = await startHarness({ 'worker.runningRecordDelayMs': '1s' });
    const queue = h.queue as Updatable;
    const original = queue.updateRecord.bind(h.queue);
    queue.updateRecord = async (callId, patch, guard) => {
      if (patch.state === 'running') runningWrites.push(callId);
      return original(callId, patch, guard);
    };
    h.deploy('quick');
    h.fns.handle('quick', (_req, res, body) => res.end(`quick:${body}`));
    h.deploy('hang');
    h.fns.handle('hang', () => {}); // never answers; the worker aborts it on cancel
    h.deploy('flaky');
    let flakyCalls = 0;
    h.fns.handle('flaky', (_req, res) => {
      res.statusCode = ++flakyCalls === 1 ? 503 : 200;
      res.end('flaky');
    });
    await h.startWorker();
  });
  after(() => h.close());

  test('async worker - a call done within the delay writes no running record; its final record has the attempt, start time and max attempts', async () => {
    const callId = (await h.submit('quick', { body: 'a' })).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['succeeded']);
    assert.deepEqual(runningWrites.filter((id) => id === callId), []);
    assert.equal(record.attempts, 1);
    assert.equal(record.maxAttempts, h.config.worker.retry.attempts);
    assert.ok(record.startedAt && record.finishedAt && record.startedAt <= record.finishedAt);
    assert.equal((await h.queue.getResult(callId))?.body.toString(), 'quick:a');
  });

  test('async worker - a cancel inside the delay aborts the call and the record stays cancelled', async () => {
    const callId = (await h.submit('hang')).headers.get('x-call-id')!;
    await waitFor(() => h.fns.count('hang', callId) === 1, { timeoutMs: 5000, message: 'the function was called' });
    assert.equal((await h.queue.getRecord(callId))?.state, 'queued', 'no running record yet');
    const del = await fetch(`${h.url}/async-function/${callId}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    await waitFor(async () => (await h.queue.stats()).every((q) => q.inflight === 0), { timeoutMs: 5000, message: 'delivery settled' });
    const record = await h.queue.getRecord(callId);
    assert.equal(record?.state, 'cancelled');
    assert.equal(h.fns.count('hang', callId), 1);
    assert.deepEqual(runningWrites.filter((id) => id === callId), []);
  });

  test('async worker - a redelivery (here a retry) writes its running record before the call', async () => {
    const callId = (await h.submit('flaky')).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['succeeded']);
    assert.equal(record.attempts, 2);
    assert.equal(h.fns.count('flaky', callId), 2);
    // The first attempt's fields went with its retrying record; only the redelivery wrote `running`.
    assert.deepEqual(runningWrites.filter((id) => id === callId), [callId]);
  });
});

describe('running record deferred by 20 ms', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ 'worker.runningRecordDelayMs': '20ms' });
    h.deploy('slow');
    h.fns.handle('slow', (_req, res) => { setTimeout(() => res.end('done'), 400); });
    await h.startWorker();
  });
  after(() => h.close());

  test('async worker - a call running past the delay shows running with its attempt, then its final record', async () => {
    const callId = (await h.submit('slow')).headers.get('x-call-id')!;
    const running = await h.waitForState(callId, ['running']);
    assert.equal(running.attempts, 1);
    assert.ok(running.startedAt);
    const final = await h.waitForState(callId, ['succeeded']);
    assert.equal(final.attempts, 1);
    assert.equal(final.startedAt, running.startedAt);
  });
});
