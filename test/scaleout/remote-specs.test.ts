// The spec source of a `faasq worker` without a local runtime: specs from the gateway API (basic
// auth, cached, refreshed on a miss, last good list kept when the gateway is down) or from a
// stack file given through FAASQ_STACK.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRemoteFunctions } from '../../src/app/remote-functions.js';
import { loadConfig } from '../../src/config/index.js';
import { createRemoteSpecSource } from '../../src/provider/index.js';
import { isFaasqError, silentLogger } from '../../src/shared/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

const AUTH = `Basic ${Buffer.from('admin:pw').toString('base64')}`;

async function fakeGateway(functions: () => Array<{ name: string; annotations: Record<string, string> }>) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.headers.authorization !== AUTH) {
      res.statusCode = 401;
      return res.end();
    }
    res.setHeader('content-type', 'application/json');
    if (req.url === '/system/namespaces') return res.end(JSON.stringify(['openfaas-fn']));
    if (req.url?.startsWith('/system/functions?namespace=openfaas-fn')) {
      return res.end(JSON.stringify(functions().map((f) => ({ ...f, namespace: 'openfaas-fn', image: '', envProcess: 'cat', envVars: {}, labels: {}, secrets: [], constraints: [], replicas: 1, availableReplicas: 1, invocationCount: 0, createdAt: '' }))));
    }
    res.statusCode = 404;
    res.end('[]');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) };
}

describe('scale-out - worker spec source', () => {
  test('scale-out - specs come from GET /system/functions with credentials; a miss refreshes; the last good list survives a gateway outage', async () => {
    let fns: Array<{ name: string; annotations: Record<string, string> }> = [{ name: 'a', annotations: { 'com.openfaas.retry.attempts': '2' } }];
    const gw = await fakeGateway(() => fns);
    const source = createRemoteSpecSource({ baseUrl: `${gw.url}/`, logger: silentLogger(), credentials: { user: 'admin', password: 'pw' }, ttlMs: 60_000, minMissRefreshMs: 0 });
    try {
      await source.start();
      assert.equal(source.getSpec('a', 'openfaas-fn')?.annotations['com.openfaas.retry.attempts'], '2');
      assert.equal(source.getSpec('a', 'openfaas-fn')?.fprocess, 'cat');
      assert.ok(gw.seen.includes('GET /system/functions?namespace=openfaas-fn'));

      fns = [...fns, { name: 'b', annotations: { 'com.faasq.async.concurrency': '3' } }];
      assert.equal(source.getSpec('b', 'openfaas-fn'), undefined, 'unknown at first: defaults for this delivery');
      const b = await waitFor(() => source.getSpec('b', 'openfaas-fn'), { timeoutMs: 5000, message: 'b fetched after the miss' });
      assert.equal(b.annotations['com.faasq.async.concurrency'], '3');

      await gw.close();
      await source.refresh();
      assert.ok(source.getSpec('a', 'openfaas-fn'), 'kept after a failed refresh');
    } finally {
      source.close();
      await gw.close();
    }
  });

  test('scale-out - a worker given a stack file (FAASQ_STACK) takes specs from it, and needs --functions-url', async () => {
    const tmp = await makeTempDir();
    try {
      const stack = path.join(tmp.dir, 'stack.yml');
      await writeFile(stack, 'version: "1.0"\nfunctions:\n  f:\n    fprocess: cat\n    annotations:\n      com.openfaas.retry.attempts: "4"\n');
      const config = loadConfig({ env: { FAASQ_STACK: stack, FAASQ_FUNCTIONS_URL: 'http://127.0.0.1:9' } });
      const remote = await createRemoteFunctions(config, silentLogger());
      try {
        assert.equal(remote.getSpec('f', 'openfaas-fn')?.annotations['com.openfaas.retry.attempts'], '4');
        assert.equal(remote.getSpec('g', 'openfaas-fn'), undefined);
      } finally {
        await remote.close();
      }
      await assert.rejects(createRemoteFunctions(loadConfig({ env: {} }), silentLogger()), (err) => isFaasqError(err, 'E_CONFIG'));
    } finally {
      await tmp.cleanup();
    }
  });
});
