// The JetStream backend's shortcuts on call records, seen from two processes (two queues on one
// server and prefix): a patch uses the revision this process last saw, so another process's write
// in between must make it re-read, not overwrite; a small result of a running call travels inside
// the final record update and is readable everywhere, and later patches keep it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Queue } from '../../src/queue/index.js';
import { makeMessage } from '../queue/contract.js';
import { natsSkipReason, startNatsServer } from '../support/nats-server.js';
import { makeJetStreamQueue, randomPrefix } from './jetstream-support.js';

const skipReason = natsSkipReason();

/** Two started queues on one fresh server and prefix, as two faasq processes see it; stopped after the test. */
async function twoProcesses(t: { after(fn: () => Promise<void>): void }): Promise<[Queue, Queue]> {
  const server = await startNatsServer({ jetstream: true });
  const prefix = randomPrefix();
  const first = makeJetStreamQueue(server.url, {}, prefix);
  const second = makeJetStreamQueue(server.url, {}, prefix);
  t.after(async () => {
    await Promise.all([first.close(), second.close()]);
    await server.close();
  });
  await Promise.all([first.start(), second.start()]);
  return [first, second];
}

test('jetstream records - a patch over a stale remembered revision re-reads, merges and honours the guard', { skip: skipReason }, async (t) => {
  const [a, b] = await twoProcesses(t);

  const message = makeMessage('records');
  await a.enqueue(message);
  const running = await a.updateRecord(message.callId, { state: 'running', attempts: 1 }, { ifStateIn: ['queued'] });
  assert.equal(running?.state, 'running');
  // Another process writes; a's remembered revision is now stale.
  await b.updateRecord(message.callId, { lastError: 'from b' });
  const merged = await a.updateRecord(message.callId, { lastStatus: 502 }, { ifStateIn: ['running'] });
  assert.equal(merged?.lastError, 'from b', "b's write is not lost");
  assert.equal(merged?.lastStatus, 502);
  // b cancels; a still remembers 'running', but its guarded patch must see 'cancelled' and refuse.
  await b.cancel(message.callId);
  assert.equal(await a.updateRecord(message.callId, { state: 'succeeded' }, { ifStateIn: ['running'] }), undefined);
  assert.equal((await b.getRecord(message.callId))?.state, 'cancelled');
});

test('jetstream records - a running call\'s result is written with its final record and kept by later patches', { skip: skipReason }, async (t) => {
  const [worker, reader] = await twoProcesses(t);

  const message = makeMessage('records', { callbackUrl: 'http://127.0.0.1:9/cb' });
  await worker.enqueue(message);
  await worker.updateRecord(message.callId, { state: 'running', attempts: 1 }, { ifStateIn: ['queued'] });
  const result = { status: 201, headers: { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] }, body: Buffer.from('small result'), isTruncated: false };
  await worker.putResult(message.callId, result);
  assert.deepEqual(await worker.getResult(message.callId), result, 'readable in the writing process at once');

  const final = await worker.updateRecord(message.callId, { state: 'succeeded', lastStatus: 201, hasResult: true }, { ifStateIn: ['running'] });
  assert.equal(final?.state, 'succeeded');
  const seen = await reader.getRecord(message.callId);
  assert.equal(seen?.state, 'succeeded');
  assert.equal(seen?.hasResult, true);
  assert.equal(seen?.callback?.state, 'pending');
  assert.ok(!('inlineResult' in (seen ?? {})), 'the record shape does not change');
  assert.deepEqual(await reader.getResult(message.callId), result);

  // Later patches (the callback outcome), from either process, keep the result.
  await worker.updateRecord(message.callId, { callback: { url: 'http://127.0.0.1:9/cb', state: 'delivered', attempts: 1 } });
  await reader.updateRecord(message.callId, { lastError: 'noted' });
  assert.deepEqual(await reader.getResult(message.callId), result);
  assert.deepEqual(await worker.getResult(message.callId), result);
  assert.equal((await reader.getRecord(message.callId))?.callback?.state, 'delivered');
});

test('jetstream records - a running call whose record was cancelled still gets its result stored', { skip: skipReason }, async (t) => {
  const [worker, gateway] = await twoProcesses(t);

  const message = makeMessage('records');
  await worker.enqueue(message);
  await worker.updateRecord(message.callId, { state: 'running', attempts: 1 }, { ifStateIn: ['queued'] });
  const result = { status: 200, headers: {}, body: Buffer.from('late'), isTruncated: false };
  await worker.putResult(message.callId, result);
  await gateway.cancel(message.callId);
  assert.equal(await worker.updateRecord(message.callId, { state: 'succeeded', hasResult: true }, { ifStateIn: ['running'] }), undefined);
  assert.deepEqual(await gateway.getResult(message.callId), result);
});
