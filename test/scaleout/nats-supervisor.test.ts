// `faasq up --nats`: finding the binary (PATH, then .tools/, refusing < 2.10, a clear message when
// missing), the supervisor restarting a killed server on the same port, and the CLI end to end.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findNatsServer, natsServerCandidates, NATS_NOT_FOUND_MESSAGE } from '../../src/app/find-nats-server.js';
import { startNatsSupervisor } from '../../src/app/nats-supervisor.js';
import { isFaasqError, silentLogger } from '../../src/shared/index.js';
import { findNatsServerBin, natsSkipReason } from '../support/nats-server.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startFaasqChild } from './support/faasq-child.js';

const skip = natsSkipReason();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('scale-out - finding nats-server', () => {
  test('scale-out - no nats-server on PATH or in .tools gives the install hint', async () => {
    const tmp = await makeTempDir();
    try {
      assert.deepEqual(natsServerCandidates({ PATH: tmp.dir }, tmp.dir), []);
      await assert.rejects(findNatsServer({ PATH: tmp.dir }, tmp.dir), (err) => isFaasqError(err, 'E_CONFIG') && (err as Error).message === NATS_NOT_FOUND_MESSAGE);
    } finally {
      await tmp.cleanup();
    }
  });

  test('scale-out - a nats-server older than 2.10 on PATH is refused and named; .tools is tried after PATH', async () => {
    const tmp = await makeTempDir();
    try {
      const old = path.join(tmp.dir, 'bin', 'nats-server');
      await mkdir(path.dirname(old));
      await writeFile(old, '#!/bin/sh\necho "nats-server: v2.9.10"\n');
      await chmod(old, 0o755);
      await assert.rejects(findNatsServer({ PATH: path.dirname(old) }, tmp.dir), (err) => isFaasqError(err, 'E_CONFIG') && (err as Error).message.startsWith(NATS_NOT_FOUND_MESSAGE) && (err as Error).message.includes('2.9.10'));
      const toolsBin = path.join(tmp.dir, '.tools', 'nats-server-2.10.99', 'usr/sbin/nats-server');
      await mkdir(path.dirname(toolsBin), { recursive: true });
      await writeFile(toolsBin, '#!/bin/sh\necho "nats-server: v2.10.99"\n');
      await chmod(toolsBin, 0o755);
      assert.deepEqual(natsServerCandidates({ PATH: path.dirname(old) }, tmp.dir), [old, toolsBin]);
      assert.deepEqual(await findNatsServer({ PATH: path.dirname(old) }, tmp.dir), { bin: toolsBin, version: '2.10.99' });
    } finally {
      await tmp.cleanup();
    }
  });
});

describe('scale-out - nats-server supervisor', { skip }, () => {
  test('scale-out - supervisor restarts a kill -9ed nats-server on the same port and stops it on close', { timeout: 60_000 }, async () => {
    const tmp = await makeTempDir();
    const bin = findNatsServerBin()!;
    const sup = await startNatsSupervisor({ bin, dir: path.join(tmp.dir, 'nats'), port: 0, logger: silentLogger(), restartMinMs: 100 });
    try {
      assert.match(sup.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
      const first = sup.pid()!;
      assert.ok(isAlive(first));
      assert.ok((await readdir(path.join(tmp.dir, 'nats', 'store'))).length > 0, 'JetStream store is in <dir>/store');
      process.kill(first, 'SIGKILL');
      const second = await waitFor(() => { const p = sup.pid(); return p !== undefined && p !== first ? p : undefined; }, { timeoutMs: 10_000, message: 'restarted' });
      await sup.waitReady(15_000);
      const varz = await (await fetch(`http://127.0.0.1:${sup.monitorPort}/varz`)).json() as { port: number; max_payload: number };
      assert.equal(`nats://127.0.0.1:${varz.port}`, sup.url);
      assert.equal(varz.max_payload, 8 * 1024 * 1024);
      await sup.close();
      assert.equal(isAlive(second), false);
      assert.equal(sup.pid(), undefined);
    } finally {
      await sup.close();
      await tmp.cleanup();
    }
  });

  test('scale-out - faasq up --nats serves async calls on its own nats-server, survives its crash and stops it last', { timeout: 120_000 }, async () => {
    const tmp = await makeTempDir('faasq-up-nats-');
    await writeFile(path.join(tmp.dir, 'stack.yml'), 'version: "1.0"\nfunctions:\n  upper:\n    fprocess: tr a-z A-Z\n');
    const env = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'nats-pw' };
    const up = startFaasqChild('up', ['up', '--nats', '--port', '0', '--data-dir', path.join(tmp.dir, 'data'), '--log-level', 'info'], { cwd: tmp.dir, env });
    try {
      const url = await up.url(60_000);
      const natsPid = (): number | undefined => {
        const started = up.logs().filter((l) => l.msg === 'nats-server started');
        return started.at(-1)?.pid as number | undefined;
      };
      const pid = natsPid();
      assert.ok(pid && isAlive(pid), up.output());
      const runAsync = async (callId: string, input: string): Promise<void> => {
        const accepted = await waitFor(async () => {
          const res = await fetch(`${url}/async-function/upper`, { method: 'POST', body: input, headers: { 'x-call-id': callId } });
          await res.arrayBuffer();
          return res.status === 202;
        }, { timeoutMs: 30_000, intervalMs: 200, message: `202 for ${callId}` });
        assert.ok(accepted);
        await waitFor(async () => {
          const res = await fetch(`${url}/async-function/${callId}`);
          return res.status === 200 && ((await res.json()) as { state: string }).state === 'succeeded';
        }, { timeoutMs: 30_000, intervalMs: 100, message: `${callId} succeeded` });
      };
      await runAsync('nats-up-1', 'first');
      assert.ok((await readdir(path.join(tmp.dir, 'data', 'nats', 'store'))).length > 0);

      process.kill(pid, 'SIGKILL');
      await waitFor(() => { const p = natsPid(); return p !== undefined && p !== pid; }, { timeoutMs: 15_000, message: 'nats-server restarted' });
      await runAsync('nats-up-2', 'second');

      const current = natsPid()!;
      await up.stop();
      assert.equal(up.child.exitCode, 0, up.output());
      assert.equal(isAlive(current), false, 'nats-server stopped with faasq');
    } finally {
      await up.kill9();
      await tmp.cleanup();
    }
  });
});
