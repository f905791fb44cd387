// An accept whose publish got no answer in FAASQ_ACCEPT_TIMEOUT is refused 504 with the call id
// (the call may be stored), and a retry with that X-Call-Id never runs the call twice: whether the
// first publish was stored before the retry (the record check finds it queued) or lands late,
// after the retry stored the call (the server drops it: same Nats-Msg-Id). A real nats-server
// behind a proxy that holds the call's publish back, as a frozen server would.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { natsSkipReason } from '../support/nats-server.js';
import type { NatsFaultProxy } from '../support/nats-fault-proxy.js';
import { waitFor } from '../support/wait-for.js';
import type { Harness } from '../async/support/harness.js';
import { startProxiedHarness, type ProxiedHarness } from './jetstream-support.js';

const CALL_PUBLISHES = /^faasq\.q\./;

describe('jetstream - an unconfirmed accept is refused with its call id, and a retry with it runs once', { skip: natsSkipReason() }, () => {
  let env: ProxiedHarness | undefined;
  let proxy: NatsFaultProxy;
  let h: Harness;

  before(async () => {
    env = await startProxiedHarness('faasq-unconfirmed-', { 'queue.acceptTimeoutMs': '2s' });
    ({ proxy, h } = env);
    h.deploy('echo');
    h.fns.handle('echo', (_req, res, body) => res.end(`echo:${body}`));
    await h.startWorker();
  });

  after(() => env?.close());

  /** An accept whose publish is held back: answered 504 with the call id once the accept timeout passes. */
  async function unconfirmedAccept(body: string): Promise<string> {
    const held = proxy.hold(CALL_PUBLISHES);
    const startedAt = Date.now();
    const res = await h.submit('echo', { body, headers: { 'x-callback-url': h.hooks.url, accept: 'application/json' } });
    const reply = (await res.json()) as { error: string; callId: string; isRetrySafeWithCallId: boolean; message: string };
    proxy.clear();
    assert.equal(res.status, 504);
    assert.ok(held.count >= 1, 'the publish was sent (and held)');
    assert.ok(Date.now() - startedAt >= 1900, 'the accept kept trying until its timeout');
    const callId = res.headers.get('x-call-id');
    assert.ok(callId, 'the refusal names the call');
    assert.equal(reply.error, 'E_ACCEPT_UNCONFIRMED');
    assert.equal(reply.callId, callId);
    assert.equal(reply.isRetrySafeWithCallId, true);
    assert.match(reply.message, new RegExp(`X-Call-Id: ${callId}`));
    assert.equal(res.headers.get('location'), `/async-function/${callId}`);
    return callId;
  }

  const runs = (callId: string): number => h.fns.count('echo', callId);
  const callbacks = (callId: string): number => h.hooks.received.filter((r) => r.headers['x-call-id'] === callId).length;

  /** The call ran and called back, and nothing more came for a while (a second run would by then). */
  async function ranOnce(callId: string): Promise<void> {
    await waitFor(() => callbacks(callId) >= 1, { timeoutMs: 20_000, message: `callback of ${callId}` });
    const quietUntil = Date.now() + 2000;
    await waitFor(() => Date.now() >= quietUntil || runs(callId) > 1 || callbacks(callId) > 1, { timeoutMs: 5000, intervalMs: 50 });
    assert.equal(runs(callId), 1, 'the function ran once');
    assert.equal(callbacks(callId), 1, 'one callback');
    assert.equal((await h.queue.getRecord(callId))?.state, 'succeeded');
  }

  test('jetstream - the first publish stored late, before the retry: the retry with the id is a duplicate (202 X-Duplicate) and the call runs once', { timeout: 60_000 }, async () => {
    const callId = await unconfirmedAccept('early');
    proxy.release();
    // The first publish is stored now; the retry finds it.
    await waitFor(() => runs(callId) >= 1, { timeoutMs: 20_000, message: 'the first publish ran' });
    const retry = await h.submit('echo', { body: 'early', headers: { 'x-call-id': callId, 'x-callback-url': h.hooks.url } });
    assert.equal(retry.status, 202);
    assert.equal(retry.headers.get('x-duplicate'), 'true');
    await ranOnce(callId);
  });

  test('jetstream - the first publish lands after the retry stored the call: the server drops it (same message id) and the call runs once', { timeout: 60_000 }, async () => {
    const callId = await unconfirmedAccept('late');
    const retry = await h.submit('echo', { body: 'late', headers: { 'x-call-id': callId, 'x-callback-url': h.hooks.url } });
    assert.equal(retry.status, 202);
    // The frozen publish thaws after the retry: it must not queue the call a second time.
    proxy.release();
    await ranOnce(callId);
  });
});
