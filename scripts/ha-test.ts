// The HA test (issue 4.5): three nats-servers on loopback, R3 streams, `faasq up` on all three
// URLs, N async calls with callbacks to a local receiver; the queue stream's leader is killed
// with kill -9 mid-run and restarted later. Reports lost calls (must be 0), duplicates (each with
// its evidence) and the longest accept stall, as a human line and a JSON line.
// Run: node --import tsx scripts/ha-test.ts [--calls 10000] [--concurrency 32] [--nats 2.10|2.15]
// test/ha/ha.test.ts runs a smaller version in the suite.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startNatsCluster, type NatsServerVersion } from '../test/support/nats-server.js';
import { makeTempDir } from '../test/support/temp-dir.js';
import { waitFor } from '../test/support/wait-for.js';
import { startFaasqChild } from '../test/scaleout/support/faasq-child.js';
import { ledgerStack, readLedger } from '../test/scaleout/support/ledger.js';

export interface HaOptions {
  readonly calls: number;
  readonly concurrency?: number;
  readonly version?: NatsServerVersion;
  /** Progress lines (stderr in the script). */
  readonly progress?: (line: string) => void;
}

export interface Duplicate {
  readonly callId: string;
  readonly executions: number;
  readonly callbacks: number;
  readonly attempts: number;
  readonly why: string;
}

export interface HaReport {
  readonly calls: number;
  readonly accepted: number;
  readonly lost: number;
  readonly lostIds: string[];
  /** For the first lost calls: their record and what the worker logged about them. */
  readonly lostEvidence: { callId: string; state: string; attempts: number; hasCallback: boolean; log: string[] }[];
  readonly notFinal: number;
  readonly states: Record<string, number>;
  readonly duplicates: Duplicate[];
  readonly maxAcceptGapMs: number;
  readonly maxAcceptLatencyMs: number;
  readonly acceptRetries: number;
  readonly killed: { node: string; atAccepted: number; restartedAtAccepted: number; healthyAfterRestartMs: number; restartNote: string };
  readonly durationS: number;
}

const QUEUE_STREAM = 'FAASQ_Q_faas-request';
/** The worker's lease (ack wait): a call whose settlement is lost in the election is redelivered after it. */
export const HA_LEASE_MS = 5000;
const ENV = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'ha-pw', FAASQ_LOG_LEVEL: 'info', FAASQ_ACK_WAIT: `${HA_LEASE_MS / 1000}s` };
const FINAL_DEADLINE_MS = 240_000;
const STALL_MS = 45_000;
const FINAL = ['succeeded', 'failed', 'dead', 'cancelled'];

