// Sandboxed http-mode replicas are reached through sockets their watchdog connects inside the
// replica and hands to faasq on an IPC channel. The channel's fd and variables never reach the
// function; stop asks the watchdog to SIGTERM the function; and a function that takes over its
// watchdog's channel (pidfd_getfd, as the same uid may) and writes hostile messages on it gets
// its own replica killed while faasq and other functions keep answering. Needs root and
// bubblewrap; skipped with the reason otherwise.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createLocalProvider, type Provider } from '../../src/provider/index.js';
import { CHANNEL_FD, detectSandbox } from '../../src/provider/local/sandbox/index.js';
import { EventBus, silentLogger } from '../../src/shared/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { toolSkipReason } from '../support/tools.js';
import { waitFor } from '../support/wait-for.js';
import { fixtureSpec, nodeFixture, readAll, request } from '../support/provider-fixtures.js';

const host = detectSandbox('auto', 'nobody');
const skip = toolSkipReason('bwrap') ?? (!existsSync('/usr/bin/python3') ? 'needs /usr/bin/python3 (the hostile fixture)' : undefined) ?? (process.getuid?.() !== 0 ? 'needs root' : !host.isOn ? `no sandbox here: ${host.reason}` : false);
const NS = 'openfaas-fn';
const GRACE_MS = 5000;

/** Host pids of processes whose command line contains `marker` (or whose program is named `marker`, with isProgram). */
function pidsOf(marker: string, isProgram = false): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (isProgram ? path.basename(cmdline.split('\0')[0]) === marker : cmdline.includes(marker)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function parentOf(pid: number): number {
  return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

/** The socket inodes in a process's fd table. */
function socketsOf(pid: number): Set<string> {
  const sockets = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith('socket:')) sockets.add(target);
    } catch {
      // closed meanwhile
    }
  }
  return sockets;
}

const outboundSkip = existsSync('/usr/bin/slirp4netns') ? false : 'needs slirp4netns';

