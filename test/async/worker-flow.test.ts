import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from './support/harness.js';

describe('async worker flow', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    h.deploy('echo');
    h.fns.handle('echo', (req, res, body) => {
      res.writeHead(201, { 'content-type': 'text/plain', 'x-from-fn': 'yes' });
      res.end(`echo:${req.method}:${req.url}:${body}`);
    });
    await h.startWorker();
  });
  after(() => h.close());

  test('async worker - queued call runs once and its result is stored', async () => {
    const res = await h.submit('echo', { path: '/a/b?q=1', body: 'payload', headers: { 'x-custom': 'kept', 'content-type': 'text/plain' } });
    const callId = res.headers.get('x-call-id')!;
    const startTime = res.headers.get('x-start-time')!;
    const record = await h.waitForState(callId, ['succeeded']);
    assert.equal(record.attempts, 1);
    assert.equal(record.lastStatus, 201);
    assert.equal(record.hasResult, true);
    assert.ok(record.startedAt && record.finishedAt);
    const seen = h.fns.seen.filter((s) => s.headers['x-call-id'] === callId);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].url, '/echo/a/b?q=1');
    assert.equal(seen[0].headers['x-custom'], 'kept');
    assert.equal(seen[0].headers['x-start-time'], startTime);
    const result = await fetch(`${h.url}/async-function/${callId}/result`);
    assert.equal(result.status, 201);
    assert.equal(result.headers.get('x-from-fn'), 'yes');
    assert.equal(result.headers.get('x-call-id'), callId);
    assert.equal(result.headers.get('x-function-status'), '201');
    assert.equal(await result.text(), 'echo:POST:/echo/a/b?q=1:payload');
  });

  test('async worker - a redelivered call that already succeeded is not run again', async () => {
    const callId = (await h.submit('echo', { headers: { 'x-call-id': 'once-only' } })).headers.get('x-call-id')!;
    await h.waitForState(callId, ['succeeded']);
    // A second submission with the same id is deduped, so nothing more runs.
    assert.equal((await h.submit('echo', { headers: { 'x-call-id': 'once-only' } })).headers.get('x-duplicate'), 'true');
    assert.equal(h.fns.count('echo', callId), 1);
  });

  test('async worker - a 4xx answer fails the call without retries', async () => {
    h.deploy('bad');
    h.fns.handle('bad', (_req, res) => { res.statusCode = 422; res.end('no'); });
    const callId = (await h.submit('bad')).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['failed']);
    assert.equal(record.attempts, 1);
    assert.equal(record.lastStatus, 422);
    assert.equal(h.fns.count('bad', callId), 1);
    const result = await fetch(`${h.url}/async-function/${callId}/result`);
    assert.equal(result.status, 422);
    assert.equal(await result.text(), 'no');
  });

  test('async worker - a large result is cut at the cap and marked truncated', async () => {
    h.deploy('big');
    h.fns.handle('big', (_req, res) => res.end(Buffer.alloc(2 * 1024 * 1024, 97)));
    const callId = (await h.submit('big')).headers.get('x-call-id')!;
    await h.waitForState(callId, ['succeeded']);
    const result = await fetch(`${h.url}/async-function/${callId}/result`);
    assert.equal(result.headers.get('x-result-truncated'), 'true');
    assert.equal((await result.arrayBuffer()).byteLength, h.config.queue.maxResultBytes);
  });

  test('async worker - a dedicated queue created later gets a consumer', async () => {
    h.deploy('lane', { 'com.openfaas.queue': 'late-lane' });
    h.fns.handle('lane', (_req, res) => res.end('ok'));
    const callId = (await h.submit('lane')).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['succeeded']);
    assert.equal(record.queue, 'late-lane');
  });

  test('async worker - emits lifecycle events', async () => {
    const names: string[] = [];
    const offs = (['call.accepted', 'call.started', 'call.succeeded', 'worker.inflight'] as const).map((n) => h.events.on(n, () => names.push(n)));
    try {
      const callId = (await h.submit('echo')).headers.get('x-call-id')!;
      await h.waitForState(callId, ['succeeded']);
      assert.deepEqual(names.filter((n) => n !== 'worker.inflight'), ['call.accepted', 'call.started', 'call.succeeded']);
      assert.equal(names.filter((n) => n === 'worker.inflight').length, 2);
    } finally {
      for (const off of offs) off();
    }
  });
});

describe('async worker ordering', () => {
  test('async worker - higher priority runs first; delayed calls wait', async () => {
    const h = await startHarness({ 'worker.maxInflight': 1 });
    try {
      h.deploy('order');
      h.fns.handle('order', (_req, res) => res.end('ok'));
      const low = (await h.submit('order', { headers: { 'x-priority': '1', 'x-call-id': 'low' } })).status;
      const delayed = (await h.submit('order', { headers: { 'x-priority': '9', 'x-call-id': 'delayed', 'x-delay': '600ms' } })).status;
      const high = (await h.submit('order', { headers: { 'x-priority': '8', 'x-call-id': 'high' } })).status;
      const mid = (await h.submit('order', { headers: { 'x-priority': '5', 'x-call-id': 'mid' } })).status;
      assert.deepEqual([low, delayed, high, mid], [202, 202, 202, 202]);
      const t0 = Date.now();
      await h.startWorker();
      await h.waitForState('delayed', ['succeeded']);
      const order = h.fns.seen.map((s) => s.headers['x-call-id']);
      assert.deepEqual(order, ['high', 'mid', 'low', 'delayed']);
      const delayedAt = h.fns.seen.find((s) => s.headers['x-call-id'] === 'delayed')!.at;
      assert.ok(delayedAt - t0 >= 400, `delayed call ran after ${delayedAt - t0}ms`);
    } finally {
      await h.close();
    }
  });

  test('async worker - per-function async concurrency limit holds', async () => {
    const h = await startHarness({ 'worker.maxInflight': 10 });
    try {
      h.deploy('narrow', { 'com.faasq.async.concurrency': '2' });
      let running = 0;
      let peak = 0;
      h.fns.handle('narrow', (_req, res) => {
        running++;
        peak = Math.max(peak, running);
        setTimeout(() => { running--; res.end('ok'); }, 60);
      });
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push((await h.submit('narrow')).headers.get('x-call-id')!);
      await h.startWorker();
      for (const id of ids) await h.waitForState(id, ['succeeded']);
      assert.equal(peak, 2);
    } finally {
      await h.close();
    }
  });
});
