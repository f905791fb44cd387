// What a browser can be made to do against the gateway (issue 20 item 2): cross-site state changes
// on /system/* (403), non-JSON bodies there (415), the dashboard's security headers, and DNS
// rebinding against a loopback-bound gateway (421 for a foreign Host, on the lane and the full path).
// faas-cli's request shapes (read from its source: proxy/client.go sets Content-Type:
// application/json on every request with a body, sends no Origin) keep working.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';

const UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/ui');
const DEPLOY = { service: 'csrf-probe', image: 'x', envProcess: 'cat' };

/** One raw HTTP/1.1 request with exactly these header lines; answers the status code. */
async function rawStatus(url: string, head: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(head));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on('error', reject);
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error('no reply'));
    });
  });
}

describe('browser safety', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway({ uiDir: UI_DIR });
  });
  after(() => t.close());

  const send = async (method: 'POST' | 'PUT' | 'DELETE', route: string, headers: Record<string, string>, body?: string) => {
    const res = await request(`${t.url}${route}`, { method, headers: { authorization: t.auth, accept: 'application/json', ...headers }, body });
    const text = await res.body.text();
    return { status: res.statusCode, body: text === '' ? {} : (JSON.parse(text) as { error?: string; header?: string }) };
  };

  test('admin API - a cross-site or cross-origin state change is 403, even with valid credentials and a JSON body', async () => {
    const json = { 'content-type': 'application/json' };
    for (const headers of [
      { ...json, origin: 'http://evil.example' },
      { ...json, origin: 'null' },
      { ...json, origin: `http://localhost:${new URL(t.url).port}` },
      { ...json, 'sec-fetch-site': 'cross-site' },
      { ...json, 'sec-fetch-site': 'same-site' },
      { 'content-type': 'text/plain', origin: 'http://evil.example' },
    ]) {
      const res = await send('POST', '/system/functions', headers, JSON.stringify(DEPLOY));
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.equal(res.body.error, 'E_CROSS_SITE');
    }
    assert.equal(t.provider.getSpec('csrf-probe', 'openfaas-fn'), undefined, 'nothing was deployed');
  });

  test('admin API - a state change with a body that is not application/json is 415 naming Content-Type', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', undefined]) {
      const headers: Record<string, string> = type ? { 'content-type': type } : {};
      for (const [method, route] of [['POST', '/system/functions'], ['PUT', '/system/functions'], ['DELETE', '/system/functions'], ['POST', '/system/scale-function/echo'], ['POST', '/system/secrets']] as const) {
        const res = await send(method, route, headers, JSON.stringify(DEPLOY));
        assert.equal(res.status, 415, `${method} ${route} ${type}`);
        assert.equal(res.body.error, 'E_UNSUPPORTED_MEDIA_TYPE');
        assert.equal(res.body.header, 'Content-Type');
      }
    }
    assert.equal(t.provider.getSpec('csrf-probe', 'openfaas-fn'), undefined, 'nothing was deployed');
  });

  test('admin API - faas-cli\'s requests (JSON, no Origin), same-origin pages and bodiless deletes still work', async () => {
    const goCli = { 'content-type': 'application/json', 'user-agent': 'faas-cli/0.17.0' };
    assert.equal((await send('PUT', '/system/functions', goCli, JSON.stringify(DEPLOY))).status, 404, 'update of a missing function: faas-cli falls back to POST');
    assert.equal((await send('POST', '/system/functions', goCli, JSON.stringify(DEPLOY))).status, 202);
    assert.equal((await send('POST', '/system/scale-function/csrf-probe', goCli, JSON.stringify({ serviceName: 'csrf-probe', replicas: 2 }))).status, 202);
    const page = { 'content-type': 'application/json; charset=utf-8', origin: t.url, 'sec-fetch-site': 'same-origin' };
    assert.equal((await send('PUT', '/system/functions', page, JSON.stringify(DEPLOY))).status, 200);
    assert.equal((await send('DELETE', '/system/functions', goCli, JSON.stringify({ functionName: 'csrf-probe' }))).status, 200);
    const bodiless = await send('DELETE', '/system/functions', {});
    assert.equal(bodiless.status, 400, 'no body: no media type to check, the route answers');
  });

  test('ui - every /ui/ answer carries a CSP, X-Frame-Options DENY, nosniff and a Referrer-Policy', async () => {
    for (const [route, auth, status] of [['/ui/', t.auth, 200], ['/ui/app.js', t.auth, 200], ['/ui/', undefined, 401]] as const) {
      const res = await request(`${t.url}${route}`, { headers: auth ? { authorization: auth } : {} });
      await res.body.dump();
      assert.equal(res.statusCode, status, route);
      assert.match(String(res.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'same-origin');
    }
  });
});

describe('host check (DNS rebinding)', () => {
  for (const isLane of [true, false]) {
    test(`host check - on the ${isLane ? 'express lane' : 'full path'} a loopback gateway answers 421 to a foreign Host, and loopback or allowed names as usual`, async () => {
      const t = await startTestGateway({ flags: { 'gateway.isExpressLane': isLane, 'gateway.allowedHosts': 'faasq.test,.apps.test' } });
      try {
        const port = new URL(t.url).port;
        const get = (target: string, host: string): string => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${t.auth}\r\nConnection: close\r\n\r\n`;
        for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost.evil.example:${port}`, 'faasq.test.evil']) {
          for (const target of ['/function/echo/meta', '/system/info', '/healthz']) {
            assert.equal(await rawStatus(t.url, get(target, host)), 421, `${target} Host: ${host}`);
          }
        }
        assert.equal(t.fn.seen.length, 0, 'nothing reached the function');
        for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST.:${port}`, `app.localhost:${port}`, `[::1]:${port}`, `faasq.test:${port}`, 'x.apps.test']) {
          assert.equal(await rawStatus(t.url, get('/function/echo/meta', host)), 200, `Host: ${host}`);
        }
      } finally {
        await t.close();
      }
    });
  }

  test('host check - FAASQ_ALLOWED_HOSTS=* turns the check off', async () => {
    const t = await startTestGateway({ flags: { 'gateway.allowedHosts': '*' } });
    try {
      assert.equal(await rawStatus(t.url, 'GET /healthz HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n'), 200);
    } finally {
      await t.close();
    }
  });

  test('host check - a gateway bound to every interface accepts any Host unless FAASQ_ALLOWED_HOSTS is set', async () => {
    const open = await startTestGateway({ flags: { host: '0.0.0.0', 'gateway.allowedHosts': '' } });
    try {
      const url = `http://127.0.0.1:${new URL(open.url).port}`;
      assert.equal(await rawStatus(url, 'GET /healthz HTTP/1.1\r\nHost: faasq.example.com\r\nConnection: close\r\n\r\n'), 200);
    } finally {
      await open.close();
    }
    const listed = await startTestGateway({ flags: { host: '0.0.0.0', 'gateway.allowedHosts': 'faasq.example.com' } });
    try {
      const url = `http://127.0.0.1:${new URL(listed.url).port}`;
      assert.equal(await rawStatus(url, 'GET /healthz HTTP/1.1\r\nHost: faasq.example.com\r\nConnection: close\r\n\r\n'), 200);
      assert.equal(await rawStatus(url, 'GET /healthz HTTP/1.1\r\nHost: other.example.com\r\nConnection: close\r\n\r\n'), 421);
    } finally {
      await listed.close();
    }
  });
});
