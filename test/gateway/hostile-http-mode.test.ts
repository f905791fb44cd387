// The late second reply from an http-mode replica (a real child process, the other upstream kind
// beside com.faasq.upstream URLs), on both sync paths: after each round of honest calls the
// function writes an unasked reply on every connection it holds, and the next round starts only
// once the gateway has dropped each of those connections. No caller may ever receive the stray.
// Also with the function sandboxed (root and bubblewrap), where both paths talk to it on sockets
// its watchdog handed over.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { Gateway } from '../../src/gateway/index.js';
import type { Provider } from '../../src/provider/index.js';
import { EventBus } from '../../src/shared/events.js';
import { fixtureSpec, nodeFixture, testConfig } from '../support/provider-fixtures.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { detectSandbox } from '../../src/provider/local/sandbox/index.js';
import { toolSkipReason } from '../support/tools.js';
import { startLocalGateway } from './support/local-gateway.js';

const sandboxSkip = toolSkipReason('bwrap') ?? (process.getuid?.() !== 0 ? 'needs root' : !detectSandbox('auto', 'nobody').isOn ? 'no sandbox here' : false);

/** The host pid of the sandboxed fixture (its PID_FILE would be written inside the sandbox). */
function fixturePid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('late-reply.mjs')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

for (const [isExpressLane, isSandboxed] of [[true, false], [false, false], [true, true], [false, true]]) {
  const pathName = `${isExpressLane ? 'express lane' : 'full path'}${isSandboxed ? ', sandboxed' : ''}`;
  describe(`hostile http-mode function (${pathName})`, { skip: isSandboxed ? sandboxSkip : false }, () => {
    let tmp: { dir: string; cleanup: () => Promise<void> };
    let provider: Provider;
    let gateway: Gateway;
    let url: string;
    const idleBytes: string[] = [];

    before(async () => {
      tmp = await makeTempDir('faasq-hostile-http-');
      const config = testConfig(tmp.dir, { host: '127.0.0.1', port: 0, 'gateway.isExpressLane': String(isExpressLane), 'provider.healthIntervalMs': '0', 'provider.sandbox': isSandboxed ? 'on' : 'off' });
      const events = new EventBus();
      events.on('upstream.anomaly', (e) => {
        if (e.reason === 'idle_bytes') idleBytes.push(e.path);
      });
      ({ provider, gateway, url } = await startLocalGateway(config, events));
    });
    after(async () => {
      await gateway.close();
      await provider.close();
      await tmp.cleanup();
    });

    /** The fixture's latest "strays sent N dropped M" line. */
    async function strayCounts(): Promise<{ sent: number; dropped: number }> {
      let counts = { sent: 0, dropped: 0 };
      for await (const entry of provider.logs({ name: 'late', namespace: 'openfaas-fn', tail: 200 })) {
        const match = /strays sent (\d+) dropped (\d+)/.exec(entry.text);
        if (match) counts = { sent: Number(match[1]), dropped: Number(match[2]) };
      }
      return counts;
    }

    test(`hostile http-mode function - ${pathName}: late replies on idle connections reach no caller and are counted as idle_bytes`, async () => {
      const pidFile = path.join(tmp.dir, 'late.pid');
      await provider.deploy(fixtureSpec('late', { fprocess: nodeFixture('late-reply.mjs'), environment: isSandboxed ? { mode: 'http' } : { mode: 'http', PID_FILE: pidFile } }));
      const pid = isSandboxed
        ? await waitFor(async () => ((await provider.get('late', 'openfaas-fn')).availableReplicas === 1 ? fixturePid() : undefined), { message: 'the sandboxed function is ready' })
        : Number(await waitFor(() => readFile(pidFile, 'utf8').catch(() => ''), { message: 'the function wrote its pid' }));
      let sentBefore = 0;
      for (let round = 0; round < 8; round += 1) {
        const ids = [0, 1, 2].map((i) => `c${i}-${round}`);
        const bodies = await Promise.all(ids.map(async (id) => {
          const res = await request(`${url}/function/late`, { headers: { 'x-call-id': id } });
          return `${res.statusCode} ${await res.body.text()}`;
        }));
        assert.deepEqual(bodies, ids.map((id) => `200 for ${id}`), `round ${round}: each caller got its own reply`);
        process.kill(pid, 'SIGUSR2');
        // The round's calls opened or used connections that had no stray yet, so the total grows.
        const { sent } = await waitFor(async () => {
          const counts = await strayCounts();
          return counts.sent > sentBefore && counts.dropped === counts.sent ? counts : undefined;
        }, { message: `round ${round}: the gateway dropped every connection that got a stray` });
        sentBefore = sent;
      }
      // The readiness probe's connection (always the full path's pool) gets strays too.
      assert.ok(idleBytes.includes(isExpressLane ? 'express' : 'full'), `idle_bytes counted on this path: ${JSON.stringify(idleBytes)}`);
    });
  });
}
