// With a queue, the gateway mounts the async routes and hands `/function/{name}` calls carrying
// `X-Invoke-Mode: async` to the async accept path instead of invoking them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { loadConfig } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { createMemoryQueue, queueOptionsFrom, type Queue } from '../../src/queue/index.js';
import { EventBus } from '../../src/shared/events.js';
import { silentLogger } from '../../src/shared/logger.js';
import { makeTempDir } from '../support/temp-dir.js';
import { startFunctionServer, type FunctionServer } from './support/function-server.js';
import { createTestProvider, type TestProvider } from './support/test-provider.js';

describe('gateway async hand-off', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let fn: FunctionServer;
  let provider: TestProvider;
  let queue: Queue;
  let gateway: Gateway;
  let url: string;

  before(async () => {
    tmp = await makeTempDir('faasq-gw-async-');
    fn = await startFunctionServer();
    const config = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: 0, dataDir: tmp.dir, 'queue.url': 'memory' } });
    provider = createTestProvider();
    provider.add('echo', fn.url);
    queue = createMemoryQueue(queueOptionsFrom(config), silentLogger());
    await queue.start();
    gateway = createGateway({ config, provider, events: new EventBus(), logger: silentLogger(), credentials: { user: 'admin', password: 'pw' }, queue });
    url = `http://127.0.0.1:${(await gateway.start()).port}`;
  });
  after(async () => {
    await gateway.close();
    await queue.close();
    await provider.close();
    await fn.close();
    await tmp.cleanup();
  });

  test('async hand-off - X-Invoke-Mode: async on /function queues the call (202) without invoking it', async () => {
    const before = fn.seen.length;
    const res = await request(`${url}/function/echo/sub?q=1`, { method: 'POST', headers: { 'x-invoke-mode': 'async', 'x-call-id': 'handoff-1' }, body: 'later' });
    assert.equal(res.statusCode, 202);
    assert.equal(res.headers['x-call-id'], 'handoff-1');
    await res.body.dump();
    assert.equal(fn.seen.length, before, 'the function was not called synchronously');
    const record = await queue.getRecord('handoff-1');
    assert.equal(record?.function, 'echo');
    assert.equal(record?.state, 'queued');
  });

  test('async hand-off - the async routes are mounted', async () => {
    const res = await request(`${url}/async-function/echo`, { method: 'POST', body: 'x' });
    assert.equal(res.statusCode, 202);
    const callId = String(res.headers['x-call-id']);
    await res.body.dump();
    const status = await request(`${url}/async-function/${callId}`);
    assert.equal(status.statusCode, 200);
    assert.equal(((await status.body.json()) as { callId: string }).callId, callId);
  });

  test('async hand-off - stopIntake refuses async hand-offs with 503', async () => {
    gateway.stopIntake();
    const res = await request(`${url}/function/echo`, { method: 'POST', headers: { 'x-invoke-mode': 'async' }, body: 'x' });
    assert.equal(res.statusCode, 503);
    await res.body.dump();
  });
});
