// /healthz, /metrics, / → /ui/, the static UI behind auth, invoke auth, and the lifecycle:
// stopIntake (503 for new invocations) and close (in-flight calls finish, then the port is gone).
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';

describe('gateway ops routes', () => {
  let t: TestGateway;
  let ui: { dir: string; cleanup: () => Promise<void> };
  let isReady = true;
  before(async () => {
    ui = await makeTempDir('faasq-ui-');
    await mkdir(path.join(ui.dir, 'assets'));
    await writeFile(path.join(ui.dir, 'index.html'), '<h1>faasq</h1>');
    await writeFile(path.join(ui.dir, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(path.join(path.dirname(ui.dir), 'outside-ui.txt'), 'secret').catch(() => undefined);
    t = await startTestGateway({
      uiDir: ui.dir,
      health: async () => ({ isReady, components: { provider: { isReady } } }),
      metrics: { contentType: 'text/plain; version=0.0.4; charset=utf-8', render: async () => 'gateway_up 1\n' },
    });
  });
  after(async () => {
    await t.close();
    await ui.cleanup();
  });

  test('ops - /healthz reports deps.health without auth: 200 when ready, 503 when not', async () => {
    const ok = await request(`${t.url}/healthz`);
    assert.equal(ok.statusCode, 200);
    const body = (await ok.body.json()) as { isReady: boolean; components: unknown };
    assert.equal(body.isReady, true);
    assert.deepEqual(body.components, { provider: { isReady: true } });
    isReady = false;
    const down = await request(`${t.url}/healthz`);
    assert.equal(down.statusCode, 503);
    await down.body.dump();
    isReady = true;
  });

  test('ops - /metrics serves the renderer output with its content type, no auth', async () => {
    const res = await request(`${t.url}/metrics`);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(await res.body.text(), 'gateway_up 1\n');
  });

  test('ops - / redirects to /ui/', async () => {
    const res = await request(`${t.url}/`);
    assert.equal(res.statusCode, 307);
    assert.equal(res.headers.location, '/ui/');
    await res.body.dump();
  });

  test('ops - /ui/ serves static files behind basic auth with content types', async () => {
    const anon = await request(`${t.url}/ui/`);
    assert.equal(anon.statusCode, 401);
    assert.equal(anon.headers['www-authenticate'], 'Basic realm="Restricted"');
    await anon.body.dump();
    const index = await request(`${t.url}/ui/`, { headers: { authorization: t.auth } });
    assert.equal(index.statusCode, 200);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(await index.body.text(), '<h1>faasq</h1>');
    const js = await request(`${t.url}/ui/assets/app.js`, { headers: { authorization: t.auth } });
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(await js.body.text(), 'console.log(1)');
    const missing = await request(`${t.url}/ui/nope.css`, { headers: { authorization: t.auth } });
    assert.equal(missing.statusCode, 404);
    await missing.body.dump();
  });

  test('ops - /ui/ never serves files outside its folder', async () => {
    for (const p of ['/ui/../outside-ui.txt', '/ui/%2e%2e/outside-ui.txt', '/ui/..%2foutside-ui.txt', '/ui/%2e%2e%5coutside-ui.txt']) {
      const res = await request(`${t.url}${p}`, { headers: { authorization: t.auth } });
      const text = await res.body.text();
      assert.notEqual(text, 'secret', p);
      assert.ok(res.statusCode === 404 || res.statusCode === 400, `${p} -> ${res.statusCode}`);
    }
  });

  test('ops - X-Invoke-Mode: async without a queue is 501', async () => {
    const res = await request(`${t.url}/function/echo`, { method: 'POST', headers: { 'x-invoke-mode': 'async' }, body: 'x' });
    assert.equal(res.statusCode, 501);
    await res.body.dump();
  });
});

describe('gateway invoke auth', () => {
  test('invoke auth - FAASQ_INVOKE_AUTH protects /function/*', async () => {
    const t = await startTestGateway({ flags: { 'auth.isInvokeAuth': true } });
    try {
      const anon = await request(`${t.url}/function/echo`);
      assert.equal(anon.statusCode, 401);
      assert.equal(anon.headers['www-authenticate'], 'Basic realm="Restricted"');
      await anon.body.dump();
      const ok = await request(`${t.url}/function/echo`, { headers: { authorization: t.auth } });
      assert.equal(ok.statusCode, 200);
      const seen = (await ok.body.json()) as { method: string };
      assert.equal(seen.method, 'GET');
    } finally {
      await t.close();
    }
  });
});

describe('gateway lifecycle', () => {
  test('lifecycle - stopIntake answers new invocations 503 while in-flight ones finish', async () => {
    const t = await startTestGateway();
    try {
      const inflight = request(`${t.url}/function/echo/slow?ms=300`);
      await waitFor(() => t.fn.inflight() === 1, { message: 'call running' });
      t.gateway.stopIntake();
      const refused = await request(`${t.url}/function/echo`);
      assert.equal(refused.statusCode, 503);
      assert.ok(refused.headers['x-call-id']);
      await refused.body.dump();
      const health = await request(`${t.url}/healthz`);
      assert.equal(health.statusCode, 503);
      await health.body.dump();
      const done = await inflight;
      assert.equal(done.statusCode, 200);
      assert.equal(await done.body.text(), 'done');
    } finally {
      await t.close();
    }
  });

  test('lifecycle - close waits for in-flight calls, then stops listening', async () => {
    const t = await startTestGateway();
    const inflight = request(`${t.url}/function/echo/slow?ms=300`);
    await waitFor(() => t.fn.inflight() === 1, { message: 'call running' });
    const closed = t.gateway.close();
    const res = await inflight;
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'done');
    await closed;
    assert.equal(t.gateway.server.listening, false);
    await t.gateway.close(); // idempotent
    await t.close();
  });

  test('lifecycle - close cuts calls still running after the grace period', async () => {
    const t = await startTestGateway({ flags: { 'gateway.shutdownGraceMs': '200ms' } });
    const inflight = request(`${t.url}/function/echo/slow?ms=10000`);
    inflight.catch(() => undefined);
    await waitFor(() => t.fn.inflight() === 1, { message: 'call running' });
    const started = Date.now();
    await t.gateway.close();
    assert.ok(Date.now() - started < 3000, 'close did not wait for the slow call');
    await assert.rejects(inflight);
    await t.close();
  });
});
