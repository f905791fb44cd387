// The express lane reaches sandboxed http replicas through sockets their watchdog connects inside
// the replica and hands over (no relay, no Unix socket): calls
// through the gateway spread over two replicas that both listen on port 3000 in network
// namespaces of their own, without handing the connection to the full path. Needs root and
// bubblewrap; skipped with the reason otherwise.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { loadConfig } from '../../src/config/index.js';
import type { Gateway } from '../../src/gateway/index.js';
import type { Provider } from '../../src/provider/index.js';
import { detectSandbox } from '../../src/provider/local/sandbox/index.js';
import { EventBus } from '../../src/shared/events.js';
import { makeTempDir } from '../support/temp-dir.js';
import { toolSkipReason } from '../support/tools.js';
import { waitFor } from '../support/wait-for.js';
import { fixtureSpec, nodeFixture } from '../support/provider-fixtures.js';
import { startLocalGateway } from './support/local-gateway.js';

const host = detectSandbox('auto', 'nobody');
const skip = toolSkipReason('bwrap') ?? (process.getuid?.() !== 0 ? 'needs root' : !host.isOn ? `no sandbox here: ${host.reason}` : false);

describe('express lane - sandboxed replicas', { skip }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let provider: Provider;
  let gateway: Gateway;
  let url: string;
  const handoffs: string[] = [];

  before(async () => {
    tmp = await makeTempDir('faasq-gw-sandbox-');
    const config = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: 0, dataDir: path.join(tmp.dir, 'data'), 'provider.sandbox': 'on' } });
    const events = new EventBus();
    events.on('gateway.handoff', (e) => handoffs.push(e.reason));
    ({ provider, gateway, url } = await startLocalGateway(config, events));
    await provider.deploy(fixtureSpec('fixed', {
      fprocess: nodeFixture('fixed-port.mjs'),
      environment: { mode: 'http', upstream_url: 'http://127.0.0.1:3000' },
      labels: { 'com.openfaas.scale.min': '2' },
    }));
    await waitFor(async () => (await provider.get('fixed', 'openfaas-fn')).availableReplicas === 2, { message: 'two ready replicas' });
  });

  after(async () => {
    await gateway?.close();
    await provider?.close();
    await tmp?.cleanup();
  });

  test('express lane - calls reach replicas through handed-over sockets and spread over both', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 8; i += 1) {
      const res = await request(`${url}/function/fixed`, { method: 'POST', body: 'x' });
      assert.equal(res.statusCode, 200);
      ids.add(String(res.headers['x-replica-id']));
      await res.body.text();
    }
    assert.equal(ids.size, 2);
    assert.deepEqual(handoffs, []);
  });
});
