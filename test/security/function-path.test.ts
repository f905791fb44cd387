// A function's path never climbs above its base: `..` in every spelling is resolved inside the
// function's root or refused with 400 E_INVALID_PATH, on the express lane, the full path and the
// async accept, for an upstream with a base path and an http-mode replica alike. Also the
// OpenFaaS answer for an empty or unknown name on /function/: 404 on both lanes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.js';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { createLocalProvider, UPSTREAM_ANNOTATION, type Provider } from '../../src/provider/index.js';
import { createMemoryQueue, queueOptionsFrom, type Queue } from '../../src/queue/index.js';
import { EventBus } from '../../src/shared/events.js';
import { silentLogger } from '../../src/shared/logger.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { fixtureSpec } from '../support/provider-fixtures.js';
import { RawClient, type RawReply } from '../gateway/support/raw-client.js';
import { startRecordingFunction, type RecordingFunction } from '../gateway/support/recording-function.js';

const ESCAPES = [
  '/../../admin',
  '/%2e%2e/%2e%2e/admin',
  '/%2E%2e/admin',
  '/.%2E/admin',
  '/a/../../admin',
  '/a/%2e%2e/%2E%2E/admin',
  '/..%2f..%2fadmin',
  '/a/..%5C..%5Cadmin',
];
const RESOLVED: [string, string][] = [
  ['/a/../b', '/b'],
  ['/a/%2e%2e/b', '/b'],
  ['/a/./b/%2E/c', '/a/b/c'],
  ['/a/b/..', '/a/'],
  ['/file.v2.txt', '/file.v2.txt'],
];

async function get(url: string, target: string, method = 'GET'): Promise<RawReply> {
  const client = await RawClient.connect(url);
  try {
    client.write(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    return await client.readReply();
  } finally {
    client.socket.destroy();
  }
}

describe('function paths stay under the function root', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let fn: RecordingFunction;
  let provider: Provider;
  let queue: Queue;
  const gateways: Gateway[] = [];
  const urls: Record<'express' | 'full', string> = { express: '', full: '' };

  before(async () => {
    tmp = await makeTempDir('faasq-path-');
    fn = await startRecordingFunction();
    const base = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: 0, dataDir: tmp.dir } });
    const events = new EventBus();
    provider = createLocalProvider({ config: base, logger: silentLogger(), events, env: {} });
    await provider.start();
    await provider.deploy({ ...fixtureSpec('up'), fprocess: undefined, environment: {}, annotations: { [UPSTREAM_ANNOTATION]: `${fn.url}/base` } } as never);
    await provider.deploy(fixtureSpec('hm'));
    queue = createMemoryQueue(queueOptionsFrom(base), silentLogger());
    await queue.start();
    for (const lane of ['express', 'full'] as const) {
      const config = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: 0, dataDir: tmp.dir, 'gateway.isExpressLane': lane === 'express' } });
      const gateway = createGateway({ config, provider, events, queue, logger: silentLogger(), credentials: { user: 'admin', password: 'pw' } });
      gateways.push(gateway);
      urls[lane] = `http://127.0.0.1:${(await gateway.start()).port}`;
    }
    await waitFor(async () => (await get(urls.full, '/function/hm/x')).status === 200, { timeoutMs: 15_000, intervalMs: 100, message: 'hm ready' });
  });

  after(async () => {
    for (const g of gateways) await g.close();
    await queue?.close();
    await provider?.close();
    await fn?.close();
    await tmp.cleanup();
  });

  for (const lane of ['express', 'full'] as const) {
    test(`function path - ${lane}: every spelling of a climb above the root is 400 and reaches no function`, async () => {
      const before = fn.requests.length;
      for (const p of ESCAPES) {
        for (const f of ['up', 'hm']) {
          const reply = await get(urls[lane], `/function/${f}${p}?q=1`);
          assert.equal(reply.status, 400, `${f}${p}`);
          assert.match(reply.body.toString(), /E_INVALID_PATH/, `${f}${p}`);
          assert.ok(reply.headers.get('x-call-id'), 'an invocation reply carries X-Call-Id');
        }
      }
      assert.equal(fn.requests.length, before, fn.requests.slice(before).map((r) => r.url).join(' '));
    });

    test(`function path - ${lane}: dot segments inside the root are resolved before the upstream and the http-mode replica see them`, async () => {
      for (const [p, want] of RESOLVED) {
        const before = fn.requests.length;
        await get(urls[lane], `/function/up${p}?q=1`);
        assert.equal(fn.requests.at(before)?.url, `/base${want}?q=1`, p);
        const hm = await get(urls[lane], `/function/hm${p}?q=1`);
        assert.equal(hm.status, 200);
        assert.equal(hm.headers.get('x-raw-url')?.[0], `${want}?q=1`, p);
      }
    });

    test(`function names - ${lane}: an empty or unknown name answers 404 as OpenFaaS`, async () => {
      for (const target of ['/function/.openfaas-fn', '/function/', '/function/.', '/function/nope', '/function/nope.openfaas-fn/x', '/function/a$b']) {
        const reply = await get(urls[lane], target);
        assert.equal(reply.status, 404, target);
        assert.match(reply.body.toString(), /E_FUNCTION_NOT_FOUND/, target);
      }
    });
  }

  test('function path - async accept refuses a climb with 400 before storing anything', async () => {
    for (const target of ['/async-function/up/../../admin', '/async-function/up/%2e%2e/admin']) {
      const reply = await get(urls.full, target, 'POST');
      assert.equal(reply.status, 400, target);
      assert.match(reply.body.toString(), /E_INVALID_PATH/);
    }
    const viaHeader = await RawClient.connect(urls.full);
    viaHeader.write('POST /function/up/%2E%2E/admin HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Invoke-Mode: async\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assert.equal((await viaHeader.readReply()).status, 400);
    viaHeader.socket.destroy();
  });
});
