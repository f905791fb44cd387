// The sync invocation path through a real gateway, provider connection and function server.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { waitFor } from '../support/wait-for.js';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';
import { streamThrough } from './support/stream-through.js';

// Both paths a sync call can take: the express lane and the full path (Node's server and undici,
// which also serves every call the lane hands over) must behave alike.
for (const isExpressLane of [true, false]) {
  const name = isExpressLane ? 'express lane' : 'full path';
  describe(`gateway sync path (${name})`, () => {
    let t: TestGateway;
    before(async () => {
      t = await startTestGateway({ flags: { 'gateway.maxHeaderBytes': 8192, 'gateway.isExpressLane': isExpressLane } });
    });
    after(async () => {
      await t.close();
    });

    test('gateway - forwards method, path, raw query, headers and body', async () => {
      const res = await request(`${t.url}/function/echo/some/path?a=1&b=x%20y&a=2`, {
        method: 'PUT',
        headers: { 'content-type': 'text/plain', 'x-custom': 'hello' },
        body: 'payload',
      });
      assert.equal(res.statusCode, 200);
      const seen = (await res.body.json()) as { method: string; path: string; query: string; headers: Record<string, string>; body: string };
      assert.equal(seen.method, 'PUT');
      assert.equal(seen.path, '/some/path');
      assert.equal(seen.query, 'a=1&b=x%20y&a=2');
      assert.equal(seen.headers['x-custom'], 'hello');
      assert.equal(seen.headers['content-type'], 'text/plain');
      assert.equal(seen.body, 'payload');
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
      assert.match(seen.headers['x-forwarded-host'], /^127\.0\.0\.1:\d+$/);
      assert.match(seen.headers['x-start-time'], /^\d{19}$/);
      assert.equal(seen.headers['x-call-id'], res.headers['x-call-id']);
    });

    test('gateway - a bare function name gets path "/" and the namespaced form works', async () => {
      const res = await request(`${t.url}/function/echo.openfaas-fn`);
      const seen = (await res.body.json()) as { path: string; method: string };
      assert.equal(res.statusCode, 200);
      assert.equal(seen.path, '/');
      assert.equal(seen.method, 'GET');
    });

    test('gateway - keeps the caller X-Call-Id and generates one otherwise, with X-Start-Time on the reply', async () => {
      const kept = await request(`${t.url}/function/echo`, { headers: { 'x-call-id': 'my-call-1' } });
      await kept.body.dump();
      assert.equal(kept.headers['x-call-id'], 'my-call-1');
      assert.equal(t.fn.seen.at(-1)?.headers['x-call-id'], 'my-call-1');
      const generated = await request(`${t.url}/function/echo`);
      await generated.body.dump();
      assert.match(String(generated.headers['x-call-id']), /^[0-9a-f-]{36}$/);
      const start = BigInt(String(generated.headers['x-start-time']));
      // X-Start-Time carries sub-millisecond digits, Date.now() does not: a call that ends within the
      // millisecond it started in is still "not in the future" up to the end of that millisecond.
      const nowNs = (BigInt(Date.now()) + 1n) * 1_000_000n;
      assert.ok(start <= nowNs && nowNs - start < 10_000_000_000n, 'X-Start-Time is recent Unix nanoseconds');
    });

    test('gateway - drops hop-by-hop headers both ways', async () => {
      // node's client, because undici will not send a custom Connection header.
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        const req = http.request(`${t.url}/function/echo/hop`, { headers: { 'x-req-hop': 'no', connection: 'x-req-hop', 'proxy-authorization': 'Basic eA==' } }, resolve);
        req.on('error', reject);
        req.end();
      });
      res.resume();
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-kept'], 'yes');
      assert.equal(res.headers['x-hop-named'], undefined);
      assert.notEqual(res.headers['keep-alive'], 'timeout=99');
      const seen = t.fn.seen.at(-1)?.headers ?? {};
      assert.equal(seen['x-req-hop'], undefined);
      assert.equal(seen['proxy-authorization'], undefined);
    });

    test('gateway - passes redirects through without following them', async () => {
      const res = await request(`${t.url}/function/echo/redirect`);
      assert.equal(res.statusCode, 302);
      assert.equal(res.headers.location, '/elsewhere');
      assert.equal(await res.body.text(), 'moved');
    });

    test('gateway - returns the function status unchanged', async () => {
      const res = await request(`${t.url}/function/echo/status?code=418`);
      assert.equal(res.statusCode, 418);
      assert.equal(await res.body.text(), 'status');
    });

    test('gateway - unknown function is 404 with call headers', async () => {
      const res = await request(`${t.url}/function/nope`);
      assert.equal(res.statusCode, 404);
      assert.ok(res.headers['x-call-id']);
      assert.ok(res.headers['x-start-time']);
      assert.match(await res.body.text(), /nope/);
    });

    test('gateway - an invalid or empty function name is 404, as the OpenFaaS gateway answers', async () => {
      const res = await request(`${t.url}/function/bad%20name`);
      assert.equal(res.statusCode, 404);
      await res.body.dump();
      const empty = await request(`${t.url}/function/`);
      assert.equal(empty.statusCode, 404);
      await empty.body.dump();
    });

    test('gateway - unreachable function is 502', async () => {
      const closed = net.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      t.provider.add('gone', `http://127.0.0.1:${port}`);
      const res = await request(`${t.url}/function/gone`);
      assert.equal(res.statusCode, 502);
      await res.body.dump();
    });

    test('gateway - not-ready function is 503', async () => {
      t.provider.add('cold', undefined);
      const res = await request(`${t.url}/function/cold`);
      assert.equal(res.statusCode, 503);
      await res.body.dump();
    });

    test('gateway - function slower than the upstream timeout is 504 and its call is aborted', async () => {
      const short = await startTestGateway({ flags: { 'gateway.upstreamTimeoutMs': '300ms', 'gateway.isExpressLane': isExpressLane } });
      try {
        const res = await request(`${short.url}/function/echo/slow?ms=5000`);
        assert.equal(res.statusCode, 504);
        assert.ok(res.headers['x-call-id']);
        await res.body.dump();
        await waitFor(() => short.fn.inflight() === 0, { timeoutMs: 3000, message: 'the function call was aborted' });
      } finally {
        await short.close();
      }
    });

    test('gateway - oversized request headers get 431 from node', async () => {
      const res = await request(`${t.url}/function/echo`, { headers: { 'x-big': 'a'.repeat(10_000) } });
      assert.equal(res.statusCode, 431);
      await res.body.dump();
    });

    test('gateway - client abort cancels the invocation', async () => {
      const before = t.fn.inflight();
      const req = http.request(`${t.url}/function/echo/slow?ms=10000`);
      req.on('error', () => undefined);
      req.end();
      await waitFor(() => t.fn.inflight() === before + 1, { timeoutMs: 3000, message: 'call reached the function' });
      req.destroy();
      await waitFor(() => t.fn.inflight() === before, { timeoutMs: 3000, message: 'function connection closed after the client left' });
    });

    test('gateway - emits invocation.started and invocation.completed', async () => {
      const seen: unknown[] = [];
      const offStarted = t.events.on('invocation.started', (e) => seen.push(['started', e]));
      const offCompleted = t.events.on('invocation.completed', (e) => seen.push(['completed', e]));
      try {
        const res = await request(`${t.url}/function/echo/status?code=201`, { headers: { 'x-call-id': 'ev-1' } });
        await res.body.dump();
        await waitFor(() => seen.length >= 2, { timeoutMs: 2000, message: 'both invocation events' });
        assert.deepEqual(seen[0], ['started', { fn: 'echo', namespace: 'openfaas-fn' }]);
        const [kind, completed] = seen[1] as [string, { status: number; callId: string; fn: string; durationMs: number }];
        assert.equal(kind, 'completed');
        assert.equal(completed.status, 201);
        assert.equal(completed.callId, 'ev-1');
        assert.equal(completed.fn, 'echo');
        assert.ok(completed.durationMs >= 0);
      } finally {
        offStarted();
        offCompleted();
      }
    });

    test('gateway - streams a 100 MB body both ways without buffering it', async () => {
      const total = 100 * 1024 * 1024;
      const chunk = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
      const echo = await streamThrough(`${t.url}/function/echo/echo`, total, chunk, { 'content-type': 'application/octet-stream' });
      assert.equal(echo.status, 200);
      assert.equal(echo.received, total);
      assert.equal(echo.gotSha256, echo.sentSha256);
      assert.ok(echo.receivedBeforeUploadDone > 0, 'response bytes arrived while the upload was still running (streamed, not buffered)');
    });

    test('gateway - streams a large response', async () => {
      const n = 20 * 1024 * 1024 + 17;
      const res = await request(`${t.url}/function/echo/bytes?n=${n}`);
      let size = 0;
      for await (const c of res.body) size += (c as Buffer).length;
      assert.equal(res.statusCode, 200);
      assert.equal(size, n);
    });
  });
}
