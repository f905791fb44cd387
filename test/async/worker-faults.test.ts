// The worker when the queue fails under it: a call whose `running` update throws (the backend was
// unreachable for a moment) must be let go, so its lease runs out and it is delivered again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CallRecord, RecordGuard } from '../../src/queue/index.js';
import { FaasqError } from '../../src/shared/index.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
before(async () => {
  h = await startHarness({ 'queue.leaseMs': '300ms' });
  h.deploy('echo');
  h.fns.handle('echo', (_req, res, body) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`echo:${body}`);
  });
});
after(() => h.close());

test('async worker - a call whose running update failed is delivered again after its lease and runs once', async () => {
  // Fault injection at the seam: the first `running` update fails as an unreachable backend would.
  const queue = h.queue as { updateRecord(callId: string, patch: Partial<CallRecord>, guard?: RecordGuard): Promise<CallRecord | undefined> };
  const original = queue.updateRecord.bind(h.queue);
  let failed = 0;
  queue.updateRecord = async (callId, patch, guard) => {
    if (patch.state === 'running' && failed === 0) {
      failed++;
      throw new FaasqError('E_QUEUE_UNAVAILABLE', 'injected: backend unreachable');
    }
    return original(callId, patch, guard);
  };
  await h.startWorker();
  const callId = (await h.submit('echo', { body: 'again' })).headers.get('x-call-id')!;
  const record = await h.waitForState(callId, ['succeeded'], 10_000);
  assert.equal(failed, 1, 'the injected failure happened');
  assert.equal(record.attempts, 1, 'the failed start was no attempt');
  assert.equal(h.fns.count('echo', callId), 1);
});
