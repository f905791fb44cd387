// A stream leader that keeps answering "duplicate, not stored" for a call's msgID (nats-server
// 2.10 does so for a cut-off leader's proposal until its 2-minute duplicate window passes) does not
// make a cluster with a quorum refuse the call: once the answer has lasted STUCK_DUPLICATE_MS, the
// accept writes the record, looks the call up in the stream, and publishes under a second msgID.
// The call is stored once and runs once, whether the first publish never reached the stream or
// reached it while its answer was lost. A real nats-server behind a proxy that diverts the call's
// publishes to a responder answering as that leader would.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { natsSkipReason } from '../support/nats-server.js';
import type { NatsFaultProxy } from '../support/nats-fault-proxy.js';
import { waitFor } from '../support/wait-for.js';
import type { Harness } from '../async/support/harness.js';
import { startProxiedHarness, type ProxiedHarness } from './jetstream-support.js';
import { STUCK_DUPLICATE_SUFFIX } from '../../src/queue/jetstream/enqueue-call.js';
import { createNames } from '../../src/queue/jetstream/names.js';
import { DEFAULT_QUEUE } from '../../src/queue/index.js';

const CALL_PUBLISHES = /^faasq\.q\./;
const STUCK_LEADER = 'fault.stuck-leader';
const names = createNames();
const STREAM = names.queueStream(DEFAULT_QUEUE);

describe('jetstream - a leader stuck on "duplicate, not stored" does not refuse the call', { skip: natsSkipReason() }, () => {
  let env: ProxiedHarness | undefined;
  let proxy: NatsFaultProxy;
  let h: Harness;
  let side: NatsConnection;

  before(async () => {
    env = await startProxiedHarness('faasq-stuck-duplicate-');
    ({ proxy, h } = env);
    h.deploy('echo');
    h.fns.handle('echo', (_req, res, body) => res.end(`echo:${body}`));
    await h.startWorker();
    // What nats-server 2.10's leader answers for a msgID it holds as proposed but never stored.
    side = await connect({ servers: env.nats.url });
    side.subscribe(STUCK_LEADER, { callback: (_err, msg) => { msg.respond(JSON.stringify({ stream: STREAM, seq: 0, duplicate: true })); } });
    await side.flush();
  });

  after(async () => {
    await side?.close();
    await env?.close();
  });

  const runs = (callId: string): number => h.fns.count('echo', callId);

  /** The queue stream's last sequence: a work queue drops what was acked, so stores are counted by it. */
  async function lastSeq(): Promise<number> {
    const jsm = await jetstreamManager(side);
    return (await jsm.streams.info(STREAM)).state.last_seq;
  }

  /** Accepts with the call's first msgID answered by the stuck leader; returns the call id. */
  async function acceptPastStuckLeader(options: { isFirstStored: boolean; callerId?: string }): Promise<{ callId: string; tookMs: number; diverted: number; seqBefore: number }> {
    const isFirstMsgId = (id: string): boolean => !id.endsWith(STUCK_DUPLICATE_SUFFIX);
    const seqBefore = await lastSeq();
    const stuck = proxy.divert(CALL_PUBLISHES, STUCK_LEADER, { msgId: isFirstMsgId, isAlsoStored: options.isFirstStored });
    const startedAt = Date.now();
    const headers: Record<string, string> = options.callerId ? { 'x-call-id': options.callerId } : {};
    const res = await h.submit('echo', { body: 'stuck', headers });
    const tookMs = Date.now() - startedAt;
    proxy.clear();
    await res.arrayBuffer();
    assert.equal(res.status, 202, 'accepted while the cluster kept its quorum');
    const callId = res.headers.get('x-call-id');
    assert.ok(callId);
    return { callId, tookMs, diverted: stuck.count, seqBefore };
  }

  async function ranOnce(callId: string, seqBefore: number): Promise<void> {
    await waitFor(async () => (await h.queue.getRecord(callId))?.state === 'succeeded', { timeoutMs: 20_000, message: `${callId} succeeded` });
    // A second stored copy would be delivered at once; give it time to show.
    const quietUntil = Date.now() + 1500;
    await waitFor(() => Date.now() >= quietUntil || runs(callId) > 1, { timeoutMs: 5000, intervalMs: 50 });
    assert.equal(runs(callId), 1, 'the function ran once');
    assert.equal(await lastSeq() - seqBefore, 1, 'the stream stored the call once');
  }

  test('jetstream - the first publish never stored: after the stuck answer lasts, a second msgID stores the call once (202), and it runs once', { timeout: 60_000 }, async () => {
    const { callId, tookMs, diverted, seqBefore } = await acceptPastStuckLeader({ isFirstStored: false });
    assert.ok(diverted >= 2, `the first msgID was tried again before giving up on it (${diverted})`);
    assert.ok(tookMs >= 3500, `not before the stuck answer lasted (${tookMs} ms)`);
    assert.ok(tookMs < 15_000, `within the accept timeout (${tookMs} ms)`);
    await ranOnce(callId, seqBefore);
    assert.equal((await h.queue.getRecord(callId))?.attempts, 1);
  });

  test('jetstream - the first publish stored, its answers lost: the lookup finds it, nothing is published again, and it runs once', { timeout: 60_000 }, async () => {
    const { callId, seqBefore } = await acceptPastStuckLeader({ isFirstStored: true });
    await ranOnce(callId, seqBefore);
  });

  test('jetstream - a caller\'s X-Call-Id past a stuck leader: stored once (202), runs once', { timeout: 60_000 }, async () => {
    const { callId, seqBefore } = await acceptPastStuckLeader({ isFirstStored: false, callerId: 'stuck-caller-1' });
    assert.equal(callId, 'stuck-caller-1');
    await ranOnce(callId, seqBefore);
  });
});
