import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLocalProvider, type Provider } from '../../src/provider/index.js';
import { EventBus, createLogger, isFaasqError } from '../../src/shared/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { bodyOf, fixtureSpec, nodeFixture, readAll, request, testConfig } from '../support/provider-fixtures.js';

describe('provider registry', () => {
  let provider: Provider;
  let dir: string;
  let cleanup: () => Promise<void>;
  const opLog: { op: string; fn: string; msg: string }[] = [];

  before(async () => {
    const tmp = await makeTempDir();
    dir = tmp.dir;
    cleanup = tmp.cleanup;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          const rec = JSON.parse(line) as { op?: string; fn?: string; msg: string };
          if (rec.op) opLog.push({ op: rec.op, fn: rec.fn ?? '', msg: rec.msg });
        }
        done();
      },
    });
    const logger = createLogger({ level: 'debug', destination: sink });
    provider = createLocalProvider({ config: testConfig(dir), logger, events: new EventBus() });
    await provider.start();
  });

  after(async () => {
    await provider.close();
    await cleanup();
  });

  test('provider - deploy of an existing function is E_CONFLICT unless upsert; update and remove of a missing one are E_FUNCTION_NOT_FOUND', async () => {
    await provider.deploy(fixtureSpec('dup'));
    await assert.rejects(provider.deploy(fixtureSpec('dup')), (err) => isFaasqError(err, 'E_CONFLICT'));
    await provider.deploy(fixtureSpec('dup', { environment: { mode: 'http', V: '2' } }), { upsert: true });
    assert.equal(provider.getSpec('dup', 'openfaas-fn')?.environment.V, '2');
    await assert.rejects(provider.update(fixtureSpec('ghost')), (err) => isFaasqError(err, 'E_FUNCTION_NOT_FOUND'));
    await assert.rejects(provider.remove('ghost', 'openfaas-fn'), (err) => isFaasqError(err, 'E_FUNCTION_NOT_FOUND'));
    await assert.rejects(provider.invoke('ghost', 'openfaas-fn', request()), (err) => isFaasqError(err, 'E_FUNCTION_NOT_FOUND'));
    await provider.remove('dup', 'openfaas-fn');
    assert.equal(provider.getSpec('dup', 'openfaas-fn'), undefined);
  });

  test('provider - update replaces the running processes with the new spec', async () => {
    await provider.deploy(fixtureSpec('upd'));
    const before = await provider.invoke('upd', 'openfaas-fn', request({ method: 'GET' }));
    const oldPid = before.headers['x-pid'];
    await readAll(before);
    await provider.update(fixtureSpec('upd', { fprocess: nodeFixture('crash.mjs') }));
    const after = await provider.invoke('upd', 'openfaas-fn', request({ method: 'GET' }));
    assert.equal(after.headers['x-pid'], undefined);
    assert.notEqual(await readAll(after), String(oldPid));
    assert.equal((await provider.get('upd', 'openfaas-fn')).envProcess, nodeFixture('crash.mjs'));
  });

  test('provider - ops on one function apply strictly in order and end in the last state', async () => {
    opLog.length = 0;
    const results = await Promise.allSettled([
      provider.deploy(fixtureSpec('seq')),
      provider.scale('seq', 'openfaas-fn', 2),
      provider.remove('seq', 'openfaas-fn'),
      provider.deploy(fixtureSpec('seq', { environment: { mode: 'http', GEN: 'last' } })),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const spec = provider.getSpec('seq', 'openfaas-fn');
    assert.equal(spec?.environment.GEN, 'last');
    assert.equal((await provider.get('seq', 'openfaas-fn')).replicas, 1);
    const seq = opLog.filter((e) => e.fn === 'seq').map((e) => `${e.op}:${e.msg === 'op started' ? 'start' : 'end'}`);
    assert.deepEqual(seq, ['deploy:start', 'deploy:end', 'scale:start', 'scale:end', 'remove:start', 'remove:end', 'deploy:start', 'deploy:end']);
  });

  test('provider - ops on different functions run in parallel', async () => {
    opLog.length = 0;
    await Promise.all([provider.deploy(fixtureSpec('par-a')), provider.deploy(fixtureSpec('par-b'))]);
    const seq = opLog.filter((e) => e.fn.startsWith('par-')).map((e) => `${e.fn}:${e.msg === 'op started' ? 'start' : 'end'}`);
    // Both started before either finished.
    assert.deepEqual(seq.slice(0, 2).sort(), ['par-a:start', 'par-b:start']);
  });

  test('provider - logs returns tail and since, and follow streams new lines until aborted', async () => {
    await provider.deploy(fixtureSpec('chatty'));
    for (let i = 0; i < 3; i += 1) await readAll(await provider.invoke('chatty', 'openfaas-fn', request({ method: 'GET', path: '/log', query: `n=${i}` })));
    const collect = async (q: { tail?: number; since?: Date }) => {
      const out = [];
      for await (const e of provider.logs({ name: 'chatty', namespace: 'openfaas-fn', ...q })) out.push(e.text);
      return out;
    };
    await waitFor(async () => (await collect({})).filter((t) => t.startsWith('log line')).length === 3);
    assert.deepEqual(await collect({ tail: 1 }), ['log line 2']);
    assert.deepEqual(await collect({ since: new Date(Date.now() + 60_000) }), []);
    const controller = new AbortController();
    const followed: string[] = [];
    const following = (async () => {
      for await (const e of provider.logs({ name: 'chatty', namespace: 'openfaas-fn', tail: 1, follow: true, signal: controller.signal })) {
        followed.push(e.text);
        if (e.text === 'log line live') controller.abort();
      }
    })();
    await readAll(await provider.invoke('chatty', 'openfaas-fn', request({ method: 'GET', path: '/log', query: 'n=live' })));
    await following;
    assert.deepEqual(followed, ['log line 2', 'log line live']);
    const entry = (await (async () => { for await (const e of provider.logs({ name: 'chatty', namespace: 'openfaas-fn', tail: 1 })) return e; })())!;
    assert.equal(entry.instance, 'chatty-0');
    assert.equal(entry.namespace, 'openfaas-fn');
    await assert.rejects(async () => { for await (const _ of provider.logs({ name: 'ghost', namespace: 'openfaas-fn' })) break; }, (err) => isFaasqError(err, 'E_FUNCTION_NOT_FOUND'));
  });

  test('provider - secrets are stored 0600, listed, mounted per function and required at deploy', async () => {
    await provider.putSecret({ name: 'api-key', namespace: 'openfaas-fn', value: Buffer.from('s3cret') }, { create: true });
    await assert.rejects(provider.putSecret({ name: 'api-key', namespace: 'openfaas-fn', value: Buffer.from('x') }, { create: true }), (err) => isFaasqError(err, 'E_CONFLICT'));
    await assert.rejects(provider.putSecret({ name: 'nope', namespace: 'openfaas-fn', value: Buffer.from('x') }, { create: false }), (err) => isFaasqError(err, 'E_SECRET_NOT_FOUND'));
    const file = path.join(dir, 'secrets', 'openfaas-fn', 'api-key');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await provider.listSecrets('openfaas-fn'), [{ name: 'api-key', namespace: 'openfaas-fn' }]);
    await assert.rejects(provider.deploy(fixtureSpec('needs', { secrets: ['missing-one'] })), (err) => isFaasqError(err, 'E_DEPLOY_FAILED') && /missing-one/.test(err.message));
    await provider.deploy(fixtureSpec('needs', { secrets: ['api-key'] }));
    const res = await provider.invoke('needs', 'openfaas-fn', request({ method: 'GET' }));
    const mount = String(res.headers['x-secret-path']);
    await readAll(res);
    assert.equal(await readFile(path.join(mount, 'api-key'), 'utf8'), 's3cret');
    await provider.putSecret({ name: 'api-key', namespace: 'openfaas-fn', value: Buffer.from('rotated') }, { create: false });
    assert.equal(await readFile(path.join(mount, 'api-key'), 'utf8'), 'rotated');
    await provider.removeSecret('api-key', 'openfaas-fn');
    await assert.rejects(provider.removeSecret('api-key', 'openfaas-fn'), (err) => isFaasqError(err, 'E_SECRET_NOT_FOUND'));
    assert.deepEqual(await provider.listSecrets('openfaas-fn'), []);
    await assert.rejects(provider.putSecret({ name: '../x', namespace: 'openfaas-fn', value: Buffer.from('x') }, { create: true }), (err) => isFaasqError(err, 'E_INVALID_FIELD'));
  });

  test('provider - upstream functions forward to the annotated URL with path and query', async () => {
    const server = http.createServer((req, res) => {
      res.setHeader('x-upstream-url', req.url ?? '');
      req.pipe(res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      await provider.deploy(fixtureSpec('up', { fprocess: '', environment: {}, annotations: { 'com.faasq.upstream': `http://127.0.0.1:${port}/base/` } }));
      const res = await provider.invoke('up', 'openfaas-fn', request({ path: '/x/y', query: 'q=1', body: bodyOf('via upstream') }));
      assert.equal(res.headers['x-upstream-url'], '/base/x/y?q=1');
      assert.ok(res.headers['x-duration-seconds']);
      assert.equal(await readAll(res), 'via upstream');
      assert.equal((await provider.get('up', 'openfaas-fn')).availableReplicas, 1);
    } finally {
      server.close();
      server.closeAllConnections();
    }
    await provider.deploy(fixtureSpec('down', { fprocess: '', environment: {}, annotations: { 'com.faasq.upstream': `http://127.0.0.1:${port}` } }));
    await assert.rejects(provider.invoke('down', 'openfaas-fn', request()), (err) => isFaasqError(err, 'E_FUNCTION_UNREACHABLE'));
    await assert.rejects(provider.deploy(fixtureSpec('badurl', { annotations: { 'com.faasq.upstream': 'not a url' } })), (err) => isFaasqError(err, 'E_DEPLOY_FAILED'));
  });

  test('provider - list, namespaces and health describe the deployed functions', async () => {
    await provider.deploy(fixtureSpec('other-ns', { namespace: 'team-a' }));
    assert.deepEqual((await provider.list('team-a')).map((s) => s.name), ['other-ns']);
    assert.ok((await provider.namespaces()).includes('team-a'));
    assert.ok((await provider.namespaces()).includes('openfaas-fn'));
    const health = provider.health();
    assert.equal(health.isReady, true);
    assert.ok(health.functions >= 1);
    const status = await provider.get('other-ns', 'team-a');
    assert.ok(!Number.isNaN(Date.parse(status.createdAt)));
  });
});