for (const network of ['outbound', 'private'] as const) {
  describe(`sandbox connection hand-off (FAASQ_SANDBOX_NETWORK=${network})`, { skip: skip || (network === 'outbound' ? outboundSkip : false) }, () => {
    let provider: Provider;
    let tmp: { dir: string; cleanup: () => Promise<void> };

    const get = async (name: string, p: string): Promise<{ status: number; text: string }> => {
      const res = await provider.invoke(name, NS, request({ method: 'GET', path: p }));
      return { status: res.status, text: await readAll(res) };
    };
    const logsOf = async (name: string): Promise<string[]> => {
      const out: string[] = [];
      for await (const entry of provider.logs({ name, namespace: NS, tail: 500 })) out.push(entry.text);
      return out;
    };

    before(async () => {
      tmp = await makeTempDir('faasq-handoff-');
      const config = loadConfig({
        env: {},
        flags: { dataDir: path.join(tmp.dir, 'data'), 'provider.sandbox': 'on', 'provider.readyTimeoutMs': '10s', 'provider.restartMinMs': '50ms', 'provider.restartMaxMs': '400ms', 'provider.shutdownGraceMs': `${GRACE_MS}ms`, 'provider.healthIntervalMs': '0', 'provider.sandboxNetwork': network },
      });
      provider = createLocalProvider({ config, logger: silentLogger(), events: new EventBus(), env: {} });
      await provider.start();
      await provider.deploy(fixtureSpec('calm', { fprocess: nodeFixture('fixed-port.mjs'), environment: { mode: 'http', upstream_url: 'http://127.0.0.1:3000' } }));
      await provider.deploy(fixtureSpec('hijack', { fprocess: 'python3 hijack.py', environment: { mode: 'http', upstream_url: 'http://127.0.0.1:3000' } }));
      await waitFor(async () => (await provider.get('calm', NS)).availableReplicas === 1 && (await provider.get('hijack', NS)).availableReplicas === 1, { timeoutMs: 15_000, message: 'both functions ready' });
    });

    after(async () => {
      await provider?.close();
      await tmp?.cleanup();
    });

    test('sandbox hand-off - the route dials the replica (no Unix socket, no relay) and calls answer on both paths', async () => {
      const route = provider.route?.('calm', NS);
      assert.ok(route, 'a direct route');
      try {
        assert.equal(typeof route.dial, 'function');
        assert.equal(route.socketPath, undefined);
        assert.equal(route.authority, '127.0.0.1:3000');
      } finally {
        route.release();
      }
      for (let i = 0; i < 5; i += 1) assert.equal((await get('calm', '/')).status, 200);
    });

    test('sandbox hand-off - the IPC channel\'s fd and NODE_CHANNEL_* never reach the function', async () => {
      const seen = JSON.parse((await get('hijack', '/fds')).text) as { env: string[] };
      assert.ok(!seen.env.some((k) => k.startsWith('NODE_CHANNEL')), seen.env.join(' '));
      const [fn] = pidsOf('hijack.py');
      assert.ok(fn, 'the function process');
      const watchdog = parentOf(fn);
      assert.match(readFileSync(`/proc/${watchdog}/cmdline`, 'utf8'), /watchdog\.cjs/);
      // The watchdog holds its end of the channel on CHANNEL_FD (NODE_CHANNEL_FD), a socket ...
      const channel = readlinkSync(`/proc/${watchdog}/fd/${CHANNEL_FD}`);
      assert.match(channel, /^socket:/);
      // ... which is nowhere in the function's fd table (its stdout and stderr are faasq's log pipes, also sockets).
      assert.ok(!socketsOf(fn).has(channel), `the function holds ${channel}`);
      // Nor does the outbound network's slirp4netns (the wrapper closes fd 5 for it).
      for (const helper of pidsOf('slirp4netns', true)) assert.ok(!socketsOf(helper).has(channel), `slirp4netns ${helper} holds ${channel}`);
      assert.ok(!readFileSync(`/proc/${fn}/environ`, 'utf8').includes('NODE_CHANNEL'));
    });

    const attacks: [kind: string, reason: RegExp][] = [
      ['long', /a message over 1024 bytes/],
      ['udp', /not one connected TCP socket \(UDP\)/],
      ['unix', /not one connected TCP socket \(Pipe\)/],
      ['internal', /a malformed or unexpected message/],
      ['unasked', /an answer to no dial/],
    ];
    for (const [kind, reason] of attacks) {
      test(`sandbox hand-off - a function writing a hostile message (${kind}) on its watchdog's channel gets only its replica killed`, async () => {
        const [before] = pidsOf('hijack.py');
        assert.ok(before, 'the function process');
        const seenBefore = (await logsOf('hijack')).filter((l) => /broke its channel's protocol/.test(l)).length;
        await get('hijack', `/attack/${kind}`).catch(() => undefined);
        const logged = await waitFor(async () => (await logsOf('hijack')).filter((l) => /broke its channel's protocol/.test(l)).slice(seenBefore)[0], { timeoutMs: 10_000, message: 'the violation logged' });
        assert.match(logged, reason);
        // faasq and the other function kept answering all along; the hijacked replica comes back.
        assert.equal((await get('calm', '/')).status, 200);
        await waitFor(() => { const now = pidsOf('hijack.py'); return now.length === 1 && now[0] !== before; }, { timeoutMs: 10_000, message: 'a new function process' });
        await waitFor(async () => (await get('hijack', '/')).status === 200, { timeoutMs: 10_000, message: 'the restarted replica answers' });
      });
    }

    test('sandbox hand-off - stopping a replica sends its function SIGTERM (not SIGKILL after the grace period)', async () => {
      const started = Date.now();
      await provider.scale('hijack', NS, 0);
      const elapsedMs = Date.now() - started;
      assert.ok(elapsedMs < GRACE_MS - 1000, `stopped in ${elapsedMs}ms`);
      const logs = await logsOf('hijack');
      assert.ok(logs.some((l) => l.includes('got SIGTERM')), logs.join('\n'));
      assert.equal(pidsOf('hijack.py').length, 0);
    });
  });
}
