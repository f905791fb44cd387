import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADMIN_AUTH, startHarness, type Harness } from './support/harness.js';

describe('async accept', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ 'gateway.maxAsyncBodyBytes': 64 });
    h.deploy('echo');
    h.deploy('dedicated', { 'com.openfaas.queue': 'slow-lane', 'com.faasq.priority': '7' });
  });
  after(() => h.close());

  test('async accept - 202 with call id, start time and Location; record queued', async () => {
    const res = await h.submit('echo', { path: '/sub/path?x=1', body: 'hi', headers: { 'content-type': 'text/plain', 'x-custom': 'v' } });
    assert.equal(res.status, 202);
    assert.equal(await res.text(), '');
    const callId = res.headers.get('x-call-id')!;
    assert.match(callId, /^[0-9a-f-]{36}$/);
    assert.match(res.headers.get('x-start-time')!, /^\d{19}$/);
    assert.equal(res.headers.get('location'), `/async-function/${callId}`);
    const rec = await fetch(`${h.url}/async-function/${callId}`);
    assert.equal(rec.status, 200);
    const record = await rec.json() as Record<string, unknown>;
    assert.equal(record.state, 'queued');
    assert.equal(record.function, 'echo');
    assert.equal(record.queue, 'faas-request');
    const stats = await (await fetch(`${h.url}/system/queues/faas-request`, { headers: { authorization: ADMIN_AUTH } })).json() as { depth: number };
    assert.ok(stats.depth >= 1);
  });

  test('async accept - caller call id kept; resubmit is a duplicate with the same answer', async () => {
    const headers = { 'x-call-id': 'order-42:v1' };
    const first = await h.submit('echo', { headers });
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('x-call-id'), 'order-42:v1');
    assert.equal(first.headers.get('x-duplicate'), null);
    const second = await h.submit('echo', { headers });
    assert.equal(second.status, 202);
    assert.equal(second.headers.get('x-call-id'), 'order-42:v1');
    assert.equal(second.headers.get('x-duplicate'), 'true');
    assert.equal(second.headers.get('location'), '/async-function/order-42:v1');
  });

  test('async accept - a call id already used by another function is 409 naming that function', async () => {
    const headers = { 'x-call-id': 'shared-id-1', accept: 'application/json' };
    assert.equal((await h.submit('echo', { headers })).status, 202);
    const other = await h.submit('dedicated', { headers });
    assert.equal(other.status, 409);
    assert.equal(other.headers.get('x-duplicate'), null);
    const body = await other.json() as { error: string; message: string; function: string };
    assert.equal(body.error, 'E_CONFLICT');
    assert.equal(body.function, 'echo.openfaas-fn');
    assert.match(body.message, /echo\.openfaas-fn/);
  });

  test('async accept - annotations pick the queue and default priority', async () => {
    const res = await h.submit('dedicated');
    assert.equal(res.status, 202);
    const record = await h.queue.getRecord(res.headers.get('x-call-id')!);
    assert.equal(record?.queue, 'slow-lane');
    assert.equal(record?.priority, 7);
    const explicit = await h.submit('dedicated', { headers: { 'x-priority': '2' } });
    assert.equal((await h.queue.getRecord(explicit.headers.get('x-call-id')!))?.priority, 2);
  });

  test('async accept - unknown function is 404', async () => {
    const res = await h.submit('nope');
    assert.equal(res.status, 404);
  });

  test('async accept - bad and denied callback URLs are 400', async () => {
    for (const [value, code] of [
      ['not a url', 'E_INVALID_CALLBACK_URL'],
      ['/relative/path', 'E_INVALID_CALLBACK_URL'],
      ['ftp://example.com/x', 'E_INVALID_CALLBACK_URL'],
      ['http://169.254.169.254/latest/meta-data', 'E_CALLBACK_URL_DENIED'],
      ['http://[fe80::1]/x', 'E_CALLBACK_URL_DENIED'],
      ['http://[::ffff:169.254.1.1]/x', 'E_CALLBACK_URL_DENIED'],
      ['http://metadata.google.internal/computeMetadata', 'E_CALLBACK_URL_DENIED'],
      ['http://METADATA.google.internal./x', 'E_CALLBACK_URL_DENIED'],
      ['http://100.100.100.200/x', 'E_CALLBACK_URL_DENIED'],
      // The same addresses spelled otherwise: IPv4-compatible, NAT64, SIIT, 6to4, hex and decimal IPv4.
      ['http://[::a9fe:a9fe]/', 'E_CALLBACK_URL_DENIED'],
      ['http://[::169.254.169.254]/', 'E_CALLBACK_URL_DENIED'],
      ['http://[64:ff9b::a9fe:a9fe]/', 'E_CALLBACK_URL_DENIED'],
      ['http://[64:ff9b::169.254.169.254]/', 'E_CALLBACK_URL_DENIED'],
      ['http://[::ffff:0:a9fe:a9fe]/', 'E_CALLBACK_URL_DENIED'],
      ['http://[2002:a9fe:a9fe::1]/', 'E_CALLBACK_URL_DENIED'],
      ['http://0xa9.0xfe.0xa9.0xfe/', 'E_CALLBACK_URL_DENIED'],
      ['http://2852039166/', 'E_CALLBACK_URL_DENIED'],
      ['http://[fe80::1%25eth0]/', 'E_INVALID_CALLBACK_URL'],
      // User information is refused (issue 13): it would be stored and shown with the call.
      ['http://user:PASS@127.0.0.1:9/cb', 'E_INVALID_CALLBACK_URL'],
      ['http://user@127.0.0.1:9/cb', 'E_INVALID_CALLBACK_URL'],
      ['https://:PASS@example.com/cb', 'E_INVALID_CALLBACK_URL'],
    ]) {
      const res = await h.submit('echo', { headers: { 'x-callback-url': value, accept: 'application/json' } });
      assert.equal(res.status, 400, value);
      assert.equal(((await res.json()) as { error: string }).error, code, value);
    }
    const ok = await h.submit('echo', { headers: { 'x-callback-url': 'http://127.0.0.1:9/hook' } });
    assert.equal(ok.status, 202);
  });

  test('async accept - bad meaning headers are 400 naming the header', async () => {
    const cases: Array<[string, string]> = [
      ['x-priority', '10'], ['x-priority', '-1'], ['x-priority', 'high'], ['x-priority', '1.5'],
      ['x-delay', 'soon'], ['x-delay', '-5s'], ['x-not-before', 'tomorrow'], ['x-max-age', '1 year'],
      ['x-call-id', 'has space'], ['x-call-id', 'x'.repeat(129)],
      // '~' marks JetStream's second msgID of a call (docs/scale-out.md): no caller's id may hold it.
      ['x-call-id', 'order-7~2'],
      // Out of range: each once answered 503 "the queue could not store the call".
      ['x-delay', '99999999999999s'], ['x-delay', '9999999999d'], ['x-delay', '367d'],
      ['x-not-before', '99999999999999999999'], ['x-not-before', '9999-12-31T23:59:59Z'],
      ['x-max-age', '99999999999999999d'], ['x-max-age', '1e400'],
    ];
    for (const [name, value] of cases) {
      const res = await h.submit('echo', { headers: { [name]: value, accept: 'application/json' } });
      assert.equal(res.status, 400, `${name}: ${value}`);
      const body = await res.json() as { error: string; header: string; message: string };
      assert.equal(body.error, 'E_INVALID_HEADER');
      assert.equal(body.header.toLowerCase(), name);
      assert.ok(body.message.toLowerCase().includes(name), body.message);
    }
  });

  test('async accept - delay and not-before set the record', async () => {
    const delayed = await h.submit('echo', { headers: { 'x-delay': '30s', 'x-max-age': '1m' } });
    const rec = await h.queue.getRecord(delayed.headers.get('x-call-id')!);
    assert.ok(rec?.notBefore && Date.parse(rec.notBefore) > Date.now() + 25_000);
    assert.ok(rec?.expiresAt && Date.parse(rec.expiresAt) > Date.parse(rec.notBefore));
    const at = new Date(Date.now() + 60_000);
    const nb = await h.submit('echo', { headers: { 'x-not-before': at.toISOString() } });
    assert.equal((await h.queue.getRecord(nb.headers.get('x-call-id')!))?.notBefore, at.toISOString());
    const unix = await h.submit('echo', { headers: { 'x-not-before': String(Math.floor(at.getTime() / 1000)) } });
    assert.equal(unix.status, 202);
  });

  test('async accept - body over the limit is 413', async () => {
    const res = await h.submit('echo', { body: 'x'.repeat(65) });
    assert.equal(res.status, 413);
    assert.equal((await h.submit('echo', { body: 'x'.repeat(64) })).status, 202);
  });

  test('async accept - only POST; other methods 405', async () => {
    for (const method of ['PUT', 'PATCH']) {
      const res = await fetch(`${h.url}/async-function/echo`, { method });
      assert.equal(res.status, 405, method);
    }
    assert.equal((await fetch(`${h.url}/async-function/echo/sub`, { method: 'GET' })).status, 405);
  });

  test('async accept - 503 when not accepting', async () => {
    h.setAccepting(false);
    try {
      const res = await h.submit('echo');
      assert.equal(res.status, 503);
      assert.ok(res.headers.get('retry-after'));
    } finally {
      h.setAccepting(true);
    }
  });

  test('async accept - record routes: unknown is 404, result not ready is 404 with state, cancel', async () => {
    assert.equal((await fetch(`${h.url}/async-function/unknown-id`)).status, 404);
    assert.equal((await fetch(`${h.url}/async-function/unknown-id/result`)).status, 404);
    assert.equal((await fetch(`${h.url}/async-function/unknown-id`, { method: 'DELETE' })).status, 404);
    const callId = (await h.submit('echo')).headers.get('x-call-id')!;
    const notReady = await fetch(`${h.url}/async-function/${callId}/result`, { headers: { accept: 'application/json' } });
    assert.equal(notReady.status, 404);
    assert.deepEqual(await notReady.json(), { error: 'E_RESULT_NOT_READY', message: `call ${callId} has no result (state queued)`, callId, state: 'queued' });
    const cancel = await fetch(`${h.url}/async-function/${callId}`, { method: 'DELETE' });
    assert.equal(cancel.status, 202);
    assert.equal(((await cancel.json()) as { state: string }).state, 'cancelled');
    const again = await fetch(`${h.url}/async-function/${callId}`, { method: 'DELETE' });
    assert.equal(again.status, 409);
  });

  test('async accept - /system/queues needs auth and lists queues', async () => {
    assert.equal((await fetch(`${h.url}/system/queues`)).status, 401);
    const res = await fetch(`${h.url}/system/queues`, { headers: { authorization: ADMIN_AUTH } });
    assert.equal(res.status, 200);
    const list = await res.json() as Array<{ name: string; depth: number; depthByPriority: unknown; delayed: number; inflight: number; oldestAgeMs: number; deadLetters: number }>;
    const names = list.map((q) => q.name);
    assert.ok(names.includes('faas-request') && names.includes('slow-lane'), names.join(','));
    assert.equal((await fetch(`${h.url}/system/queues/missing`, { headers: { authorization: ADMIN_AUTH } })).status, 404);
    assert.equal((await fetch(`${h.url}/system/dead-letters/none`, { headers: { authorization: ADMIN_AUTH } })).status, 404);
  });
});

describe('async accept at capacity', () => {
  test('async accept - 429 with Retry-After when the queue is full, never a 202', async () => {
    const h = await startHarness({ 'queue.maxDepth': 2 });
    try {
      h.deploy('echo');
      assert.equal((await h.submit('echo')).status, 202);
      assert.equal((await h.submit('echo')).status, 202);
      const full = await h.submit('echo');
      assert.equal(full.status, 429);
      assert.ok(Number(full.headers.get('retry-after')) >= 1);
    } finally {
      await h.close();
    }
  });
});

describe('async accept with the queue down', () => {
  test('async accept - 503 when the queue cannot store the call', async () => {
    const h = await startHarness();
    try {
      h.deploy('echo');
      await h.queue.close();
      const res = await h.submit('echo', { body: 'x' });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('x-call-id'), null);
    } finally {
      await h.close();
    }
  });
});
