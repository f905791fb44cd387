// Secrets updated live, as Kubernetes updates mounted secrets: `faas-cli secret update` (the
// provider's putSecret) rewrites the copy in every running sandboxed replica, atomically, with
// the function user's ownership and mode 0400, and without a restart; a removed secret keeps its
// last value in running replicas. Needs root and bubblewrap.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createGateway } from '../../src/gateway/index.js';
import { createLocalProvider, type Provider } from '../../src/provider/index.js';
import { detectSandbox } from '../../src/provider/local/sandbox/index.js';
import { EventBus, silentLogger } from '../../src/shared/index.js';
import { commandOf, descendants, isAlive } from '../support/processes.js';
import { makeTempDir } from '../support/temp-dir.js';
import { toolSkipReason } from '../support/tools.js';
import { waitFor } from '../support/wait-for.js';
import { fixtureSpec, nodeFixture, readAll, request } from '../support/provider-fixtures.js';

const host = detectSandbox('auto', 'nobody');
const skip = toolSkipReason('bwrap') ?? (process.getuid?.() !== 0 ? 'needs root (functions drop to nobody)' : !host.isOn ? `no sandbox here: ${host.reason}` : false);

/** The host-side copies of a secret in this process's replicas' runtime folders. */
function copiesOf(name: string): string[] {
  const out: string[] = [];
  for (const base of readdirSync(os.tmpdir()).filter((d) => d.startsWith(`faasq-run-${process.pid}-`))) {
    for (const replica of readdirSync(path.join(os.tmpdir(), base))) {
      const file = path.join(os.tmpdir(), base, replica, 'secrets', name);
      try {
        statSync(file);
        out.push(file);
      } catch {
        // this replica has no such secret
      }
    }
  }
  return out;
}

/** The replicas' own processes (bwrap, or the network wrapper before it), by pid: unchanged means no restart. */
const replicaPids = (): number[] => descendants(process.pid, true).filter((pid) => /(^|\/)(bwrap|sh) /.test(commandOf(pid)) && /watchdog/.test(commandOf(pid)) && isAlive(pid)).sort();

describe('sandbox secrets updated live', { skip }, () => {
  let provider: Provider;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  const ask = async (query: string): Promise<Record<string, { ok?: unknown; error?: string }>> => {
    const res = await provider.invoke('reader', 'openfaas-fn', request({ query, body: Buffer.alloc(0) }));
    const text = await readAll(res);
    assert.equal(res.status, 200, text);
    return JSON.parse(text);
  };
  const put = (value: string, create = false): Promise<void> => provider.putSecret({ name: 'db-password', namespace: 'openfaas-fn', value: Buffer.from(value) }, { create });

  before(async () => {
    tmp = await makeTempDir('faasq-secrets-live-');
    const config = loadConfig({ env: {}, flags: { dataDir: path.join(tmp.dir, 'data'), 'provider.sandbox': 'on', 'provider.readyTimeoutMs': '5s' } });
    provider = createLocalProvider({ config, logger: silentLogger(), events: new EventBus(), env: {} });
    await provider.start();
    await put('first-value', true);
    await provider.deploy(fixtureSpec('reader', { fprocess: nodeFixture('probe.mjs'), environment: {}, secrets: ['db-password'], labels: { 'com.openfaas.scale.min': '2' } }));
    await waitFor(async () => (await provider.get('reader', 'openfaas-fn')).availableReplicas === 2, { message: 'two ready replicas' });
  });

  after(async () => {
    await provider?.close();
    await tmp?.cleanup();
  });

  test('sandbox secrets - an update reaches every running replica without a restart, 0400 and owned by the function user', async () => {
    assert.deepEqual((await ask('read=/var/openfaas/secrets/db-password')).read, { ok: 'first-value' });
    const before = replicaPids();
    assert.equal(before.length, 2, 'two replica processes');
    await put('second-value');
    const copies = copiesOf('db-password');
    assert.equal(copies.length, 2, 'a copy per replica');
    for (const file of copies) {
      assert.equal(readFileSync(file, 'utf8'), 'second-value');
      const st = statSync(file);
      assert.equal(st.mode & 0o777, 0o400);
      assert.equal(st.uid, host.user?.uid);
      assert.equal(st.gid, host.user?.gid);
    }
    for (let i = 0; i < 4; i += 1) {
      const out = await ask('read=/var/openfaas/secrets/db-password&ls=/var/openfaas/secrets');
      assert.deepEqual(out.read, { ok: 'second-value' });
      assert.deepEqual(out.ls, { ok: ['db-password'] }, 'no temp file left in the folder');
    }
    assert.deepEqual(replicaPids(), before, 'the same replica processes: no restart');
  });

  test('sandbox secrets - a removed secret keeps its last value in running replicas; created again, it is written to them', async () => {
    await provider.removeSecret('db-password', 'openfaas-fn');
    assert.deepEqual((await ask('read=/var/openfaas/secrets/db-password')).read, { ok: 'second-value' });
    await put('third-value', true);
    assert.deepEqual((await ask('read=/var/openfaas/secrets/db-password')).read, { ok: 'third-value' });
  });

  test('sandbox secrets - a replica that is gone is no longer written to', async () => {
    await provider.remove('reader', 'openfaas-fn');
    await put('fourth-value');
    assert.deepEqual(copiesOf('db-password'), []);
  });
});

test('sandbox secrets - PUT /system/secrets (faas-cli secret update) through the gateway reaches the running function', { skip }, async () => {
  const tmp = await makeTempDir('faasq-secrets-gw-');
  const config = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: 0, dataDir: path.join(tmp.dir, 'data'), 'provider.sandbox': 'on', 'provider.readyTimeoutMs': '5s' } });
  const events = new EventBus();
  const provider = createLocalProvider({ config, logger: silentLogger(), events, env: {} });
  await provider.start();
  const gateway = createGateway({ config, provider, events, logger: silentLogger(), credentials: { user: 'admin', password: 'pw' } });
  const { port } = await gateway.start();
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}`, 'content-type': 'application/json' };
  const read = async (): Promise<unknown> => (JSON.parse(await (await fetch(`${base}/function/api?read=/var/openfaas/secrets/api-token`)).text()) as { read: unknown }).read;
  try {
    assert.equal((await fetch(`${base}/system/secrets`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'api-token', value: 'token-1' }) })).status, 201);
    await provider.deploy(fixtureSpec('api', { fprocess: nodeFixture('probe.mjs'), environment: {}, secrets: ['api-token'] }));
    assert.deepEqual(await read(), { ok: 'token-1' });
    const before = replicaPids();
    assert.equal((await fetch(`${base}/system/secrets`, { method: 'PUT', headers: auth, body: JSON.stringify({ name: 'api-token', value: 'token-2' }) })).status, 200);
    assert.deepEqual(await read(), { ok: 'token-2' });
    assert.deepEqual(replicaPids(), before, 'no restart');
  } finally {
    await gateway.close();
    await provider.close();
    await tmp.cleanup();
  }
});
