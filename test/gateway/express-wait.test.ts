// The express lane in front of the real local provider while a function has no ready replica:
// the request waits on the lane for one (a restart after a crash), errors are answered on the
// lane, and a caller that leaves during the wait gives its admission slot back.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Gateway } from '../../src/gateway/index.js';
import type { Provider } from '../../src/provider/index.js';
import { ANNOTATIONS } from '../../src/shared/annotations.js';
import { EventBus } from '../../src/shared/events.js';
import { fixtureSpec, nodeFixture, testConfig } from '../support/provider-fixtures.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { RawClient, withClient } from './support/raw-client.js';
import { startLocalGateway } from './support/local-gateway.js';

describe('express lane - waiting for a replica', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let provider: Provider;
  let gateway: Gateway;
  let url: string;
  let host: string;
  const events = new EventBus();
  const handoffs: string[] = [];

  before(async () => {
    tmp = await makeTempDir('faasq-lane-wait-');
    // A restart takes 400 ms: long enough to send a request while no replica is ready.
    const config = testConfig(tmp.dir, { host: '127.0.0.1', port: 0, 'provider.restartMinMs': '400ms', 'provider.restartMaxMs': '400ms' });
    ({ provider, gateway, url } = await startLocalGateway(config, events));
    host = new URL(url).host;
    events.on('gateway.handoff', (e) => handoffs.push(e.reason));
  });
  after(async () => {
    await gateway.close();
    await provider.close();
    await tmp.cleanup();
  });

  const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`;

  /** The pid of the function's replica, read from a call. */
  async function pidOf(client: RawClient, fn: string): Promise<number> {
    client.write(get(`/function/${fn}/pid`));
    const reply = await client.readReply();
    assert.equal(reply.status, 200);
    return Number(reply.headers.get('x-pid')?.[0]);
  }

  /** Deploys `fn` and waits until its replica is ready, so the first call finds a route at once. */
  async function deployReady(spec: Parameters<Provider['deploy']>[0]): Promise<void> {
    await provider.deploy(spec);
    await waitFor(async () => (await provider.get(spec.name, 'openfaas-fn')).availableReplicas === 1, { message: `${spec.name} ready` });
  }

  /** Kills the replica and waits until the provider sees it gone. */
  async function crash(fn: string, pid: number): Promise<void> {
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => (await provider.get(fn, 'openfaas-fn')).availableReplicas === 0, { message: `${fn} down` });
  }

  test('express lane - a call that arrives while the replica restarts waits for it on the lane', async () => {
    await deployReady(fixtureSpec('restarts'));
    handoffs.length = 0;
    await withClient(url, async (client) => {
      const before = await pidOf(client, 'restarts');
      await crash('restarts', before);
      const after = await pidOf(client, 'restarts');
      assert.notEqual(after, before, 'served by the restarted process');
      // The same connection is still the lane's: a third call works, and nothing was handed over.
      assert.equal(await pidOf(client, 'restarts'), after);
      assert.deepEqual(handoffs, [], 'the connection stayed on the lane');
    });
  });

  test('express lane - a function whose process dies at start gets its 503 on the lane', async () => {
    await provider.deploy(fixtureSpec('dies', { fprocess: nodeFixture('exit-at-start.mjs') })).catch(() => undefined);
    handoffs.length = 0;
    await withClient(url, async (client) => {
      client.write(get('/function/dies'));
      const reply = await client.readReply();
      assert.equal(reply.status, 503);
      assert.ok(reply.headers.get('x-call-id')?.[0], 'the lane answered with the call headers');
      assert.equal(reply.headers.get('retry-after')?.[0], '1');
      assert.deepEqual(handoffs, [], 'answered on the lane');
    });
  });

  test('express lane - a caller that leaves during the wait gives its admission slot back', async () => {
    await deployReady(fixtureSpec('single', { annotations: { [ANNOTATIONS.concurrency.name]: '1' } }));
    const pid = await withClient(url, (client) => pidOf(client, 'single'));
    await crash('single', pid);
    const leaver = await RawClient.connect(url);
    leaver.write(get('/function/single/pid'));
    // The waiting call holds the function's one slot.
    const active = (): number => gateway.admissionStats().find((a) => a.fn === 'single')?.active ?? 0;
    await waitFor(() => active() === 1, { message: 'the call waits holding the slot' });
    leaver.socket.destroy();
    await waitFor(() => active() === 0, { message: 'the slot given back' });
    await waitFor(async () => (await provider.get('single', 'openfaas-fn')).availableReplicas === 1, { timeoutMs: 5000, message: 'single restarted' });
    // With the slot leaked this call would wait for it until FAASQ_MAX_WAIT.
    const started = Date.now();
    const next = await withClient(url, (client) => pidOf(client, 'single'));
    assert.notEqual(next, pid);
    assert.ok(Date.now() - started < 2000, 'the second call did not wait for a slot');
  });
});
