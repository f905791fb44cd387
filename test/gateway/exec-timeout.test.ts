// A function's exec timeout on the full path (Node's server and undici: lane off, chunked bodies,
// async calls) fires at its value, as on the express lane, not up to a second late on undici's
// coarse timers; it counts from when the request goes out, restarted while its body is still sent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import type { Gateway } from '../../src/gateway/index.js';
import { UPSTREAM_ANNOTATION, type Provider } from '../../src/provider/index.js';
import { isFaasqError } from '../../src/shared/errors.js';
import { fixtureSpec, nodeFixture, request as invocation } from '../support/provider-fixtures.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startFunctionServer, type FunctionServer } from './support/function-server.js';
import { startLocalGateway } from './support/local-gateway.js';
import { RawClient } from './support/raw-client.js';

const EXEC_TIMEOUT_MS = 500;
/** How late a timeout may answer on a loaded shared machine; undici's timers were 500-1000 ms late. */
const SLACK_MS = 200;

describe('exec timeout on the full path', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let upstream: FunctionServer;
  const gateways: { gateway: Gateway; provider: Provider; url: string }[] = [];
  const urls = { full: '', lane: '' };

  before(async () => {
    tmp = await makeTempDir('faasq-exec-timeout-');
    upstream = await startFunctionServer();
    for (const lane of ['full', 'lane'] as const) {
      const config = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: 0, dataDir: `${tmp.dir}/${lane}`, 'provider.sandbox': 'off', 'gateway.isExpressLane': lane === 'lane' } });
      const started = await startLocalGateway(config);
      gateways.push(started);
      urls[lane] = started.url;
      const env = { mode: 'http', exec_timeout: `${EXEC_TIMEOUT_MS}ms` };
      await started.provider.deploy(fixtureSpec('sleepy', { fprocess: nodeFixture('slow.mjs'), environment: env }));
      await started.provider.deploy(fixtureSpec('collect', { fprocess: nodeFixture('collect.mjs'), environment: env }));
      await started.provider.deploy(fixtureSpec('remote', { fprocess: '', environment: { exec_timeout: `${EXEC_TIMEOUT_MS}ms` }, annotations: { [UPSTREAM_ANNOTATION]: upstream.url } }));
      for (const name of ['sleepy', 'collect']) {
        await waitFor(async () => (await started.provider.get(name, 'openfaas-fn')).availableReplicas === 1, { timeoutMs: 10_000, message: `${name} ready` });
      }
    }
  });
  after(async () => {
    for (const { gateway, provider } of gateways) {
      await gateway.close();
      await provider.close();
    }
    await upstream?.close();
    await tmp?.cleanup();
  });

  /** Sends `head` (and chunked `chunks`, if any) and times the reply from the first byte sent. */
  async function timed(url: string, head: string, chunks?: string[]): Promise<{ status: number; ms: number; body: string }> {
    const client = await RawClient.connect(url);
    try {
      const t0 = performance.now();
      client.write(head);
      for (const chunk of chunks ?? []) client.write(`${Buffer.byteLength(chunk).toString(16)}\r\n${chunk}\r\n`);
      if (chunks) client.write('0\r\n\r\n');
      const reply = await client.readReply({ timeoutMs: 10_000 });
      return { status: reply.status, ms: performance.now() - t0, body: reply.body.toString() };
    } finally {
      client.close();
    }
  }

  const inWindow = (ms: number, what: string): void => {
    assert.ok(ms >= EXEC_TIMEOUT_MS - 5 && ms < EXEC_TIMEOUT_MS + SLACK_MS, `${what}: 504 after ${Math.round(ms)} ms, want ${EXEC_TIMEOUT_MS}-${EXEC_TIMEOUT_MS + SLACK_MS}`);
  };

  test('exec timeout - full path (lane off): an http-mode function past its 500 ms exec timeout is 504 within 500-700 ms', async () => {
    const reply = await timed(urls.full, 'GET /function/sleepy?ms=3000 HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n');
    assert.equal(reply.status, 504);
    assert.match(reply.body, /E_FUNCTION_TIMEOUT/);
    inWindow(reply.ms, 'lane off');
  });

  test('exec timeout - full path (a chunked request, lane on): 504 within 500-700 ms', async () => {
    const reply = await timed(urls.lane, 'POST /function/sleepy?ms=3000 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n', ['x']);
    assert.equal(reply.status, 504);
    inWindow(reply.ms, 'chunked');
  });

  test('exec timeout - full path: an upstream function past its exec timeout is 504 within 500-700 ms', async () => {
    const reply = await timed(urls.full, 'GET /function/remote/slow?ms=3000 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal(reply.status, 504);
    inWindow(reply.ms, 'upstream');
  });

  test('exec timeout - full path: X-Timeout shortens it to the millisecond too', async () => {
    const reply = await timed(urls.full, 'GET /function/sleepy?ms=3000 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Timeout: 200ms\r\n\r\n');
    assert.equal(reply.status, 504);
    assert.ok(reply.ms >= 195 && reply.ms < 200 + SLACK_MS, `X-Timeout 200ms: 504 after ${Math.round(reply.ms)} ms`);
  });

  test('exec timeout - provider invoke (async calls): E_FUNCTION_TIMEOUT within 500-700 ms', async () => {
    const t0 = performance.now();
    await assert.rejects(gateways[0].provider.invoke('sleepy', 'openfaas-fn', invocation({ method: 'GET', query: 'ms=3000' })), (err) => isFaasqError(err, 'E_FUNCTION_TIMEOUT'));
    inWindow(performance.now() - t0, 'invoke');
  });

  test('exec timeout - full path: a request body still arriving does not count; the timeout runs once the function has it all', async () => {
    // Five chunks 200 ms apart: the upload takes ~800 ms, longer than the exec timeout.
    const client = await RawClient.connect(urls.full);
    try {
      client.write('POST /function/collect HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let i = 0; i < 5; i += 1) {
        client.write('4\r\nabcd\r\n');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      client.write('0\r\n\r\n');
      const reply = await client.readReply({ timeoutMs: 10_000 });
      assert.equal(reply.status, 200);
      assert.equal(reply.body.toString(), '20\n');
    } finally {
      client.close();
    }
  });

  test('exec timeout - full path: a function that answers in time is not cut', async () => {
    const reply = await timed(urls.full, 'GET /function/sleepy?ms=100 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'slept 100\n');
  });
});
