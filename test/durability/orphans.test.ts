// kill -9 of `faasq up` leaves no function process behind: each replica's watchdog sees its stdin
// (a pipe faasq holds and never writes) end, and takes its function processes with it; in a
// sandbox, bwrap's --die-with-parent does the same, and each replica's slirp4netns (the outbound
// network, when installed) ends with the replica's wrapper shell. Without a sandbox an http-mode
// function runs bare, with no watchdog: setpriv's parent-death signal takes it along.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { detectSandbox } from '../../src/provider/local/sandbox/index.js';
import { startFaasq } from '../cli/support/faasq-process.js';
import { commandOf, descendants, isAlive } from '../support/processes.js';
import { makeTempDir } from '../support/temp-dir.js';
import { toolSkipReason } from '../support/tools.js';
import { waitFor } from '../support/wait-for.js';

const host = detectSandbox('auto', 'nobody', 'auto');
const sandboxSkip = toolSkipReason('bwrap') ?? (process.getuid?.() !== 0 ? 'needs root' : !host.isOn ? `no sandbox here: ${host.reason}` : false);

for (const mode of ['off', 'on'] as const) {
  test(`durability - kill -9 of faasq up (sandbox ${mode}) leaves no watchdog or function process running`, { skip: mode === 'on' ? sandboxSkip : false, timeout: 60_000 }, async () => {
    const tmp = await makeTempDir('faasq-orphans-');
    try {
      await writeFile(path.join(tmp.dir, 'server.mjs'), "import http from 'node:http';\nhttp.createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');\n");
      const web = '  web:\n    fprocess: node server.mjs\n    environment:\n      mode: http\n';
      await writeFile(path.join(tmp.dir, 'stack.yml'), `functions:\n  sleeper:\n    fprocess: sleep 60\n${web}`);
      const up = startFaasq(['up', '--port', '0', '-f', 'stack.yml', '--data-dir', path.join(tmp.dir, 'data'), '--log-level', 'warn'], { cwd: tmp.dir, env: { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'pw', FAASQ_SANDBOX: mode } });
      const url = (await up.waitForLine(/listening on (http:\/\/\S+)/, 30_000))[1];
      await waitFor(async () => (await fetch(`${url}/function/web`)).status === 200, { timeoutMs: 20_000, message: 'the http function answers' });
      const call = fetch(`${url}/function/sleeper`, { method: 'POST', body: 'x' }).catch(() => undefined);
      const pid = up.child.pid!;
      // The fork watchdog and its running call, and the http replica (in the sandbox also bwrap and slirp4netns).
      const below = await waitFor(() => { const d = descendants(pid); return d.some((p) => /(^|\/)sleep 60/.test(commandOf(p))) && d.some((p) => /node server\.mjs/.test(commandOf(p))) ? d : undefined; }, { timeoutMs: 30_000, message: 'the fork call running' });
      const slirps = below.filter((p) => /^\S*slirp4netns /.test(commandOf(p))).length;
      up.child.kill('SIGKILL');
      await call;
      await waitFor(() => below.every((p) => !isAlive(p)), { timeoutMs: 10_000, message: `every process faasq started gone (${below.join(', ')})` });
      assert.ok(below.every((p) => !isAlive(p)));
      if (mode === 'on' && host.outbound) assert.equal(slirps, 2, 'a slirp4netns per replica, gone with it');
    } finally {
      await tmp.cleanup();
    }
  });
}
