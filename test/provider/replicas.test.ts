import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { restartDelayMs, type LogEntry, type Provider } from '../../src/provider/index.js';
import { isFaasqError } from '../../src/shared/index.js';
import { waitFor } from '../support/wait-for.js';
import { fixtureSpec, isAlive, nodeFixture, readAll, request, startTestProvider } from '../support/provider-fixtures.js';

async function collectLogs(provider: Provider, name: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const entry of provider.logs({ name, namespace: 'openfaas-fn' })) out.push(entry);
  return out;
}

describe('provider replicas', () => {
  let provider: Provider;
  let close: () => Promise<void>;

  before(async () => {
    ({ provider, close } = await startTestProvider({ 'provider.readyTimeoutMs': '1500ms' }));
  });

  after(() => close());

  test('provider - restart delay doubles from min and is capped at max', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => restartDelayMs(n, 50, 400)), [50, 100, 200, 400, 400, 400]);
  });

  test('provider - com.openfaas.scale.min starts that many replicas and requests spread over them', async () => {
    await provider.deploy(fixtureSpec('multi', { labels: { 'com.openfaas.scale.min': '3' } }));
    await waitFor(async () => (await provider.get('multi', 'openfaas-fn')).availableReplicas === 3);
    const pids = new Set<string>();
    for (let i = 0; i < 6; i += 1) {
      const res = await provider.invoke('multi', 'openfaas-fn', request({ method: 'GET' }));
      pids.add(String(res.headers['x-pid']));
      await readAll(res);
    }
    assert.equal(pids.size, 3);
  });

  test('provider - scale up and down changes replicas and availableReplicas', async () => {
    await provider.deploy(fixtureSpec('scaled'));
    await provider.scale('scaled', 'openfaas-fn', 2);
    await waitFor(async () => (await provider.get('scaled', 'openfaas-fn')).availableReplicas === 2);
    await provider.scale('scaled', 'openfaas-fn', 1);
    const status = await provider.get('scaled', 'openfaas-fn');
    assert.equal(status.replicas, 1);
    assert.equal(status.availableReplicas, 1);
    await provider.scale('scaled', 'openfaas-fn', 0);
    await assert.rejects(provider.invoke('scaled', 'openfaas-fn', request()), (err) => isFaasqError(err, 'E_FUNCTION_NOT_READY'));
    await assert.rejects(provider.scale('scaled', 'openfaas-fn', -1), (err) => isFaasqError(err, 'E_INVALID_FIELD'));
    await assert.rejects(provider.scale('ghost', 'openfaas-fn', 1), (err) => isFaasqError(err, 'E_FUNCTION_NOT_FOUND'));
  });

  test('provider - a replica that exits at start stays unavailable and is retried with exponential backoff', async () => {
    await provider.deploy(fixtureSpec('dies', { fprocess: nodeFixture('exit-at-start.mjs') }));
    const entries = await waitFor(async () => {
      const logs = await collectLogs(provider, 'dies');
      return logs.filter((e) => /restart \d+ in/.test(e.text)).length >= 5 ? logs : undefined;
    }, { timeoutMs: 8000 });
    const delays = entries.map((e) => /restart \d+ in (\d+)ms/.exec(e.text)?.[1]).filter(Boolean).map(Number);
    assert.deepEqual(delays.slice(0, 5), [50, 100, 200, 400, 400]);
    assert.ok(entries.some((e) => /starting pid/.test(e.text)));
    assert.equal((await provider.get('dies', 'openfaas-fn')).availableReplicas, 0);
    await assert.rejects(provider.invoke('dies', 'openfaas-fn', request()), (err) => isFaasqError(err, 'E_FUNCTION_NOT_READY') && err.status === 503);
  });

  test('provider - an invocation waits for a replica that is still starting', async () => {
    await provider.deploy(fixtureSpec('warming'));
    const res = await provider.invoke('warming', 'openfaas-fn', request({ method: 'GET' }));
    assert.equal(res.status, 200);
    await readAll(res);
  });

  test('provider - close stops every process, SIGKILL for those ignoring SIGTERM', async () => {
    const { provider: own, close } = await startTestProvider({ 'provider.shutdownGraceMs': '300ms' });
    await own.deploy(fixtureSpec('a', { labels: { 'com.openfaas.scale.min': '2' } }));
    await own.deploy(fixtureSpec('stubborn', { fprocess: nodeFixture('ignores-sigterm.mjs') }));
    await waitFor(async () => (await own.get('a', 'openfaas-fn')).availableReplicas === 2 && (await own.get('stubborn', 'openfaas-fn')).availableReplicas === 1);
    const pids: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const res = await own.invoke('a', 'openfaas-fn', request({ method: 'GET' }));
      pids.push(Number(res.headers['x-pid']));
      await readAll(res);
    }
    pids.push(Number(await readAll(await own.invoke('stubborn', 'openfaas-fn', request({ method: 'GET' })))));
    assert.equal(new Set(pids).size, 3);
    assert.ok(pids.every(isAlive));
    await own.close();
    for (const pid of pids) assert.ok(!isAlive(pid), `pid ${pid} still alive`);
    await own.close();
    assert.equal(own.health().isReady, false);
    await assert.rejects(own.invoke('a', 'openfaas-fn', request()), (err) => isFaasqError(err, 'E_SHUTTING_DOWN'));
    await close();
  });
});

test('provider - a replica failing its health check leaves rotation and returns when healthy', async () => {
  const { provider: own, close } = await startTestProvider({ 'provider.healthIntervalMs': '50ms' });
  try {
    await own.deploy(fixtureSpec('sickly'));
    await waitFor(async () => (await own.get('sickly', 'openfaas-fn')).availableReplicas === 1);
    await readAll(await own.invoke('sickly', 'openfaas-fn', request({ method: 'GET', path: '/sick', query: 'ms=600' })));
    await waitFor(async () => (await own.get('sickly', 'openfaas-fn')).availableReplicas === 0, { message: 'replica out of rotation' });
    await waitFor(async () => (await own.get('sickly', 'openfaas-fn')).availableReplicas === 1, { message: 'replica back in rotation' });
  } finally {
    await close();
  }
});

test('provider - close lets in-flight requests finish before stopping processes', async () => {
  const { provider: own, close } = await startTestProvider({ 'provider.shutdownGraceMs': '3s' });
  await own.deploy(fixtureSpec('streamer'));
  await own.deploy(fixtureSpec('forky', { fprocess: nodeFixture('fork.mjs'), environment: {} }));
  try {
    const body = new PassThrough();
    body.write('first ');
    // Headers come back once the echo function has the first chunk: the request is in flight.
    const httpRes = await own.invoke('streamer', 'openfaas-fn', request({ body }));
    const forkCall = own.invoke('forky', 'openfaas-fn', request({ query: 'sleep=300', body: Buffer.from('done') }));
    const closing = own.close();
    body.end('second');
    assert.equal(await readAll(httpRes), 'first second');
    const forkRes = await forkCall;
    assert.equal(forkRes.status, 200);
    assert.equal(await readAll(forkRes), 'done');
    await closing;
  } finally {
    await close();
  }
});
