// The deferred `running` record (worker.runningRecordDelayMs), on the memory queue and on every
// durable backend (JetStream's first write of a generated id is a create-if-absent): a call that
// finishes within the delay goes from queued straight to its final record, which carries the
// attempt's fields; one that runs longer shows `running`; a cancel inside the delay still stops the
// call and wins the record; a redelivery writes `running` first.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CallRecord, RecordGuard } from '../../src/queue/index.js';
import { waitFor } from '../support/wait-for.js';
import { DURABLE_BACKENDS, type Backend } from './support/backends.js';
import { startHarness, type Harness } from './support/harness.js';

type Updatable = { updateRecord(callId: string, patch: Partial<CallRecord>, guard?: RecordGuard): Promise<CallRecord | undefined> };

const MEMORY: Backend = {
  name: 'memory',
  setup: async () => ({ flags: { 'queue.url': 'memory' }, dataDir: '/tmp/faasq-async-unused', teardown: async () => {} }),
};

/** Starts a harness on `backend` with the given delay; `runningWrites` lists the call ids of every `running` update. */
async function start(backend: Backend, delay: string): Promise<{ h: Harness; runningWrites: string[]; teardown: () => Promise<void> }> {
  const env = await backend.setup();
  const h = await startHarness({ ...env.flags, 'worker.runningRecordDelayMs': delay }, { dataDir: env.dataDir });
  const runningWrites: string[] = [];
  const queue = h.queue as Updatable;
  const original = queue.updateRecord.bind(h.queue);
  queue.updateRecord = async (callId, patch, guard) => {
    if (patch.state === 'running') runningWrites.push(callId);
    return original(callId, patch, guard);
  };
  return { h, runningWrites, teardown: async () => { await h.close(); await env.teardown(); } };
}

for (const backend of [MEMORY, ...DURABLE_BACKENDS]) {
  describe(`running record deferred by 1 s, on ${backend.name}`, { skip: backend.skip }, () => {
    let h: Harness;
    let runningWrites: string[] = [];
    let teardown = async (): Promise<void> => {};
    before(async () => {
      ({ h, runningWrites, teardown } = await start(backend, '1s'));
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
    after(() => teardown());

    test(`async worker on ${backend.name} - a call done within the delay writes no running record; its final record has the attempt, start time and max attempts`, async () => {
      const callId = (await h.submit('quick', { body: 'a' })).headers.get('x-call-id')!;
      const record = await h.waitForState(callId, ['succeeded'], 10_000);
      assert.deepEqual(runningWrites.filter((id) => id === callId), []);
      assert.equal(record.attempts, 1);
      assert.equal(record.maxAttempts, h.config.worker.retry.attempts);
      assert.ok(record.startedAt && record.finishedAt && record.startedAt <= record.finishedAt);
      assert.equal((await h.queue.getResult(callId))?.body.toString(), 'quick:a');
    });

    test(`async worker on ${backend.name} - a cancel inside the delay aborts the call and the record stays cancelled`, async () => {
      const callId = (await h.submit('hang')).headers.get('x-call-id')!;
      await waitFor(() => h.fns.count('hang', callId) === 1, { timeoutMs: 10_000, message: 'the function was called' });
      assert.equal((await h.queue.getRecord(callId))?.state, 'queued', 'no running record yet');
      const del = await fetch(`${h.url}/async-function/${callId}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      await waitFor(async () => (await h.queue.stats()).every((q) => q.inflight === 0), { timeoutMs: 10_000, message: 'delivery settled' });
      assert.equal((await h.queue.getRecord(callId))?.state, 'cancelled');
      assert.equal(h.fns.count('hang', callId), 1);
      assert.deepEqual(runningWrites.filter((id) => id === callId), []);
    });

    test(`async worker on ${backend.name} - a redelivery (here a retry) writes its running record before the call`, async () => {
      const callId = (await h.submit('flaky')).headers.get('x-call-id')!;
      const record = await h.waitForState(callId, ['succeeded'], 10_000);
      assert.equal(record.attempts, 2);
      assert.equal(h.fns.count('flaky', callId), 2);
      // The first attempt's fields went with its retrying record; only the redelivery wrote `running`.
      assert.deepEqual(runningWrites.filter((id) => id === callId), [callId]);
    });
  });
}

describe('running record deferred by 20 ms', () => {
  let h: Harness;
  let teardown = async (): Promise<void> => {};
  before(async () => {
    ({ h, teardown } = await start(MEMORY, '20ms'));
    h.deploy('slow');
    h.fns.handle('slow', (_req, res) => { setTimeout(() => res.end('done'), 400); });
    await h.startWorker();
  });
  after(() => teardown());

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
