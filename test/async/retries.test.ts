import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ADMIN_AUTH, startHarness, type Harness } from './support/harness.js';
import { waitFor } from '../support/wait-for.js';

interface DeadLetterJson {
  callId: string;
  lastStatus: number;
  message: { body: string; callbackUrl?: string; headers: Record<string, string> };
}

describe('async retries and dead letters', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ 'worker.retry.attempts': 3, 'worker.callback.secret': 'cb-secret' });
    await h.startWorker();
  });
  after(() => h.close());

  test('async retries - retried on configured codes, same call id each time, then succeeds', async () => {
    h.deploy('flaky');
    const statuses = [500, 503, 200];
    h.fns.handle('flaky', (_req, res) => { res.statusCode = statuses.shift() ?? 200; res.end('answer'); });
    const callId = (await h.submit('flaky')).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['succeeded']);
    assert.equal(record.attempts, 3);
    const seen = h.fns.seen.filter((s) => s.fn === 'flaky');
    assert.equal(seen.length, 3);
    assert.ok(seen.every((s) => s.headers['x-call-id'] === callId));
  });

  test('async retries - per-function codes and attempts from annotations', async () => {
    h.deploy('teapot', { 'com.openfaas.retry.codes': '418', 'com.openfaas.retry.attempts': '2', 'com.openfaas.retry.min_wait': '10ms' });
    h.fns.handle('teapot', (_req, res) => { res.statusCode = 418; res.end(); });
    const callId = (await h.submit('teapot')).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['dead']);
    assert.equal(record.attempts, 2);
    assert.equal(record.maxAttempts, 2);
    assert.equal(h.fns.count('teapot', callId), 2);
  });

  test('async retries - Retry-After on 429 sets the wait (capped at max wait)', async () => {
    h.deploy('throttled', { 'com.openfaas.retry.max_wait': '5s' });
    let n = 0;
    h.fns.handle('throttled', (_req, res) => {
      n++;
      if (n === 1) { res.writeHead(429, { 'retry-after': '1' }); res.end(); return; }
      res.end('ok');
    });
    const callId = (await h.submit('throttled')).headers.get('x-call-id')!;
    const retrying = await h.waitForState(callId, ['retrying', 'succeeded']);
    assert.equal(retrying.state, 'retrying');
    await h.waitForState(callId, ['succeeded']);
    const [first, second] = h.fns.seen.filter((s) => s.fn === 'throttled');
    const gap = second.at - first.at;
    assert.ok(gap >= 900 && gap < 3000, `retry gap ${gap}ms`);
  });

  test('async retries - transport errors (connection cut mid-response) are retried', async () => {
    h.deploy('cutoff');
    let n = 0;
    h.fns.handle('cutoff', (_req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setImmediate(() => res.socket?.destroy());
        return;
      }
      res.end('whole');
    });
    const callId = (await h.submit('cutoff')).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['succeeded']);
    assert.equal(record.attempts, 2);
    assert.equal(await (await fetch(`${h.url}/async-function/${callId}/result`)).text(), 'whole');
  });

  test('async retries - dead after the last attempt; callback has X-Retry == X-Retry-Max; dead letter replayable', async () => {
    h.deploy('broken');
    h.fns.handle('broken', (_req, res) => { res.writeHead(502, { 'x-why': 'upstream' }); res.end('bad gateway'); });
    // A callback URL with a secret in its query: dead-letter listings show it redacted, replay uses it whole.
    const callbackUrl = `${h.hooks.url}/hook/doomed?token=s3cret-token&n=1`;
    const res = await h.submit('broken', { headers: { 'x-callback-url': callbackUrl, 'x-call-id': 'doomed' } });
    assert.equal(res.status, 202);
    const record = await h.waitForState('doomed', ['dead']);
    assert.equal(record.attempts, 3);
    assert.equal(record.lastStatus, 502);
    const cb = await waitFor(() => h.hooks.received.find((r) => r.headers['x-call-id'] === 'doomed'));
    assert.equal(cb.headers['x-function-status'], '502');
    assert.equal(cb.headers['x-retry'], '2');
    assert.equal(cb.headers['x-retry-max'], '2');
    assert.equal(cb.headers['x-function-name'], 'broken');
    assert.equal(cb.headers['x-why'], 'upstream');
    assert.equal(cb.body.toString(), 'bad gateway');

    const listing = await (await fetch(`${h.url}/system/queues/faas-request/dead-letters`, { headers: { authorization: ADMIN_AUTH } })).text();
    const letters = JSON.parse(listing) as DeadLetterJson[];
    const letter = letters.find((l) => l.callId === 'doomed');
    assert.equal(letter?.lastStatus, 502);
    const one = await fetch(`${h.url}/system/dead-letters/doomed`, { headers: { authorization: ADMIN_AUTH } });
    assert.equal(one.status, 200);
    const oneText = await one.text();
    const redacted = `${h.hooks.url}/hook/doomed?token=redacted&n=redacted`;
    const views: Array<[string, string, DeadLetterJson | undefined]> = [['listing', listing, letter], ['one', oneText, JSON.parse(oneText) as DeadLetterJson]];
    for (const [what, text, shown] of views) {
      assert.ok(!text.includes('s3cret-token'), `the ${what} shows the callback URL's query values`);
      assert.ok(shown);
      assert.equal(shown.message.callbackUrl, redacted);
      assert.equal(shown.message.headers['x-callback-url'], redacted);
    }
    // The stored letter keeps the whole URL.
    assert.equal((await h.queue.getDeadLetter('doomed'))?.message.callbackUrl, callbackUrl);
    const beforeReplay = h.hooks.received.length;

    h.fns.handle('broken', (_req, res) => res.end('fixed'));
    const replay = await fetch(`${h.url}/system/queues/faas-request/dead-letters/replay`, {
      method: 'POST', headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ callIds: ['doomed'] }),
    });
    assert.equal(replay.status, 200);
    assert.deepEqual(await replay.json(), { replayed: 1 });
    const after = await h.waitForState('doomed', ['succeeded']);
    assert.equal(after.attempts, 1);
    const replayed = await waitFor(() => h.hooks.received.slice(beforeReplay).find((r) => r.headers['x-call-id'] === 'doomed'));
    const whole = new URL(callbackUrl);
    assert.equal(replayed.path, whole.pathname + whole.search, 'the replayed call calls back the whole URL');
  });

  test('async retries - dead letters can be purged', async () => {
    h.deploy('gone', { 'com.openfaas.retry.attempts': '1' });
    h.fns.handle('gone', (_req, res) => { res.statusCode = 500; res.end(); });
    const callId = (await h.submit('gone')).headers.get('x-call-id')!;
    await h.waitForState(callId, ['dead']);
    await waitFor(() => h.queue.getDeadLetter(callId), { message: 'dead letter stored' });
    const purge = await fetch(`${h.url}/system/queues/faas-request/dead-letters`, {
      method: 'DELETE', headers: { authorization: ADMIN_AUTH }, body: JSON.stringify({ callIds: [callId] }),
    });
    assert.deepEqual(await purge.json(), { purged: 1 });
    assert.equal((await fetch(`${h.url}/system/dead-letters/${callId}`, { headers: { authorization: ADMIN_AUTH } })).status, 404);
    const bad = await fetch(`${h.url}/system/queues/faas-request/dead-letters`, { method: 'DELETE', headers: { authorization: ADMIN_AUTH }, body: '{"callIds": 3}' });
    assert.equal(bad.status, 400);
  });

  test('async retries - successful callback is signed and verifies', async () => {
    h.deploy('signed');
    h.fns.handle('signed', (_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); });
    const callId = (await h.submit('signed', { headers: { 'x-callback-url': h.hooks.url } })).headers.get('x-call-id')!;
    const cb = await waitFor(() => h.hooks.received.find((r) => r.headers['x-call-id'] === callId));
    const expected = `sha256=${createHmac('sha256', 'cb-secret').update(cb.body).digest('hex')}`;
    assert.equal(cb.headers['x-faasq-signature'], expected);
    assert.match(String(cb.headers['x-faasq-timestamp']), /^\d{10}$/);
    assert.equal(cb.headers['x-function-status'], '200');
    assert.equal(cb.headers['x-retry'], '0');
    assert.equal(cb.headers['x-retry-max'], '2');
    assert.match(String(cb.headers['x-duration-seconds']), /^\d+\.\d{6}$/);
    assert.match(String(cb.headers['user-agent']), /^faasq-worker\//);
    assert.equal(cb.headers['content-type'], 'application/json');
    assert.equal(cb.body.toString(), '{"ok":true}');
    const record = await waitFor(async () => {
      const r = await h.queue.getRecord(callId);
      return r?.callback?.state === 'delivered' ? r : undefined;
    });
    assert.equal(record.callback?.attempts, 1);
    assert.equal(record.callback?.lastStatus, 200);
  });
});

