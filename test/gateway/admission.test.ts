// Gateway-level queueing through HTTP: a function at its concurrency limit makes callers wait in a
// bounded queue; a full queue or a long wait is 429 with Retry-After; a caller that leaves frees its place.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { waitFor } from '../support/wait-for.js';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';

describe('gateway admission', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
    t.provider.add('one', t.fn.url, { 'com.faasq.concurrency': '1', 'com.faasq.max_waiting': '1', 'com.faasq.max_wait': '5s' });
    t.provider.add('impatient', t.fn.url, { 'com.faasq.concurrency': '1', 'com.faasq.max_wait': '100ms' });
  });
  after(async () => {
    await t.close();
  });

  test('admission - a call beyond the limit waits, one beyond the queue gets 429 with Retry-After', async () => {
    const started = Date.now();
    const first = request(`${t.url}/function/one/slow?ms=400`);
    await waitFor(() => t.fn.inflight() === 1, { message: 'first call running' });
    const second = request(`${t.url}/function/one/slow?ms=10`);
    // The second is queued at the gateway, not at the function.
    await waitFor(async () => {
      const third = await request(`${t.url}/function/one/slow?ms=10`);
      await third.body.dump();
      if (third.statusCode !== 429) return false;
      assert.ok(Number(third.headers['retry-after']) >= 1);
      assert.ok(third.headers['x-call-id']);
      return true;
    }, { message: 'third call rejected' });
    assert.equal(t.fn.inflight(), 1, 'only one call reached the function');
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.statusCode, 200);
    assert.equal(b.statusCode, 200);
    await a.body.dump();
    await b.body.dump();
    assert.ok(Date.now() - started >= 400, 'the second call waited for the first');
  });

  test('admission - waiting longer than max_wait is 429', async () => {
    const first = request(`${t.url}/function/impatient/slow?ms=1000`);
    await waitFor(() => t.fn.inflight() === 1, { message: 'first call running' });
    const started = Date.now();
    const second = await request(`${t.url}/function/impatient/slow?ms=10`);
    assert.equal(second.statusCode, 429);
    assert.ok(Number(second.headers['retry-after']) >= 1);
    await second.body.dump();
    assert.ok(Date.now() - started >= 90);
    const a = await first;
    await a.body.dump();
    assert.equal(a.statusCode, 200);
  });

  test('admission - a waiter whose client disconnects leaves the queue', async () => {
    const first = request(`${t.url}/function/one/slow?ms=600`);
    await waitFor(() => t.fn.inflight() === 1, { message: 'first call running' });
    const leaver = http.request(`${t.url}/function/one/slow?ms=10`);
    leaver.on('error', () => undefined);
    leaver.end();
    const waitingFor = (): number => t.gateway.admissionStats().find((x) => x.fn === 'one')?.waiting ?? 0;
    await waitFor(() => waitingFor() === 1, { message: 'leaver queued' });
    const full = await request(`${t.url}/function/one/slow?ms=10`);
    await full.body.dump();
    assert.equal(full.statusCode, 429, 'queue (max 1) is full with the leaver');
    leaver.destroy();
    await waitFor(() => waitingFor() === 0, { message: 'leaver left the queue' });
    // Its place is free again: this caller waits (and succeeds) instead of getting 429.
    const after = await waitFor(async () => {
      const res = await request(`${t.url}/function/one/slow?ms=10`);
      await res.body.dump();
      return res.statusCode === 200 ? res : undefined;
    }, { message: 'queue place freed' });
    assert.equal(after.statusCode, 200);
    const a = await first;
    await a.body.dump();
  });
});
