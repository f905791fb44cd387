// Each function in its own bubblewrap sandbox: its own secrets at the OpenFaaS path and nothing
// else there, no view of faasq's data dir, other functions' folders or faasq's environment, its
// own user, PID namespace and /tmp, a read-only root when asked, memory limits enforced through
// cgroups, and http replicas that all listen on one port in network namespaces of their own.
// Needs root and bubblewrap (CI has both); skipped with the reason otherwise.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import net from 'node:net';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createLocalProvider, type FunctionSpec, type Provider } from '../../src/provider/index.js';
import { detectSandbox } from '../../src/provider/local/sandbox/index.js';
import { EventBus, isFaasqError, silentLogger } from '../../src/shared/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { toolSkipReason } from '../support/tools.js';
import { waitFor } from '../support/wait-for.js';
import { FIXTURES_DIR, fixtureSpec, nodeFixture, readAll, request } from '../support/provider-fixtures.js';

const host = detectSandbox('auto', 'nobody');
const skip = toolSkipReason('bwrap') ?? (process.getuid?.() !== 0 ? 'needs root (functions drop to nobody; cgroups)' : !host.isOn ? `no sandbox here: ${host.reason}` : false);
const NATS_TOKEN = 'nats-token-that-must-not-leak';

describe('sandbox isolation', { skip }, () => {
  let provider: Provider;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  const events = new EventBus();
  const oomKills: string[] = [];
  let alphaDir = '';
  let betaDir = '';

  /** A probe function in a folder of its own. */
  const probe = (name: string, workingDir: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec =>
    fixtureSpec(name, { fprocess: `${process.execPath} probe.mjs`, environment: { OWN_SETTING: name }, workingDir, ...overrides });
  const ask = async (name: string, query: string): Promise<Record<string, { ok?: unknown; error?: string } & Record<string, unknown>>> => {
    const res = await provider.invoke(name, 'openfaas-fn', request({ query, body: Buffer.alloc(0) }));
    const text = await readAll(res);
    assert.equal(res.status, 200, text);
    return JSON.parse(text);
  };

  before(async () => {
    tmp = await makeTempDir('faasq-sandbox-');
    const config = loadConfig({
      env: {},
      flags: { dataDir: path.join(tmp.dir, 'data'), 'provider.sandbox': 'on', 'provider.readyTimeoutMs': '5s', 'provider.restartMinMs': '50ms', 'provider.restartMaxMs': '400ms', 'provider.execTimeoutMs': '10s' },
    });
    events.on('function.oom_killed', (e) => oomKills.push(e.instance));
    provider = createLocalProvider({ config, logger: silentLogger(), events, env: { ...process.env, NATS_TOKEN } });
    await provider.start();
    alphaDir = path.join(tmp.dir, 'alpha');
    betaDir = path.join(tmp.dir, 'beta');
    for (const dir of [alphaDir, betaDir]) {
      await mkdir(dir, { mode: 0o755 });
      await copyFile(path.join(FIXTURES_DIR, 'probe.mjs'), path.join(dir, 'probe.mjs'));
    }
    await writeFile(path.join(alphaDir, 'handler-only.txt'), 'alpha handler file');
    await provider.putSecret({ name: 'api-key', namespace: 'openfaas-fn', value: Buffer.from('alpha-secret-value') }, { create: true });
    await provider.putSecret({ name: 'beta-key', namespace: 'openfaas-fn', value: Buffer.from('beta-secret-value') }, { create: true });
    await provider.deploy(probe('alpha', alphaDir, { secrets: ['api-key'] }));
    await provider.deploy(probe('beta', betaDir, { secrets: ['beta-key'], readOnlyRootFilesystem: true }));
  });

  after(async () => {
    await provider?.close();
    await tmp?.cleanup();
  });

  test('sandbox - a function reads its own secret at /var/openfaas/secrets/NAME, and only its own is there', async () => {
    const out = await ask('alpha', 'read=/var/openfaas/secrets/api-key&ls=/var/openfaas/secrets');
    assert.deepEqual(out.read, { ok: 'alpha-secret-value' });
    assert.deepEqual(out.ls, { ok: ['api-key'] });
  });

  test('sandbox - a second function cannot read the first one\'s secret, folder, nor faasq\'s data dir', async () => {
    const secret = await ask('beta', 'read=/var/openfaas/secrets/api-key');
    assert.equal(secret.read.error, 'ENOENT');
    const store = await ask('beta', `read=${encodeURIComponent(path.join(tmp.dir, 'data', 'secrets', 'openfaas-fn', 'api-key'))}`);
    assert.equal(store.read.error, 'ENOENT');
    const folder = await ask('beta', `read=${encodeURIComponent(path.join(alphaDir, 'handler-only.txt'))}`);
    assert.equal(folder.read.error, 'ENOENT');
    const data = await ask('beta', `ls=${encodeURIComponent(path.join(tmp.dir, 'data'))}`);
    assert.equal(data.ls.error, 'ENOENT');
    const root = await ask('beta', 'ls=/root');
    assert.ok(root.ls.error, 'the sandbox has no /root');
  });

  test('sandbox - a function gets only its own environment, nothing of faasq\'s', async () => {
    const { env } = (await ask('alpha', 'env=1')) as unknown as { env: Record<string, string> };
    assert.equal(env.OWN_SETTING, 'alpha');
    assert.equal(env.Http_Method, 'POST');
    assert.ok(env.PATH && env.HOME);
    assert.equal(env.NATS_TOKEN, undefined);
    assert.ok(!JSON.stringify(env).includes(NATS_TOKEN));
    assert.deepEqual(Object.keys(env).filter((k) => k.startsWith('FAASQ_')), []);
    assert.equal(env.secret_mount_path, undefined, 'the OpenFaaS path needs no hint');
  });

  test('sandbox - a function runs as nobody in its own PID namespace with a private /tmp', async () => {
    const alpha = await ask('alpha', `whoami=1&write=/tmp/alpha-was-here&read=/proc/${process.pid}/cmdline`);
    const who = alpha.whoami as unknown as { uid: number; pid: number; procs: number };
    assert.equal(who.uid, host.user?.uid);
    assert.ok(who.pid < 50 && who.procs < 10, `pid ${who.pid}, ${who.procs} processes visible`);
    assert.equal(alpha.read.error, 'ENOENT', 'the gateway process is not visible');
    assert.deepEqual(alpha.write, { ok: true });
    const beta = await ask('beta', 'ls=/tmp');
    assert.ok(!(beta.ls.ok as string[]).includes('alpha-was-here'));
  });

  test('sandbox - 127.0.0.1 in a replica is its own lo: the host\'s loopback ports are out of reach', async () => {
    const server = net.createServer((c) => c.destroy()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const out = await ask('alpha', `connect=${(server.address() as net.AddressInfo).port}`);
      assert.equal(out.connect.error, 'ECONNREFUSED');
    } finally {
      server.close();
    }
  });

  test('sandbox - a folder the function user cannot read is refused at deploy, naming the folder and the user', async () => {
    const locked = path.join(tmp.dir, 'locked');
    await mkdir(locked, { mode: 0o700 });
    await assert.rejects(
      provider.deploy(probe('locked', locked, { fprocess: 'cat' })),
      (err) => isFaasqError(err, 'E_DEPLOY_FAILED') && err.message.includes(locked) && /not readable by FAASQ_FUNCTION_USER nobody/.test(err.message),
    );
  });

  test('sandbox - a function whose folder is a system folder (/) is refused at deploy', async () => {
    await assert.rejects(provider.deploy(probe('rooted', '/', { fprocess: 'cat' })), (err) => isFaasqError(err, 'E_DEPLOY_FAILED') && /system folder/.test(err.message));
  });

  test('sandbox - readOnlyRootFilesystem: only /tmp is writable', async () => {
    const own = await ask('beta', `write=${encodeURIComponent(path.join(betaDir, 'new-file'))}`);
    assert.equal(own.write.error, 'EROFS');
    assert.equal((await ask('beta', 'write=/usr/faasq-probe')).write.error, 'EROFS');
    assert.equal((await ask('beta', 'write=/etc/faasq-probe')).write.error, 'EROFS');
    assert.deepEqual((await ask('beta', 'write=/tmp/scratch')).write, { ok: true });
  });

  test('sandbox - the classic watchdog log lines are in the function log', async () => {
    await ask('alpha', 'whoami=1');
    await waitFor(async () => {
      const lines: string[] = [];
      for await (const entry of provider.logs({ name: 'alpha', namespace: 'openfaas-fn' })) lines.push(entry.text);
      return lines.some((l) => /Forking fprocess\.$/.test(l)) && lines.some((l) => /Wrote \d+ Bytes - Duration: \d+\.\d{6} seconds$/.test(l));
    }, { message: 'Forking fprocess. / Wrote N Bytes lines' });
  });

  test('sandbox - a memory hog is killed at its limit with E_FUNCTION_MEMORY_LIMIT while others keep answering', { skip: host.cgroups.kind === 'none' ? `no cgroups: ${host.cgroups.reason}` : false }, async () => {
    await provider.deploy(probe('hog', alphaDir, { limits: { memory: '96Mi' } }));
    const hogging = provider.invoke('hog', 'openfaas-fn', request({ query: 'hog=2000', body: Buffer.alloc(0) }));
    // The gateway and other functions answer while the hog grows and dies.
    assert.deepEqual((await ask('beta', 'read=/var/openfaas/secrets/beta-key')).read, { ok: 'beta-secret-value' });
    await assert.rejects(hogging, (err) => isFaasqError(err, 'E_FUNCTION_MEMORY_LIMIT') && err.status === 502 && /96Mi/.test(err.message));
    await waitFor(() => oomKills.some((i) => i.startsWith('hog-')), { message: 'function.oom_killed event' });
    // The replica restarts (with backoff) and serves a call within its limit.
    const small = await waitFor(async () => {
      try {
        return await ask('hog', 'hog=8');
      } catch {
        return undefined;
      }
    }, { timeoutMs: 8000, message: 'hog replica back after restart' });
    assert.equal(small.hog, 8);
    const lines: string[] = [];
    for await (const entry of provider.logs({ name: 'hog', namespace: 'openfaas-fn' })) lines.push(entry.text);
    assert.ok(lines.some((l) => /killed at its memory limit \(limits\.memory 96Mi\)/.test(l)), lines.join('\n'));
  });

  test('sandbox - an http-mode server over its memory limit fails its call with E_FUNCTION_MEMORY_LIMIT and is restarted', { skip: host.cgroups.kind === 'none' ? `no cgroups: ${host.cgroups.reason}` : false }, async () => {
    await provider.deploy(fixtureSpec('http-hog', { fprocess: nodeFixture('http-hog.mjs'), environment: { mode: 'http' }, limits: { memory: '128Mi' } }));
    await waitFor(async () => (await provider.get('http-hog', 'openfaas-fn')).availableReplicas === 1, { message: 'http-hog ready' });
    const before = oomKills.length;
    await assert.rejects(
      provider.invoke('http-hog', 'openfaas-fn', request({ method: 'GET', path: '/hog' })),
      (err) => isFaasqError(err, 'E_FUNCTION_MEMORY_LIMIT') && /128Mi/.test(err.message),
    );
    await waitFor(() => oomKills.length > before, { message: 'oom event' });
    const text = await waitFor(async () => {
      try {
        return await readAll(await provider.invoke('http-hog', 'openfaas-fn', request({ method: 'GET' })));
      } catch {
        return undefined;
      }
    }, { timeoutMs: 8000, message: 'http-hog back after restart' });
    assert.equal(text, 'ok');
  });

  test('sandbox - limits.cpu sets a CFS quota in faasq\'s own cgroup, removed with the replica', { skip: host.cgroups.kind !== 'v1' ? 'checks cgroup v1 files' : false }, async () => {
    await provider.deploy(probe('capped', alphaDir, { limits: { cpu: '250m', memory: '128Mi' } }));
    const groups = (): string[] => readdirSync('/sys/fs/cgroup/cpu/faasq').filter((n) => n.startsWith('capped-'));
    assert.equal(groups().length, 1);
    assert.equal(readFileSync(`/sys/fs/cgroup/cpu/faasq/${groups()[0]}/cpu.cfs_quota_us`, 'utf8').trim(), '25000');
    const memoryGroup = readdirSync('/sys/fs/cgroup/memory/faasq').find((n) => n.startsWith('capped-'));
    assert.equal(readFileSync(`/sys/fs/cgroup/memory/faasq/${memoryGroup}/memory.limit_in_bytes`, 'utf8').trim(), String(128 * 2 ** 20));
    assert.equal((await ask('capped', 'whoami=1')).whoami !== undefined, true);
    await provider.remove('capped', 'openfaas-fn');
    await waitFor(() => groups().length === 0, { message: 'cgroup removed with the replica' });
  });

  test('sandbox - http replicas all listen on port 3000, each in its own network namespace, calls spread over them', async () => {
    await provider.deploy(fixtureSpec('fixed', {
      fprocess: nodeFixture('fixed-port.mjs'),
      environment: { mode: 'http', upstream_url: 'http://127.0.0.1:3000' },
      labels: { 'com.openfaas.scale.min': '2' },
    }));
    await waitFor(async () => (await provider.get('fixed', 'openfaas-fn')).availableReplicas === 2, { message: 'two ready replicas' });
    const ids = new Set<string>();
    for (let i = 0; i < 6; i += 1) {
      const res = await provider.invoke('fixed', 'openfaas-fn', request({ method: 'GET' }));
      ids.add(String(res.headers['x-replica-id']));
      await readAll(res);
    }
    assert.equal(ids.size, 2);
  });
});

describe('sandbox with the machine\'s network (FAASQ_SANDBOX_NETWORK=host)', { skip }, () => {
  let provider: Provider;
  let tmp: { dir: string; cleanup: () => Promise<void> };

  before(async () => {
    tmp = await makeTempDir('faasq-sandbox-net-');
    const config = loadConfig({ env: {}, flags: { dataDir: path.join(tmp.dir, 'data'), 'provider.sandbox': 'on', 'provider.sandboxNetwork': 'host', 'provider.readyTimeoutMs': '5s' } });
    provider = createLocalProvider({ config, logger: silentLogger(), events: new EventBus(), env: {} });
    await provider.start();
  });

  after(async () => {
    await provider?.close();
    await tmp?.cleanup();
  });

  test('sandbox host network - a function reaches the machine\'s services; still its own PID namespace and user', async () => {
    const server = net.createServer((c) => c.destroy()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await provider.deploy(fixtureSpec('caller', { fprocess: nodeFixture('probe.mjs'), environment: {} }));
      const res = await provider.invoke('caller', 'openfaas-fn', request({ query: `connect=${(server.address() as net.AddressInfo).port}&whoami=1`, body: Buffer.alloc(0) }));
      const out = JSON.parse(await readAll(res)) as { connect: unknown; whoami: { uid: number; pid: number } };
      assert.deepEqual(out.connect, { ok: true });
      assert.equal(out.whoami.uid, host.user?.uid);
      assert.ok(out.whoami.pid < 50);
    } finally {
      server.close();
    }
  });

  test('sandbox host network - http replicas that ask for port 3000 each get a free port instead', async () => {
    await provider.deploy(fixtureSpec('fixed', {
      fprocess: nodeFixture('fixed-port.mjs'),
      environment: { mode: 'http', upstream_url: 'http://127.0.0.1:3000' },
      labels: { 'com.openfaas.scale.min': '2' },
    }));
    await waitFor(async () => (await provider.get('fixed', 'openfaas-fn')).availableReplicas === 2, { message: 'two ready replicas' });
    const ports = new Set<string>();
    for (let i = 0; i < 6; i += 1) ports.add((await readAll(await provider.invoke('fixed', 'openfaas-fn', request({ method: 'GET' })))).split(' ')[1]);
    assert.equal(ports.size, 2);
    assert.ok(!ports.has('3000'));
  });
});

test('sandbox - FAASQ_SANDBOX=on refuses to start when no sandbox can be had; auto says why and runs without', { skip }, () => {
  assert.throws(() => detectSandbox('on', 'no-such-user-faasq'), (err) => isFaasqError(err, 'E_CONFIG') && /FAASQ_FUNCTION_USER "no-such-user-faasq"/.test(err.message));
  const fallback = detectSandbox('auto', 'no-such-user-faasq');
  assert.equal(fallback.isOn, false);
  assert.match(fallback.reason, /no-such-user-faasq/);
  assert.equal(detectSandbox('off', 'nobody').reason, 'FAASQ_SANDBOX=off');
});