export async function runHaTest(options: HaOptions): Promise<HaReport> {
  const progress = options.progress ?? (() => {});
  const concurrency = options.concurrency ?? 32;
  const tmp = await makeTempDir('faasq-ha-');
  const ledgerFile = path.join(tmp.dir, 'ledger.txt');
  await writeFile(path.join(tmp.dir, 'stack.yml'), ledgerStack(ledgerFile, { noop: {} }));
  const callbacks = new Map<string, number>();
  const receiver = http.createServer((req, res) => {
    const id = String(req.headers['x-call-id'] ?? '');
    req.resume();
    req.on('end', () => {
      callbacks.set(id, (callbacks.get(id) ?? 0) + 1);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cb`;
  const cluster = await startNatsCluster(3, { version: options.version });
  const up = startFaasqChild('up', ['up', '--port', '0', '-f', 'stack.yml', '--queue', cluster.url, '--stream-replicas', '3', '--max-inflight', '64', '--data-dir', path.join(tmp.dir, 'data')], { cwd: tmp.dir, env: ENV });
  const startedAt = Date.now();
  try {
    const url = await up.url(90_000);
    progress(`faasq up on ${url}, NATS ${cluster.url}`);
    const ids = Array.from({ length: options.calls }, (_, i) => `ha-${i}`);
    const acceptedIds: string[] = [];
    let acceptRetries = 0;
    let maxLatencyMs = 0;
    let maxGapMs = 0;
    let last202 = 0;
    let killedNode = -1;
    let killedAt = -1;
    let restartedAt = -1;
    let killing: Promise<void> = Promise.resolve();
    let restartNote = '';
    let restartHealthyMs = -1;
    const killAt = Math.floor(options.calls / 2);
    const restartAt = Math.floor((options.calls * 3) / 4);

    const onAccepted = (): void => {
      const n = acceptedIds.length;
      if (n >= killAt && killedAt < 0) {
        killedAt = n;
        // Not awaited: the load keeps going while the leader dies (and stalls accepts meanwhile).
        killing = (async () => {
          const leader = await cluster.streamLeader(QUEUE_STREAM);
          if (leader === undefined) throw new Error(`no leader for ${QUEUE_STREAM}`);
          killedNode = leader;
          progress(`kill -9 ${cluster.nodes[leader].name} (stream leader) at ${n} accepted`);
          await cluster.nodes[leader].kill9();
        })();
      }
      if (n >= restartAt && restartedAt < 0 && killedNode >= 0) {
        restartedAt = n;
        const node = cluster.nodes[killedNode];
        killing = killing.then(async () => {
          progress(`restart ${node.name} at ${n} accepted`);
          const began = Date.now();
          // restart() gives up on /healthz after 30 s while the process keeps running: a replica
          // still catching up is reported, not a failure of the run.
          await node.restart().catch((err: Error) => {
            restartNote = err.message;
            progress(`restarted ${node.name} is not healthy yet: ${err.message}`);
          });
          if (!restartNote) restartHealthyMs = Date.now() - began;
        });
      }
    };

    const acceptOne = async (id: string): Promise<void> => {
      const began = Date.now();
      for (let attempt = 0; ; attempt++) {
        let status = 0;
        try {
          const res = await fetch(`${url}/async-function/noop`, { method: 'POST', body: id, headers: { 'x-call-id': id, 'x-callback-url': callbackUrl }, signal: AbortSignal.timeout(30_000) });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          status = 0;
        }
        if (status === 202) break;
        if (Date.now() - began > 120_000) throw new Error(`${id}: no 202 within 120 s (last status ${status})`);
        // 503 while the stream elects a new leader: a client retries with the same call id.
        acceptRetries++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** Math.min(attempt, 5))));
      }
      const now = Date.now();
      maxLatencyMs = Math.max(maxLatencyMs, now - began);
      if (last202 > 0) maxGapMs = Math.max(maxGapMs, now - last202);
      last202 = now;
      acceptedIds.push(id);
      onAccepted();
    };

    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < ids.length) await acceptOne(ids[next++]);
    }));
    await killing;
    progress(`all ${acceptedIds.length} accepted in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; waiting for callbacks`);

    // Done when every accepted call has called back, or when no callback came for STALL_MS.
    let lastCount = -1;
    let lastChangeAt = Date.now();
    await waitFor(() => {
      if (callbacks.size !== lastCount) [lastCount, lastChangeAt] = [callbacks.size, Date.now()];
      return acceptedIds.every((id) => callbacks.has(id)) || Date.now() - lastChangeAt > STALL_MS;
    }, { timeoutMs: FINAL_DEADLINE_MS, intervalMs: 500, message: 'a callback for every accepted call' }).catch(() => undefined);
    const missing = acceptedIds.filter((id) => !callbacks.has(id)).length;
    if (missing > 0) progress(`${missing} callbacks missing`);

    const states: Record<string, number> = {};
    const recordOf = new Map<string, { state: string; attempts: number }>();
    let cursor = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (cursor < acceptedIds.length) {
        const id = acceptedIds[cursor++];
        const res = await fetch(`${url}/async-function/${id}`);
        const rec = res.status === 200 ? ((await res.json()) as { state: string; attempts: number }) : (await res.arrayBuffer(), { state: 'missing', attempts: 0 });
        states[rec.state] = (states[rec.state] ?? 0) + 1;
        recordOf.set(id, rec);
      }
    }));

    const { starts } = await readLedger(ledgerFile);
    const logs = up.logs();
    const isFinal = (id: string): boolean => FINAL.includes(recordOf.get(id)?.state ?? 'missing');
    // Lost: accepted (202) but never reached a final state or never called back.
    const lostIds = acceptedIds.filter((id) => !callbacks.has(id) || !isFinal(id));
    const duplicates: Duplicate[] = [];
    for (const id of acceptedIds) {
      const executions = starts.get(id) ?? 0;
      const cbs = callbacks.get(id) ?? 0;
      if (executions <= 1 && cbs <= 1) continue;
      const attempts = recordOf.get(id)?.attempts ?? 0;
      const started = logs.filter((l) => l.callId === id && l.msg === 'call started').map((l) => `attempt ${String(l.attempt)}`);
      duplicates.push({ callId: id, executions, callbacks: cbs, attempts, why: explain(executions, cbs, attempts, started) });
    }
    return {
      calls: options.calls,
      accepted: acceptedIds.length,
      lost: lostIds.length,
      lostIds: lostIds.slice(0, 20),
      lostEvidence: lostIds.slice(0, 5).map((id) => ({
        callId: id,
        state: recordOf.get(id)?.state ?? 'missing',
        attempts: recordOf.get(id)?.attempts ?? 0,
        hasCallback: callbacks.has(id),
        log: logs.filter((l) => l.callId === id).map((l) => `${String(l.msg)}${l.attempt === undefined ? '' : ` #${String(l.attempt)}`}${l.err ? ` err=${JSON.stringify((l.err as { message?: string }).message ?? l.err)}` : ''}`),
      })),
      notFinal: acceptedIds.filter((id) => !isFinal(id)).length,
      states,
      duplicates,
      maxAcceptGapMs: maxGapMs,
      maxAcceptLatencyMs: maxLatencyMs,
      acceptRetries,
      killed: { node: killedNode >= 0 ? cluster.nodes[killedNode].name : 'none', atAccepted: killedAt, restartedAtAccepted: restartedAt, healthyAfterRestartMs: restartHealthyMs, restartNote },
      durationS: Number(((Date.now() - startedAt) / 1000).toFixed(1)),
    };
  } finally {
    await up.stop();
    await cluster.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    receiver.closeAllConnections();
    await tmp.cleanup();
  }
}

function explain(executions: number, callbacks: number, attempts: number, started: string[]): string {
  const seen = started.length > 0 ? ` (worker log: ${started.join(', ')})` : '';
  if (executions > 1 && attempts > 1) {
    return `same call id delivered again: the first delivery's ack or lease was lost in the leader failover, so JetStream redelivered it after the lease and the worker ran attempt ${attempts}${seen}`;
  }
  if (executions > 1) {
    return `ran ${executions} times while the record counts ${attempts} attempt(s): the first run's final record or ack was lost in the leader failover and, having ended within FAASQ_RUNNING_RECORD_DELAY, it had written no running record, so the redelivery counted from the start (or the redelivery read the record from a replica behind the leader)${seen}`;
  }
  return `callback posted ${callbacks} times for one run: the worker retried the callback (the first POST got no answer in time)${seen}`;
}

function formatHuman(r: HaReport): string {
  return `HA: ${r.accepted}/${r.calls} accepted, lost ${r.lost}, not final ${r.notFinal}, duplicates ${r.duplicates.length}, ` +
    `longest accept stall ${(r.maxAcceptGapMs / 1000).toFixed(2)} s (max accept latency ${(r.maxAcceptLatencyMs / 1000).toFixed(2)} s, ${r.acceptRetries} retried accepts), ` +
    `killed ${r.killed.node} at ${r.killed.atAccepted}, restarted at ${r.killed.restartedAtAccepted} ` +
    `(${r.killed.healthyAfterRestartMs >= 0 ? `healthy after ${(r.killed.healthyAfterRestartMs / 1000).toFixed(1)} s` : `not healthy within 30 s: ${r.killed.restartNote}`}), ${r.durationS} s`;
}

async function main(): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const report = await runHaTest({
    calls: Number(arg('calls') ?? 10_000),
    concurrency: Number(arg('concurrency') ?? 32),
    version: (arg('nats') ?? '2.10') as NatsServerVersion,
    progress: (line) => process.stderr.write(`ha: ${line}\n`),
  });
  process.stdout.write(`${formatHuman(report)}\n`);
  for (const d of report.duplicates) process.stdout.write(`  duplicate ${d.callId}: ran ${d.executions}x, ${d.callbacks} callback(s): ${d.why}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'ha', ...report })}\n`);
  process.exitCode = report.lost === 0 && report.notFinal === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`ha-test failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
