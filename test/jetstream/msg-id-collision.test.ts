// A caller cannot take the Nats-Msg-Id of one of faasq's own publishes. JetStream drops a second
// message with a msgID it saw in the last 2 minutes and answers it as a duplicate, which the
// publisher takes for stored. When the delay mover published a due call under "<id>.due.<seq>", a
// call accepted with X-Call-Id "<id>.due.<seq>" made the server drop the move: the delayed call
// was acked and never ran. faasq's derived msgIDs now carry a "~", which no X-Call-Id may hold.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { natsSkipReason } from '../support/nats-server.js';
import type { Harness } from '../async/support/harness.js';
import { startProxiedHarness, type ProxiedHarness } from './jetstream-support.js';
import { createNames } from '../../src/queue/jetstream/names.js';
import { DEFAULT_QUEUE } from '../../src/queue/index.js';

const STREAM = createNames().queueStream(DEFAULT_QUEUE);

describe('jetstream - a caller\'s call id cannot take the msgID of faasq\'s own publishes', { skip: natsSkipReason() }, () => {
  let env: ProxiedHarness | undefined;
  let h: Harness;
  let side: NatsConnection;

  before(async () => {
    // The proxy stays idle here (every frame passes as it is).
    env = await startProxiedHarness('faasq-msgid-');
    ({ h } = env);
    h.deploy('echo');
    h.fns.handle('echo', (_req, res, body) => res.end(`echo:${body}`));
    await h.startWorker();
    side = await connect({ servers: env.nats.url });
  });

  after(async () => {
    await side?.close();
    await env?.close();
  });

  test('jetstream - a call named "<id>.due.<seq>" does not make the delayed call <id> vanish', { timeout: 60_000 }, async () => {
    const delayed = await h.submit('echo', { body: 'victim', headers: { 'x-call-id': 'victim-1', 'x-delay': '2s' } });
    assert.equal(delayed.status, 202);
    // The delayed call is the queue stream's last message: the mover will publish it under a msgID
    // made from its id and this sequence.
    const jsm = await jetstreamManager(side);
    const seq = (await jsm.streams.info(STREAM)).state.last_seq;
    const squatter = await h.submit('echo', { body: 'squatter', headers: { 'x-call-id': `victim-1.due.${seq}` } });
    assert.equal(squatter.status, 202);
    const record = await h.waitForState('victim-1', ['succeeded'], 20_000);
    assert.equal(record.state, 'succeeded');
    assert.equal(h.fns.count('echo', 'victim-1'), 1);
    assert.equal((await h.waitForState(`victim-1.due.${seq}`, ['succeeded'], 20_000)).state, 'succeeded');
  });

  test('jetstream - "~" in X-Call-Id is refused (400), so no caller can hold a derived msgID', async () => {
    for (const id of ['victim-1~due~5', 'victim-1~replay~5', 'victim-1~2']) {
      const res = await h.submit('echo', { headers: { 'x-call-id': id } });
      await res.arrayBuffer();
      assert.equal(res.status, 400, id);
    }
  });
});
