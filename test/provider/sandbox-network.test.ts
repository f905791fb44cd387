// The sandbox's outbound network (FAASQ_SANDBOX_NETWORK=outbound, the default where slirp4netns
// is installed): a replica reaches other hosts through slirp4netns but not the host's loopback
// (10.0.2.2 refused), unless FAASQ_SANDBOX_HOST_LOOPBACK opts in; its resolver is slirp4netns's
// forwarder; the helper dies with its replica. Everything stays on loopback: the opt-in path to a
// server on 127.0.0.1 is what proves outbound traffic flows. Needs root, bubblewrap, slirp4netns.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createLocalProvider, type Provider } from '../../src/provider/index.js';
import { detectSandbox, OUTBOUND_DNS, OUTBOUND_GATEWAY } from '../../src/provider/local/sandbox/index.js';
import { PassThrough } from 'node:stream';
import { createLogger, EventBus, isFaasqError, silentLogger, type Logger } from '../../src/shared/index.js';
import { commandOf, descendants, isAlive } from '../support/processes.js';
import { makeTempDir } from '../support/temp-dir.js';
import { toolSkipReason } from '../support/tools.js';
import { waitFor } from '../support/wait-for.js';
import { fixtureSpec, nodeFixture, readAll, request } from '../support/provider-fixtures.js';

const host = detectSandbox('auto', 'nobody');
const skip = toolSkipReason('bwrap') ?? toolSkipReason('slirp4netns') ?? (process.getuid?.() !== 0 ? 'needs root (functions drop to nobody)' : !host.isOn ? `no sandbox here: ${host.reason}` : false);

type Answer = Record<string, { ok?: unknown; error?: string }>;

/** A provider with the given network flags and one probe function. */
async function stand(flags: Record<string, string | boolean>, logger: Logger = silentLogger()): Promise<{ provider: Provider; ask(query: string): Promise<Answer>; close(): Promise<void> }> {
  const tmp = await makeTempDir('faasq-sandbox-net-');
  const config = loadConfig({ env: {}, flags: { dataDir: path.join(tmp.dir, 'data'), 'provider.sandbox': 'on', 'provider.readyTimeoutMs': '5s', 'provider.restartMinMs': '50ms', 'provider.restartMaxMs': '400ms', ...flags } });
  const provider = createLocalProvider({ config, logger, events: new EventBus(), env: {} });
  await provider.start();
  await provider.deploy(fixtureSpec('probe', { fprocess: nodeFixture('probe.mjs'), environment: {} }));
  return {
    provider,
    async ask(query) {
      const res = await provider.invoke('probe', 'openfaas-fn', request({ query, body: Buffer.alloc(0) }));
      const text = await readAll(res);
      assert.equal(res.status, 200, text);
      return JSON.parse(text) as Answer;
    },
    async close() {
      await provider.close();
      await tmp.cleanup();
    },
  };
}

