// Callback URLs in open answers and at send time (issue 20 items 5 and 9): a call record shows the
// callback URL with its query values redacted, and the worker checks the addresses a callback host
// resolves to against the deny list, so a name cannot lead it where a literal address may not.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from './support/harness.js';
import { waitFor } from '../support/wait-for.js';
import type { CallRecord } from '../../src/queue/index.js';
import { redactUrl } from '../../src/shared/index.js';

async function callbackSettled(h: Harness, callId: string): Promise<CallRecord> {
  return waitFor(async () => {
    const r = await h.queue.getRecord(callId);
    return r?.callback && r.callback.state !== 'pending' ? r : undefined;
  }, { timeoutMs: 5000, message: `callback of ${callId} settled` });
}

describe('callback secrets', () => {
  test('redactUrl - no user information, every query value replaced, no fragment', () => {
    assert.equal(redactUrl('http://user:PASS@host:81/cb/x?token=T&a=1&a=2#frag'), 'http://host:81/cb/x?token=redacted&a=redacted&a=redacted');
    assert.equal(redactUrl('https://host/cb'), 'https://host/cb');
    assert.equal(redactUrl('not a url'), '[invalid url]');
  });

  describe('records', () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ 'worker.callback.attempts': 1 });
      h.deploy('fn');
      h.fns.handle('fn', (_req, res) => res.end('result'));
      await h.startWorker();
    });
    after(() => h.close());

    test('call record - the callback URL is shown with its query values redacted; the receiver gets it whole', async () => {
      const url = `${h.hooks.url}?token=T0P-SECRET&id=7`;
      const callId = (await h.submit('fn', { headers: { 'x-callback-url': url } })).headers.get('x-call-id')!;
      await callbackSettled(h, callId);
      assert.equal(h.hooks.received.at(-1)?.path, '/hook?token=T0P-SECRET&id=7');
      const res = await fetch(`${h.url}/async-function/${callId}`);
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(!text.includes('T0P-SECRET'), text);
      const record = JSON.parse(text) as CallRecord;
      assert.equal(record.callback?.url, `${h.hooks.url}?token=redacted&id=redacted`);
      assert.equal(record.callback?.state, 'delivered');
    });
  });

  describe('send time', () => {
    let h: Harness;
    before(async () => {
      // Loopback denied: the receiver runs on 127.0.0.1, reached by the name "localhost".
      h = await startHarness({ 'worker.callback.attempts': 1, 'gateway.callbackDenyList': '127.0.0.0/8,::1/128' });
      h.deploy('fn');
      h.fns.handle('fn', (_req, res) => res.end('result'));
      await h.startWorker();
    });
    after(() => h.close());

    test('callback - a name that resolves to a denied address is accepted, then refused when sent', async () => {
      const literal = await h.submit('fn', { headers: { 'x-callback-url': h.hooks.url } });
      assert.equal(literal.status, 400, 'the literal address is refused at accept');
      const byName = h.hooks.url.replace('127.0.0.1', 'localhost');
      const res = await h.submit('fn', { headers: { 'x-callback-url': byName } });
      assert.equal(res.status, 202);
      const record = await callbackSettled(h, res.headers.get('x-call-id')!);
      assert.equal(record.callback?.state, 'failed');
      assert.match(record.callback?.lastError ?? '', /denies|denied/);
      assert.equal(h.hooks.received.length, 0, 'nothing reached the denied address');
    });
  });
});