describe('async max age', () => {
  test('async retries - a call past its max age before it started goes dead without running; callback told', async () => {
    const h = await startHarness();
    try {
      h.deploy('aged');
      h.fns.handle('aged', (_req, res) => res.end('ran'));
      const res = await h.submit('aged', { headers: { 'x-max-age': '1ms', 'x-callback-url': h.hooks.url } });
      const fresh = await h.submit('aged', { headers: { 'x-max-age': '1h' } });
      const callId = res.headers.get('x-call-id')!;
      const t = Date.now();
      await waitFor(() => Date.now() - t > 5);
      await h.startWorker();
      const record = await h.waitForState(callId, ['dead', 'succeeded']);
      assert.equal(record.state, 'dead');
      assert.equal(record.attempts, 0);
      assert.equal(h.fns.count('aged', callId), 0);
      await h.waitForState(fresh.headers.get('x-call-id')!, ['succeeded']);
      const cb = await waitFor(() => h.hooks.received.find((r) => r.headers['x-call-id'] === callId));
      assert.equal(cb.headers['x-faasq-dead-reason'], 'max_age');
      assert.equal(cb.headers['x-retry'], '2');
      assert.equal(cb.headers['x-retry-max'], '2');
      await waitFor(() => h.queue.getDeadLetter(callId), { message: 'dead letter stored' });
    } finally {
      await h.close();
    }
  });
});
