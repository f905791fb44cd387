// Fork mode through faasq's watchdog, with or without a sandbox: the classic watchdog's Http_*
// variables come from the request and no header can stand in for them, its log lines, and output
// streamed to the caller so a large answer does not sit in the gateway's memory. Also the
// no-sandbox fallback: secrets in the folder named by secret_mount_path, and http replicas that
// all ask for port 3000 each given a free port instead.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Provider, ResponseSink, StreamControl } from '../../src/provider/index.js';
import { waitFor } from '../support/wait-for.js';
import { bodyOf, fixtureSpec, nodeFixture, readAll, request, startTestProvider } from '../support/provider-fixtures.js';

describe('fork mode through the watchdog (no sandbox)', () => {
  let provider: Provider;
  let close: () => Promise<void>;

  before(async () => {
    ({ provider, close } = await startTestProvider({ 'provider.maxForkOutputBytes': 0 }));
  });

  after(() => close());

  test('fork watchdog - Method, Path and Query headers cannot overwrite Http_Method, Http_Path, Http_Query', async () => {
    await provider.deploy(fixtureSpec('env', { fprocess: nodeFixture('fork.mjs'), environment: {} }));
    const res = await provider.invoke('env', 'openfaas-fn', request({
      method: 'GET', path: '/real-path', query: 'env=1',
      headers: { method: 'DELETE', path: '/admin', query: 'role=admin', contentlength: '99', 'x-custom': 'kept' },
      body: Buffer.alloc(0),
    }));
    const env = JSON.parse(await readAll(res)) as Record<string, string>;
    assert.equal(env.Http_Method, 'GET');
    assert.equal(env.Http_Path, '/real-path');
    assert.equal(env.Http_Query, 'env=1');
    assert.notEqual(env.Http_ContentLength, '99');
    assert.equal(env.Http_X_Custom, 'kept');
  });

  test('fork watchdog - a header cannot fake an empty query away (Query header without a query)', async () => {
    const res = await provider.invoke('env', 'openfaas-fn', request({ path: '/', query: 'env=1', headers: { query: 'code=9' }, body: Buffer.alloc(0) }));
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(await readAll(res)) as Record<string, string>).Http_Query, 'env=1');
  });

  test('fork watchdog - the classic log lines, with the same wording', async () => {
    await readAll(await provider.invoke('env', 'openfaas-fn', request({ body: bodyOf('12345') })));
    await waitFor(async () => {
      const lines: string[] = [];
      for await (const entry of provider.logs({ name: 'env', namespace: 'openfaas-fn' })) lines.push(entry.text);
      return lines.some((l) => /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d Forking fprocess\.$/.test(l)) && lines.some((l) => /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d Wrote 5 Bytes - Duration: \d+\.\d{6} seconds$/.test(l));
    }, { message: 'watchdog log lines' });
  });

  test('fork watchdog - a large output is streamed: the gateway does not hold it', async () => {
    const size = 256 * 1024 * 1024;
    await provider.deploy(fixtureSpec('big', { fprocess: `head -c ${size} /dev/zero`, environment: {} }));
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    let received = 0;
    const status = await new Promise<number>((resolve, reject) => {
      let code = 0;
      const sink: ResponseSink = {
        onStart: (_c: StreamControl) => undefined,
        onResponse: (s) => { code = s; },
        onData: (chunk) => {
          received += chunk.length;
          if ((received & 0xffffff) < chunk.length) peak = Math.max(peak, process.memoryUsage().rss);
          return true;
        },
        onEnd: () => resolve(code),
        onError: reject,
      };
      provider.stream('big', 'openfaas-fn', request({ body: Buffer.alloc(0) }), sink);
    });
    assert.equal(status, 200);
    assert.equal(received, size);
    const grewMb = (peak - before) / 2 ** 20;
    assert.ok(grewMb < 96, `gateway RSS grew ${grewMb.toFixed(0)} MB for a ${size / 2 ** 20} MB answer`);
  });

  test('fork watchdog - a non-zero exit after the answer started cuts the body short instead of a 200 that looks whole', async () => {
    await provider.deploy(fixtureSpec('fails-late', { fprocess: 'sh -c "head -c 200000 /dev/zero; exit 3"', environment: {} }));
    const res = await provider.invoke('fails-late', 'openfaas-fn', request({ body: Buffer.alloc(0) }));
    assert.equal(res.status, 200);
    await assert.rejects(readAll(res));
  });
});

describe('no sandbox (FAASQ_SANDBOX=off) fallback', () => {
  let provider: Provider;
  let close: () => Promise<void>;

  before(async () => {
    ({ provider, close } = await startTestProvider({ 'provider.sandbox': 'off' }));
  });

  after(() => close());

  test('fallback - secrets are in the folder named by secret_mount_path', async () => {
    await provider.putSecret({ name: 'token', namespace: 'openfaas-fn', value: Buffer.from('t0k3n') }, { create: true });
    await provider.deploy(fixtureSpec('reader', { fprocess: 'sh -c "cat \\"$secret_mount_path/token\\""', environment: {}, secrets: ['token'] }));
    assert.equal(await readAll(await provider.invoke('reader', 'openfaas-fn', request({ body: Buffer.alloc(0) }))), 't0k3n');
  });

  test('fallback - http replicas that ask for port 3000 each get a free port in http_port, upstream rewritten', async () => {
    await provider.deploy(fixtureSpec('fixed', {
      fprocess: nodeFixture('fixed-port.mjs'),
      environment: { mode: 'http', upstream_url: 'http://127.0.0.1:3000' },
      labels: { 'com.openfaas.scale.min': '3' },
    }));
    await waitFor(async () => (await provider.get('fixed', 'openfaas-fn')).availableReplicas === 3, { message: 'three ready replicas' });
    const seen = new Map<string, string>();
    for (let i = 0; i < 9; i += 1) {
      const res = await provider.invoke('fixed', 'openfaas-fn', request({ method: 'GET' }));
      const [id, port] = (await readAll(res)).split(' ');
      seen.set(id, port);
    }
    assert.equal(seen.size, 3);
    assert.equal(new Set(seen.values()).size, 3, 'each replica has a port of its own');
    assert.ok(![...seen.values()].includes('3000'));
  });
});
