import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createRemoteInvoker } from '../../src/provider/index.js';
import { isFaasqError, silentLogger } from '../../src/shared/index.js';
import { bodyOf, readAll, request } from '../support/provider-fixtures.js';

describe('provider remote invoker', () => {
  test('provider - remote invoker calls /function/<name>.<namespace> and returns any status as the response', async () => {
    const server = http.createServer((req, res) => {
      if (req.url?.includes('slow')) return; // never answers
      res.statusCode = req.url?.includes('missing') ? 404 : 201;
      res.setHeader('x-url', req.url ?? '');
      req.pipe(res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const invoker = createRemoteInvoker({ baseUrl: `http://127.0.0.1:${port}/`, logger: silentLogger(), timeoutMs: 300 });
    try {
      const res = await invoker.invoke('echo', 'openfaas-fn', request({ path: '/a', query: 'b=1', body: bodyOf('hi') }));
      assert.equal(res.status, 201);
      assert.equal(res.headers['x-url'], '/function/echo.openfaas-fn/a?b=1');
      assert.equal(await readAll(res), 'hi');
      const missing = await invoker.invoke('missing', 'openfaas-fn', request());
      assert.equal(missing.status, 404);
      await readAll(missing);
      await assert.rejects(invoker.invoke('slow', 'openfaas-fn', request()), (err) => isFaasqError(err, 'E_FUNCTION_TIMEOUT'));
    } finally {
      await invoker.close();
      server.close();
      server.closeAllConnections();
    }
    const down = createRemoteInvoker({ baseUrl: `http://127.0.0.1:${port}`, logger: silentLogger(), timeoutMs: 300 });
    await assert.rejects(down.invoke('echo', 'openfaas-fn', request()), (err) => isFaasqError(err, 'E_FUNCTION_UNREACHABLE'));
    await down.close();
  });
});
