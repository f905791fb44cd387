// Request bodies: FAASQ_MAX_BODY refuses a sync body over the limit with 413 (declared or
// chunked, on both lanes), and FAASQ_MAX_BUFFERED caps the request bytes the gateway holds in
// memory: an async body that does not fit is 503 E_GATEWAY_BUSY, a small sync body then streams.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { createMemoryQueue, queueOptionsFrom, type Queue } from '../../src/queue/index.js';
import { EventBus } from '../../src/shared/events.js';
import { silentLogger } from '../../src/shared/logger.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { RawClient } from './support/raw-client.js';
import { startFunctionServer, type FunctionServer } from './support/function-server.js';
import { createTestProvider, type TestProvider } from './support/test-provider.js';

const MAX_BODY = 4096;
const MAX_BUFFERED = 3000;

describe('request body limits', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let fn: FunctionServer;
  let provider: TestProvider;
  let queue: Queue;
  const gateways: Gateway[] = [];
  const urls = { express: '', full: '' };

  before(async () => {
    tmp = await makeTempDir('faasq-body-');
    fn = await startFunctionServer();
    provider = createTestProvider();
    provider.add('echo', fn.url);
    const base = { host: '127.0.0.1', port: 0, dataDir: tmp.dir, 'queue.url': 'memory', 'gateway.maxBodyBytes': String(MAX_BODY), 'gateway.maxBufferedBytes': String(MAX_BUFFERED), 'gateway.maxAsyncBodyBytes': '2KiB' };
    queue = createMemoryQueue(queueOptionsFrom(loadConfig({ env: {}, flags: base })), silentLogger());
    await queue.start();
    for (const lane of ['express', 'full'] as const) {
      const config = loadConfig({ env: {}, flags: { ...base, 'gateway.isExpressLane': lane === 'express' } });
      const gateway = createGateway({ config, provider, events: new EventBus(), logger: silentLogger(), credentials: { user: 'admin', password: 'pw' }, queue });
      gateways.push(gateway);
      urls[lane] = `http://127.0.0.1:${(await gateway.start()).port}`;
    }
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await queue?.close();
    await provider?.close();
    await fn?.close();
    await tmp.cleanup();
  });

  test('body limits - FAASQ_MAX_BODY defaults to 128 MiB and FAASQ_MAX_BUFFERED to 64 MiB', () => {
    const config = loadConfig({ env: {} });
    assert.equal(config.gateway.maxBodyBytes, 128 * 1024 * 1024);
    assert.equal(config.gateway.maxBufferedBytes, 64 * 1024 * 1024);
    assert.equal(loadConfig({ env: { FAASQ_MAX_BODY: '10MiB' } }).gateway.maxBodyBytes, 10 * 1024 * 1024);
  });

  for (const lane of ['express', 'full'] as const) {
    test(`body limits - ${lane}: a declared body over FAASQ_MAX_BODY is 413 and never reaches the function; one at the limit passes`, async () => {
      const before = fn.seen.length;
      const over = await fetch(`${urls[lane]}/function/echo/echo`, { method: 'POST', body: Buffer.alloc(MAX_BODY + 1, 97), headers: { accept: 'application/json' } });
      assert.equal(over.status, 413);
      assert.equal((await over.json() as { error: string }).error, 'E_BODY_TOO_LARGE');
      assert.ok(over.headers.get('x-call-id'));
      assert.equal(fn.seen.length, before, 'the function was not called');
      const at = await fetch(`${urls[lane]}/function/echo/echo`, { method: 'POST', body: Buffer.alloc(MAX_BODY, 97) });
      assert.equal(at.status, 200);
      assert.equal((await at.arrayBuffer()).byteLength, MAX_BODY);
    });

    test(`body limits - ${lane}: a chunked body is stopped with 413 when it grows past the limit`, async () => {
      const client = await RawClient.connect(urls[lane]);
      try {
        client.write('POST /function/echo/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nAccept: application/json\r\n\r\n');
        const chunk = Buffer.alloc(1024, 98);
        for (let i = 0; i < 6; i += 1) client.write(Buffer.concat([Buffer.from('400\r\n'), chunk, Buffer.from('\r\n')]));
        const reply = await client.readReply();
        assert.equal(reply.status, 413);
        assert.match(reply.body.toString(), /E_BODY_TOO_LARGE/);
      } finally {
        client.socket.destroy();
      }
      const small = await fetch(`${urls[lane]}/function/echo/echo`, { method: 'POST', body: new Blob(['x'.repeat(3000)]).stream(), duplex: 'half' });
      assert.equal(small.status, 200);
      assert.equal((await small.text()).length, 3000);
    });
  }

  test('body limits - async bodies count against FAASQ_MAX_BUFFERED: 503 E_GATEWAY_BUSY while it is spent, 202 once given back', async () => {
    // An accept that has declared 2000 bytes and sent 10 holds 2000 of the 3000.
    const slow = await RawClient.connect(urls.full);
    slow.write('POST /async-function/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000\r\n\r\n' + 'y'.repeat(10));
    await waitFor(() => gateways[1].heldBodyBytes() === 2000, { timeoutMs: 5000, message: 'the slow accept holds its declared 2000 bytes' });
    try {
      const busy = await fetch(`${urls.full}/async-function/echo`, { method: 'POST', body: 'z'.repeat(1500), headers: { accept: 'application/json' } });
      assert.equal(busy.status, 503);
      assert.equal(busy.headers.get('retry-after'), '1');
      assert.equal((await busy.json() as { error: string }).error, 'E_GATEWAY_BUSY');
      // A small sync body does not fit either, so it streams instead of failing.
      const sync = await fetch(`${urls.full}/function/echo/echo`, { method: 'POST', body: 'w'.repeat(1500) });
      assert.equal(sync.status, 200);
      assert.equal((await sync.text()).length, 1500);

      slow.write('y'.repeat(1990));
      assert.equal((await slow.readReply()).status, 202);
    } finally {
      slow.socket.destroy();
    }
    await waitFor(() => gateways[1].heldBodyBytes() === 0, { timeoutMs: 5000, message: 'every held byte given back' });
    const fits = await fetch(`${urls.full}/async-function/echo`, { method: 'POST', body: 'z'.repeat(1500) });
    assert.equal(fits.status, 202);
  });
});
