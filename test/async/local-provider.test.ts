import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalProvider, type Provider } from '../../src/provider/index.js';
import { EventBus, silentLogger } from '../../src/shared/index.js';
import { fixtureSpec, nodeFixture } from '../support/provider-fixtures.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startHarness, type Harness } from './support/harness.js';

describe('async with the local provider', () => {
  let h: Harness;
  let provider!: Provider;
  let cleanup: () => Promise<void>;
  before(async () => {
    const tmp = await makeTempDir();
    cleanup = tmp.cleanup;
    h = await startHarness(
      { 'provider.execTimeoutMs': '5s', 'provider.readyTimeoutMs': '5s', 'provider.restartMinMs': '50ms', 'provider.restartMaxMs': '200ms', 'provider.shutdownGraceMs': '1s' },
      { dataDir: tmp.dir, provider: (config) => (provider = createLocalProvider({ config, logger: silentLogger(), events: new EventBus() })) },
    );
    await provider.deploy(fixtureSpec('echo'));
    await provider.deploy(fixtureSpec('crash', { fprocess: nodeFixture('crash.mjs') }));
    await provider.deploy(fixtureSpec('forky', { fprocess: nodeFixture('fork.mjs'), environment: {}, annotations: { 'com.openfaas.retry.attempts': '2' } }));
    await h.startWorker();
  });
  after(async () => {
    await h.close();
    await cleanup();
  });

  test('async local - an http-mode function runs and its echo is the result', async () => {
    const callId = (await h.submit('echo', { path: '/p', body: 'hello', headers: { 'content-type': 'text/plain' } })).headers.get('x-call-id')!;
    await h.waitForState(callId, ['succeeded'], 10_000);
    const result = await fetch(`${h.url}/async-function/${callId}/result`);
    assert.equal(result.status, 200);
    assert.equal(result.headers.get('x-path'), '/p');
    assert.match(result.headers.get('x-seen-headers') ?? '', /x-call-id/);
    assert.equal(await result.text(), 'hello');
  });

  test('async local - a process that exits mid-request is retried, then dead-lettered', async () => {
    const callId = (await h.submit('crash', { path: '/crash' })).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['dead'], 15_000);
    assert.equal(record.attempts, 3);
    assert.ok(record.lastStatus && record.lastStatus >= 500, String(record.lastStatus));
    await waitFor(() => h.queue.getDeadLetter(callId), { timeoutMs: 5000, message: 'dead letter stored' });
  });

  test('async local - a fork-mode non-zero exit (500) is retried per annotation', async () => {
    const callId = (await h.submit('forky', { path: '/?code=3' })).headers.get('x-call-id')!;
    const record = await h.waitForState(callId, ['dead'], 10_000);
    assert.equal(record.attempts, 2);
    assert.equal(record.lastStatus, 500);
  });
});
