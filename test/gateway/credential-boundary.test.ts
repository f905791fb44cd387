// The credentials faasq checks stay with faasq (issue 20 items 1 and 11): strict Basic parsing,
// invoke credentials that cannot reach /system, and no faasq credential forwarded to a function on
// the express lane, on the full path, or into the queue.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { request } from 'undici';
import { loadConfig } from '../../src/config/index.js';
import { decodeBasic } from '../../src/gateway/index.js';
import { createQueue } from '../../src/queue/index.js';
import { createLogger, silentLogger } from '../../src/shared/logger.js';
import { PassThrough } from 'node:stream';
import { startTestGateway, USER, PASSWORD } from './support/start-gateway.js';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const INVOKER = { user: 'caller', password: 'invoke-secret' };
const INVOKE_AUTH = basic(INVOKER.user, INVOKER.password);
const ADMIN_AUTH = basic(USER, PASSWORD);

/** Spellings of the admin credential that a lax base64 decoder accepts. */
function laxSpellings(): string[] {
  const canonical = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
  const spellings = [
    `Basic ${canonical.slice(0, 4)}!!!${canonical.slice(4)}`, // junk characters inside
    `Basic ${canonical.slice(0, 4)} ${canonical.slice(4)}`, // a space inside
    `Basic ${canonical.replace(/=+$/, '')}`, // padding dropped
    `Basic ${canonical}==`, // extra padding
    `Basic ${canonical}\t`.trimEnd() + '.', // a trailing junk character
  ];
  // Non-zero unused bits in the last character: decodes to the same bytes, is not canonical.
  const tail = canonical.replace(/=+$/, '');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const last = alphabet.indexOf(tail.at(-1)!);
  const pad = canonical.length - tail.length;
  if (pad > 0) spellings.push(`Basic ${tail.slice(0, -1)}${alphabet[last | 1]}${'='.repeat(pad)}`);
  return spellings;
}

