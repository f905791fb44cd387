// Sizes against the server's max_payload: a call that cannot fit in one NATS message is refused
// with E_BODY_TOO_LARGE (and leaves no record), while a result larger than max_payload is stored
// in chunks and comes back byte for byte. The server here runs with a small max_payload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFaasqError } from '../../src/shared/index.js';
import { makeMessage } from '../queue/contract.js';
import { natsSkipReason, startNatsServer } from '../support/nats-server.js';
import { makeJetStreamQueue } from './jetstream-support.js';

const skipReason = natsSkipReason();

test('jetstream queue - calls over max_payload get E_BODY_TOO_LARGE; big results are chunked', { skip: skipReason }, async (t) => {
  const server = await startNatsServer({ jetstream: true, maxPayload: '64KB' });
  const queue = makeJetStreamQueue(server.url);
  t.after(async () => {
    await queue.close();
    await server.close();
  });
  await queue.start();

  const big = makeMessage('sizes', { body: Buffer.alloc(80 * 1024, 7) });
  await assert.rejects(queue.enqueue(big), (err: unknown) => isFaasqError(err, 'E_BODY_TOO_LARGE'));
  assert.equal(await queue.getRecord(big.callId), undefined);

  const small = makeMessage('sizes', { body: Buffer.alloc(16 * 1024, 1) });
  await queue.enqueue(small);
  const body = Buffer.alloc(300 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31) % 251;
  await queue.putResult(small.callId, { status: 200, headers: { 'content-type': 'application/octet-stream' }, body, isTruncated: true });
  const result = await queue.getResult(small.callId);
  assert.equal(result?.status, 200);
  assert.equal(result?.isTruncated, true);
  assert.deepEqual(result?.headers, { 'content-type': 'application/octet-stream' });
  assert.ok(result && body.equals(result.body), 'body comes back byte for byte');
  assert.equal((await queue.getRecord(small.callId))?.hasResult, true);
});