/** A server on the host's loopback that counts the connections it gets. */
async function loopbackServer(): Promise<{ port: number; connections(): number; close(): void }> {
  let count = 0;
  const server = net.createServer((c) => {
    count += 1;
    c.destroy();
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, connections: () => count, close: () => server.close() };
}

const slirpsBelowUs = (): number[] => descendants(process.pid).filter((pid) => /^\S*slirp4netns /.test(commandOf(pid)) && isAlive(pid));

describe('sandbox outbound network (default)', { skip }, () => {
  let s: Awaited<ReturnType<typeof stand>>;
  let server: Awaited<ReturnType<typeof loopbackServer>>;

  before(async () => {
    server = await loopbackServer();
    s = await stand({});
  });

  after(async () => {
    await s?.close();
    server?.close();
  });

  test("sandbox network - by default a replica's namespace has tap0 from slirp4netns and resolves through its forwarder", async () => {
    const out = await s.ask('read=/proc/net/dev');
    assert.match(String(out.read.ok), /^\s*tap0:/m);
    const resolv = await s.ask('read=/etc/resolv.conf');
    assert.match(String(resolv.read.ok), new RegExp(`^nameserver ${OUTBOUND_DNS.replaceAll('.', '\\.')}$`, 'm'));
    assert.doesNotMatch(String(resolv.read.ok), /^nameserver (?!10\.0\.2\.3$)/m, 'only the forwarder');
  });

  test("sandbox network - the host's loopback is refused, through the gateway address and through 127.0.0.1", async () => {
    const viaGateway = await s.ask(`connect=${server.port}&host=${OUTBOUND_GATEWAY}`);
    // slirp4netns answers at once (network unreachable), not with a timeout.
    assert.ok(['ENETUNREACH', 'ECONNREFUSED'].includes(String(viaGateway.connect.error)), `the host's loopback answered: ${JSON.stringify(viaGateway.connect)}`);
    const viaLo = await s.ask(`connect=${server.port}`);
    assert.equal(viaLo.connect.error, 'ECONNREFUSED');
    assert.equal(server.connections(), 0);
  });

  test('sandbox network - slirp4netns dies with its replica (kill -9 of the replica) and comes back with the restart', async () => {
    const first = await waitFor(() => { const found = slirpsBelowUs(); return found.length === 1 ? found : undefined; }, { message: 'one slirp4netns for the one replica' });
    const replicaShell = descendants(process.pid).find((pid) => /faasq-net/.test(commandOf(pid)) && isAlive(pid));
    assert.ok(replicaShell, 'the replica process (the network wrapper) is found');
    process.kill(replicaShell, 'SIGKILL');
    await waitFor(() => !isAlive(first[0]), { timeoutMs: 5000, message: 'the old slirp4netns gone' });
    await waitFor(async () => (await s.provider.get('probe', 'openfaas-fn')).availableReplicas === 1 && slirpsBelowUs().length === 1, { timeoutMs: 10_000, message: 'the replica back with a slirp4netns of its own' });
    const out = await s.ask('read=/proc/net/dev');
    assert.match(String(out.read.ok), /^\s*tap0:/m);
  });

  test('sandbox network - a dozen replicas start at once, each with its tap0, none dying at start', async () => {
    // slirp4netns --configure raced bwrap's own loopback setup ("Failed RTM_NEWADDR", about one start in ten).
    await s.provider.deploy(fixtureSpec('many', { fprocess: nodeFixture('probe.mjs'), environment: {}, labels: { 'com.openfaas.scale.min': '12' } }));
    await waitFor(async () => (await s.provider.get('many', 'openfaas-fn')).availableReplicas === 12, { timeoutMs: 30_000, message: 'twelve ready replicas' });
    const lines: string[] = [];
    for await (const entry of s.provider.logs({ name: 'many', namespace: 'openfaas-fn' })) lines.push(`${entry.instance}: ${entry.text}`);
    assert.deepEqual(lines.filter((l) => /bwrap|slirp4netns|tap0|faasq:/.test(l)), []);
    assert.equal(slirpsBelowUs().length, 13, 'one slirp4netns per replica (twelve, and the probe)');
    await s.provider.remove('many', 'openfaas-fn');
  });

  test('sandbox network - removing the function leaves no slirp4netns', async () => {
    await s.provider.remove('probe', 'openfaas-fn');
    await waitFor(() => slirpsBelowUs().length === 0, { timeoutMs: 5000, message: 'no slirp4netns left' });
  });
});

test('sandbox network - faasq says once at start which network sandboxes get', { skip }, async () => {
  const out = new PassThrough();
  const lines: { level: number; msg: string; network?: string }[] = [];
  out.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
  });
  const s = await stand({}, createLogger({ level: 'info', destination: out }));
  try {
    const start = lines.filter((l) => /sandboxed/.test(l.msg));
    assert.equal(start.length, 1, JSON.stringify(lines));
    assert.equal(start[0].network, 'outbound');
    assert.match(start[0].msg, /^functions are sandboxed: .*outbound calls through slirp4netns, the host's loopback out of reach/);
  } finally {
    await s.close();
  }
});

describe('sandbox outbound network with FAASQ_SANDBOX_HOST_LOOPBACK=true', { skip }, () => {
  test("sandbox network - the opt-in reaches a server on the host's 127.0.0.1 through 10.0.2.2", async () => {
    const server = await loopbackServer();
    const s = await stand({ 'provider.sandboxNetwork': 'outbound', 'provider.sandboxHostLoopback': true });
    try {
      const out = await s.ask(`connect=${server.port}&host=${OUTBOUND_GATEWAY}`);
      assert.deepEqual(out.connect, { ok: true });
      await waitFor(() => server.connections() === 1, { message: 'the connection arrived at the loopback server' });
    } finally {
      await s.close();
      server.close();
    }
  });
});

describe('sandbox network private', { skip }, () => {
  test('sandbox network - FAASQ_SANDBOX_NETWORK=private keeps only lo and starts no slirp4netns', async () => {
    const s = await stand({ 'provider.sandboxNetwork': 'private' });
    try {
      const out = await s.ask('read=/proc/net/dev');
      assert.doesNotMatch(String(out.read.ok), /tap0/);
      assert.equal(slirpsBelowUs().length, 0);
    } finally {
      await s.close();
    }
  });
});

test('sandbox network - FAASQ_SANDBOX_HOST_LOOPBACK needs the outbound network, said at start', { skip }, () => {
  for (const network of ['private', 'host'] as const) {
    assert.throws(() => detectSandbox('on', 'nobody', network, true), (err) => isFaasqError(err, 'E_CONFIG') && /FAASQ_SANDBOX_HOST_LOOPBACK=true needs FAASQ_SANDBOX_NETWORK=outbound/.test(err.message));
  }
  const outbound = detectSandbox('on', 'nobody', 'auto');
  assert.ok(outbound.outbound && !outbound.outbound.isHostLoopback);
  assert.match(outbound.reason, /slirp4netns, the host's loopback out of reach/);
  assert.equal(detectSandbox('on', 'nobody', 'private').outbound, undefined);
});
