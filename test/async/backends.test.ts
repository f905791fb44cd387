// The worker's core flow on every durable backend (the other async tests use the memory queue):
// success with result, retry then success, dead letter with callback, cancel while running, and a
// call outliving its lease three times over that still runs once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../support/wait-for.js';
import { DURABLE_BACKENDS } from './support/backends.js';
import { ADMIN_AUTH, startHarness, type Harness } from './support/harness.js';

for (const backend of DURABLE_BACKENDS) {
  describe(`async on ${backend.name}`, { skip: backend.skip }, () => {
    let h: Harness;
    let teardown: () => Promise<void> = async () => {};
    before(async () => {
      const env = await backend.setup();
      teardown = env.teardown;
      h = await startHarness({ ...env.flags, 'queue.leaseMs': '1s' }, { dataDir: env.dataDir });
      h.deploy('ok');
      h.fns.handle('ok', (_req, res, body) => res.end(`got ${body}`));
      await h.startWorker();
    });
    after(async () => {
      await h?.close();
      await teardown();
    });

    test(`async ${backend.name} - call succeeds and its result is stored`, async () => {
      const callId = (await h.submit('ok', { body: 'x' })).headers.get('x-call-id')!;
      await h.waitForState(callId, ['succeeded'], 10_000);
      assert.equal(await (await fetch(`${h.url}/async-function/${callId}/result`)).text(), 'got x');
      assert.equal(h.fns.count('ok', callId), 1);
    });

    test(`async ${backend.name} - retried then succeeds`, async () => {
      h.deploy('flaky');
      const statuses = [503, 200];
      h.fns.handle('flaky', (_req, res) => { res.statusCode = statuses.shift() ?? 200; res.end(); });
      const callId = (await h.submit('flaky')).headers.get('x-call-id')!;
      const record = await h.waitForState(callId, ['succeeded'], 10_000);
      assert.equal(record.attempts, 2);
    });

    test(`async ${backend.name} - dead after the last attempt, dead letter kept, callback sent`, async () => {
      h.deploy('down');
      h.fns.handle('down', (_req, res) => { res.statusCode = 500; res.end('nope'); });
      const callbackUrl = `${h.hooks.url}?token=s3cret-token`;
      const callId = (await h.submit('down', { headers: { 'x-callback-url': callbackUrl } })).headers.get('x-call-id')!;
      const record = await h.waitForState(callId, ['dead'], 10_000);
      assert.equal(record.attempts, 3);
      // The record turns dead just before the message moves to the dead letters.
      const letter = await waitFor(() => h.queue.getDeadLetter(callId), { timeoutMs: 5000 });
      assert.equal(letter.lastStatus, 500);
      // Stored whole (a replay calls it back); the admin listing shows it as call records do.
      assert.equal(letter.message.callbackUrl, callbackUrl);
      const listing = await (await fetch(`${h.url}/system/queues/faas-request/dead-letters`, { headers: { authorization: ADMIN_AUTH } })).text();
      assert.ok(!listing.includes('s3cret-token'), 'the dead-letter listing shows the callback URL\'s query values');
      const shown = (JSON.parse(listing) as Array<{ callId: string; message: { callbackUrl?: string; headers: Record<string, string> } }>).find((l) => l.callId === callId);
      assert.equal(shown?.message.callbackUrl, `${h.hooks.url}?token=redacted`);
      assert.equal(shown?.message.headers['x-callback-url'], `${h.hooks.url}?token=redacted`);
      const cb = await waitFor(() => h.hooks.received.find((r) => r.headers['x-call-id'] === callId), { timeoutMs: 5000 });
      assert.equal(cb.headers['x-retry'], cb.headers['x-retry-max']);
    });

    test(`async ${backend.name} - cancel while running aborts and keeps the record cancelled`, async () => {
      h.deploy('hang');
      let closed = 0;
      h.fns.handle('hang', (req) => { req.socket.on('close', () => closed++); });
      const callId = (await h.submit('hang')).headers.get('x-call-id')!;
      await h.waitForState(callId, ['running'], 10_000);
      await waitFor(() => h.fns.count('hang', callId) === 1);
      assert.equal((await fetch(`${h.url}/async-function/${callId}`, { method: 'DELETE' })).status, 202);
      await waitFor(() => closed === 1, { timeoutMs: 5000, message: 'function connection closed' });
      await waitFor(async () => (await h.queue.stats()).every((s) => s.inflight === 0), { timeoutMs: 5000, message: 'nothing in flight' });
      assert.equal((await h.queue.getRecord(callId))?.state, 'cancelled');
      assert.equal(h.fns.count('hang', callId), 1);
    });

    test(`async ${backend.name} - a call running over 3x the lease runs once`, async () => {
      h.deploy('long');
      h.fns.handle('long', (_req, res) => { setTimeout(() => res.end('done'), 3500); });
      const callId = (await h.submit('long')).headers.get('x-call-id')!;
      const record = await h.waitForState(callId, ['succeeded'], 15_000);
      assert.equal(record.attempts, 1);
      assert.equal(h.fns.count('long', callId), 1);
    });
  });
}