describe('credential boundary', () => {
  test('basic auth - only canonical base64 of user:password is a credential', () => {
    assert.deepEqual(decodeBasic(ADMIN_AUTH), Buffer.from(`${USER}:${PASSWORD}`));
    assert.deepEqual(decodeBasic(`basic  ${ADMIN_AUTH.slice(6)}`), Buffer.from(`${USER}:${PASSWORD}`), 'scheme is case-insensitive');
    for (const value of [...laxSpellings(), 'Basic', 'Basic ', 'Bearer abc', `Basic ${Buffer.from('no-colon').toString('base64')}`, `Basic ${Buffer.from('a:b').toString('base64url')}-_`]) {
      assert.equal(decodeBasic(value), undefined, value);
    }
  });

  test('basic auth - a non-canonical spelling of the admin credential is 401 on /system and on invocations', async () => {
    const t = await startTestGateway({ flags: { 'auth.isInvokeAuth': true } });
    try {
      for (const value of laxSpellings()) {
        const admin = await request(`${t.url}/system/info`, { headers: { authorization: value } });
        assert.equal(admin.statusCode, 401, `/system/info with ${value}`);
        await admin.body.dump();
        const invoke = await request(`${t.url}/function/echo/meta`, { headers: { authorization: value } });
        assert.equal(invoke.statusCode, 401, `/function with ${value}`);
        await invoke.body.dump();
      }
      const ok = await request(`${t.url}/system/info`, { headers: { authorization: t.auth } });
      assert.equal(ok.statusCode, 200);
      await ok.body.dump();
    } finally {
      await t.close();
    }
  });

  for (const isLane of [true, false]) {
    const path = isLane ? 'express lane' : 'full path';
    test(`invoke auth - on the ${path} the invoke credential invokes but cannot use /system, and no faasq credential reaches the function`, async () => {
      const t = await startTestGateway({ flags: { 'auth.isInvokeAuth': true, 'gateway.isExpressLane': isLane }, invokeCredentials: INVOKER });
      try {
        for (const authorization of [INVOKE_AUTH, ADMIN_AUTH]) {
          const res = await request(`${t.url}/function/echo/meta`, { headers: { authorization } });
          assert.equal(res.statusCode, 200);
          await res.body.dump();
          const seen = t.fn.seen.at(-1)!.headers;
          assert.equal(seen.authorization, undefined, 'the credential was stripped');
        }
        const system = await request(`${t.url}/system/functions`, { headers: { authorization: INVOKE_AUTH } });
        assert.equal(system.statusCode, 401, 'an invoke credential is not an admin credential');
        await system.body.dump();
        const deploy = await request(`${t.url}/system/functions`, {
          method: 'POST', headers: { authorization: INVOKE_AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ service: 'x', image: 'y' }),
        });
        assert.equal(deploy.statusCode, 401);
        await deploy.body.dump();
        const anon = await request(`${t.url}/function/echo/meta`);
        assert.equal(anon.statusCode, 401);
        await anon.body.dump();
        // A browser holding the dashboard's credentials does not invoke for a page on another site.
        const before = t.fn.seen.length;
        for (const headers of [{ origin: 'http://evil.example' }, { 'sec-fetch-site': 'cross-site' }]) {
          const res = await request(`${t.url}/function/echo/meta`, { method: 'POST', headers: { authorization: ADMIN_AUTH, ...headers }, body: 'x' });
          assert.equal(res.statusCode, 403, JSON.stringify(headers));
          await res.body.dump();
        }
        assert.equal(t.fn.seen.length, before, 'nothing reached the function');
        const sameOrigin = await request(`${t.url}/function/echo/meta`, { method: 'POST', headers: { authorization: ADMIN_AUTH, origin: t.url, 'sec-fetch-site': 'same-origin' }, body: 'x' });
        assert.equal(sameOrigin.statusCode, 200, 'the dashboard itself invokes');
        await sameOrigin.body.dump();
      } finally {
        await t.close();
      }
    });

    test(`invoke auth off - on the ${path} the admin credential a browser sends along is not forwarded; the function's own Authorization is`, async () => {
      const t = await startTestGateway({ flags: { 'gateway.isExpressLane': isLane } });
      try {
        const admin = await request(`${t.url}/function/echo/meta`, { headers: { authorization: ADMIN_AUTH } });
        assert.equal(admin.statusCode, 200);
        await admin.body.dump();
        assert.equal(t.fn.seen.at(-1)!.headers.authorization, undefined);
        const own = await request(`${t.url}/function/echo/meta`, { headers: { authorization: 'Bearer the-functions-own-token' } });
        assert.equal(own.statusCode, 200);
        await own.body.dump();
        assert.equal(t.fn.seen.at(-1)!.headers.authorization, 'Bearer the-functions-own-token');
      } finally {
        await t.close();
      }
    });
  }

  test('call records - a call made with faasq credentials needs them to be read, even with invoke auth off', async () => {
    const config = loadConfig({ env: {}, flags: { 'queue.url': 'memory', dataDir: '/tmp/faasq-unused' } });
    const queue = createQueue({ config, logger: silentLogger() });
    await queue.start();
    const t = await startTestGateway({ invokeCredentials: INVOKER, queue });
    try {
      const submit = async (headers: Record<string, string>): Promise<string> => {
        const res = await request(`${t.url}/async-function/echo`, { method: 'POST', headers, body: 'x' });
        assert.equal(res.statusCode, 202);
        await res.body.dump();
        return String(res.headers['x-call-id']);
      };
      const privateId = await submit({ authorization: INVOKE_AUTH });
      const openId = await submit({});
      for (const route of [`/async-function/${privateId}`, `/async-function/${privateId}/result`]) {
        const anon = await request(`${t.url}${route}`);
        assert.equal(anon.statusCode, 401, route);
        await anon.body.dump();
        const wrong = await request(`${t.url}${route}`, { headers: { authorization: basic(INVOKER.user, 'guess') } });
        assert.equal(wrong.statusCode, 401, route);
        await wrong.body.dump();
      }
      const cancel = await request(`${t.url}/async-function/${privateId}`, { method: 'DELETE' });
      assert.equal(cancel.statusCode, 401, 'nor cancelled without them');
      await cancel.body.dump();
      for (const authorization of [INVOKE_AUTH, ADMIN_AUTH]) {
        const rec = await request(`${t.url}/async-function/${privateId}`, { headers: { authorization } });
        assert.equal(rec.statusCode, 200);
        await rec.body.dump();
      }
      const open = await request(`${t.url}/async-function/${openId}`);
      assert.equal(open.statusCode, 200, 'an anonymous call stays readable by its id');
      await open.body.dump();
    } finally {
      await t.close();
      await queue.close();
    }
  });

  test('invoke auth - an async call stores no faasq credential, and its record needs an invoke or admin credential', async () => {
    const config = loadConfig({ env: {}, flags: { 'queue.url': 'memory', dataDir: '/tmp/faasq-unused' } });
    const queue = createQueue({ config, logger: silentLogger() });
    await queue.start();
    const t = await startTestGateway({ flags: { 'auth.isInvokeAuth': true }, invokeCredentials: INVOKER, queue });
    try {
      const ids: string[] = [];
      for (const [route, headers] of [
        ['/async-function/echo', { authorization: INVOKE_AUTH }],
        ['/function/echo', { authorization: ADMIN_AUTH, 'x-invoke-mode': 'async' }],
      ] as const) {
        const res = await request(`${t.url}${route}`, { method: 'POST', headers: { ...headers, 'x-custom': 'kept' }, body: 'x' });
        assert.equal(res.statusCode, 202, route);
        await res.body.dump();
        ids.push(String(res.headers['x-call-id']));
      }
      const stored = await new Promise<Record<string, unknown>[]>((resolve) => {
        const got: Record<string, unknown>[] = [];
        const consumer = queue.consume({ queue: 'faas-request', maxInflight: 10 }, (d) => {
          got.push(d.message.headers);
          void d.release();
          if (got.length === 2) void consumer.close().then(() => resolve(got));
        });
      });
      for (const headers of stored) {
        assert.equal(headers.authorization, undefined, 'no credential in the queue');
        assert.equal(headers['x-custom'], 'kept');
      }
      const crossSite = await request(`${t.url}/async-function/echo`, { method: 'POST', headers: { authorization: ADMIN_AUTH, origin: 'http://evil.example' }, body: 'x' });
      assert.equal(crossSite.statusCode, 403, 'no async call for another site either');
      await crossSite.body.dump();
      const anon = await request(`${t.url}/async-function/${ids[0]}`);
      assert.equal(anon.statusCode, 401, 'the record of an authenticated call is not open');
      await anon.body.dump();
      for (const authorization of [INVOKE_AUTH, ADMIN_AUTH]) {
        const rec = await request(`${t.url}/async-function/${ids[0]}`, { headers: { authorization } });
        assert.equal(rec.statusCode, 200);
        await rec.body.dump();
      }
    } finally {
      await t.close();
      await queue.close();
    }
  });

  test('logs - no faasq credential appears in any log line, whatever the call did', async () => {
    const lines: string[] = [];
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    const logger = createLogger({ level: 'trace', destination: sink });
    const config = loadConfig({ env: {}, flags: { 'queue.url': 'memory', dataDir: '/tmp/faasq-unused' } });
    const queue = createQueue({ config, logger });
    await queue.start();
    for (const isLane of [true, false]) {
      const t = await startTestGateway({ flags: { 'auth.isInvokeAuth': true, 'gateway.isExpressLane': isLane }, invokeCredentials: INVOKER, queue, logger });
      try {
        const calls: Array<[string, string, Record<string, string>]> = [
          ['GET', '/function/echo/meta', { authorization: INVOKE_AUTH }],
          ['GET', '/function/echo/meta', { authorization: ADMIN_AUTH }],
          ['GET', '/function/echo/meta', { authorization: basic(INVOKER.user, 'wrong') }],
          ['GET', '/function/nope', { authorization: INVOKE_AUTH }],
          ['POST', '/function/echo/meta', { authorization: ADMIN_AUTH, origin: 'http://evil.example' }],
          ['POST', '/async-function/echo', { authorization: INVOKE_AUTH, 'x-callback-url': 'http://127.0.0.1:9/cb?token=T0K3N' }],
          ['POST', '/async-function/echo', { authorization: INVOKE_AUTH, 'x-delay': '99999999999999s' }],
          ['GET', '/system/info', { authorization: INVOKE_AUTH }],
        ];
        for (const [method, route, headers] of calls) {
          const res = await request(`${t.url}${route}`, { method: method as 'GET', headers, body: method === 'POST' ? 'x' : undefined });
          await res.body.dump();
        }
      } finally {
        await t.close();
      }
    }
    await queue.close();
    const text = lines.join('');
    assert.ok(text.length > 0, 'something was logged');
    for (const secret of [PASSWORD, INVOKER.password, ADMIN_AUTH.slice(6), INVOKE_AUTH.slice(6), 'T0K3N']) {
      assert.ok(!text.includes(secret), `a log line holds ${secret}`);
    }
  });
});
