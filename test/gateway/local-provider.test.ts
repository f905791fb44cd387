// The gateway in front of the real local provider: deploy an upstream function through the system
// API, invoke it through the sync path, scale, and remove it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { loadConfig } from '../../src/config/index.js';
import type { Gateway } from '../../src/gateway/index.js';
import { UPSTREAM_ANNOTATION, type Provider } from '../../src/provider/index.js';
import { EventBus } from '../../src/shared/events.js';
import { makeTempDir } from '../support/temp-dir.js';
import { startFunctionServer, type FunctionServer } from './support/function-server.js';
import { startLocalGateway } from './support/local-gateway.js';

describe('gateway with the local provider', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let fn: FunctionServer;
  let provider: Provider;
  let gateway: Gateway;
  let url: string;
  const auth = 'Basic ' + Buffer.from('admin:pw').toString('base64');

  before(async () => {
    tmp = await makeTempDir('faasq-gw-local-');
    fn = await startFunctionServer();
    const config = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: 0, dataDir: tmp.dir } });
    const events = new EventBus();
    ({ provider, gateway, url } = await startLocalGateway(config, events));
  });
  after(async () => {
    await gateway.close();
    await provider.close();
    await fn.close();
    await tmp.cleanup();
  });

  test('local provider - a fork-mode function never sees the credential that authenticated its caller', async () => {
    const deploy = await request(`${url}/system/functions`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'show-env', image: 'none', envProcess: '/usr/bin/env' }),
    });
    assert.equal(deploy.statusCode, 202);
    await deploy.body.dump();
    try {
      const res = await request(`${url}/function/show-env`, { method: 'POST', headers: { authorization: auth, 'x-marker': 'm1' }, body: '' });
      assert.equal(res.statusCode, 200);
      const env = await res.body.text();
      assert.match(env, /Http_X_Marker=m1/);
      assert.doesNotMatch(env, /Http_Authorization/);
      assert.ok(!env.includes(auth.slice(6)), 'the credential is nowhere in the environment');
    } finally {
      const removed = await request(`${url}/system/functions`, {
        method: 'DELETE', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ functionName: 'show-env' }),
      });
      await removed.body.dump();
    }
  });

  test('local provider - deploy through /system/functions, invoke through /function, remove', async () => {
    const deploy = await request(`${url}/system/functions`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'up', image: 'none', annotations: { [UPSTREAM_ANNOTATION]: fn.url } }),
    });
    assert.equal(deploy.statusCode, 202);
    await deploy.body.dump();

    const res = await request(`${url}/function/up/a/b?x=1`, { method: 'POST', headers: { 'x-call-id': 'lp-1', 'content-type': 'text/plain' }, body: 'hi' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-call-id'], 'lp-1');
    const seen = (await res.body.json()) as { method: string; path: string; query: string; body: string; headers: Record<string, string> };
    assert.deepEqual([seen.method, seen.path, seen.query, seen.body], ['POST', '/a/b', 'x=1', 'hi']);
    assert.equal(seen.headers['x-call-id'], 'lp-1');

    const big = await request(`${url}/function/up/echo`, { method: 'POST', body: Buffer.alloc(5 * 1024 * 1024, 7) });
    let size = 0;
    for await (const c of big.body) size += (c as Buffer).length;
    assert.equal(size, 5 * 1024 * 1024);

    const status = await request(`${url}/system/function/up`, { headers: { authorization: auth } });
    assert.equal(status.statusCode, 200);
    assert.equal(((await status.body.json()) as { name: string }).name, 'up');

    const removed = await request(`${url}/system/functions`, { method: 'DELETE', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ functionName: 'up' }) });
    assert.equal(removed.statusCode, 200);
    await removed.body.dump();
    const gone = await request(`${url}/function/up`);
    assert.equal(gone.statusCode, 404);
    await gone.body.dump();
  });
});
