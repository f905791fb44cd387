// The chaos soak (issue 22): faasq under faults the way an operator would try it, on loopback.
// NATS mode: three clustered nats-servers (2.10 or 2.15) with R3 streams, two `faasq up --queue
// nats://a,nats://b,nats://c`, an http-mode function (20-80 ms) and a fork-mode one, async calls
// with callbacks to a local receiver at a fixed rate, alternating gateways, and a fault every few
// seconds, cycling: kill -9 of a faasq (back after 5 s), kill -9 of the work stream's leader (back
// after 10 s), SIGSTOP of a nats-server for 8 s, SIGTERM of a faasq (restarted at once). Embedded
// mode: one `faasq up` on its embedded queue, kill -9 (back after 5 s) and SIGTERM in turn.
// Every call carries a body token that its callback echoes, so each callback is matched to its
// call. The client follows docs/async.md: a 504 E_ACCEPT_UNCONFIRMED is retried with its X-Call-Id;
// a refused connection (a faasq that is down) goes to the other gateway.
// Reports accepted, lost, duplicates (each explained by its record or not), refusals by status and
// whether each refused call ran anyway, accept latency p50/p99 (all, and during faults), RSS.
// Run: node --import tsx bench/chaos-soak.ts [--minutes 10] [--rate 40] [--fault-every 20] [--nats 2.10|2.15|embedded] [--built]
// (--built: faasq runs from dist/, so `npm run build` first; without it, from the sources through tsx,
// whose start-up adds about half a second to every restart, more on a loaded machine.)
// test/ha/chaos-soak.test.ts runs a short one in the suite.
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, startNatsCluster, type NatsCluster, type NatsNode, type NatsServerVersion } from '../test/support/nats-server.js';
import { makeTempDir } from '../test/support/temp-dir.js';
import { waitFor } from '../test/support/wait-for.js';
import { startFaasqChild, type FaasqChild } from '../test/scaleout/support/faasq-child.js';
import { LEDGER_FN, readLedger } from '../test/scaleout/support/ledger.js';

const LEDGER_FORK = path.join(path.dirname(fileURLToPath(import.meta.url)), '../test/scaleout/support/ledger-fork.sh');
const QUEUE_STREAM = 'FAASQ_Q_faas-request';
const FINAL = ['succeeded', 'failed', 'dead', 'cancelled'];
/** Retrying an unconfirmed accept with its id: how long the client keeps at it. */
const CLIENT_RETRY_MS = 60_000;
/** A fault window lasts from the fault until this long after its recovery. */
const FAULT_TAIL_MS = 5000;
const LEASE_S = 10;
/** A run that started this long before a kill -9 of a faasq may have been cut short by it. */
const WORKER_KILL_WINDOW_MS = 3000;
/** …or this long after: a request the worker sent just before it died reaches the function a moment later. */
const WORKER_KILL_AFTER_MS = 1000;

export type SoakMode = NatsServerVersion | 'embedded';

export interface SoakOptions {
  readonly durationS: number;
  /** Calls per second offered (fixed rate, open loop). */
  readonly rate: number;
  readonly faultEveryS: number;
  readonly mode: SoakMode;
  /** Run faasq from dist/ (built first), as an operator does, rather than from the sources through tsx. */
  readonly isBuilt?: boolean;
  /** Share of calls that go to the fork-mode function (the rest to the http one). */
  readonly forkShare?: number;
  readonly progress?: (line: string) => void;
}

interface Call {
  readonly token: string;
  readonly fn: string;
  readonly startedAt: number;
  callId?: string;
  /** First answer's status (0: no answer, the connection failed after sending). */
  firstStatus?: number;
  /** Final outcome for the client. */
  outcome?: 'accepted' | 'refused' | 'no-answer';
  finalStatus?: number;
  acceptMs?: number;
  retriedWithId?: boolean;
  /** Sent to the other gateway after a refused connection or a 503 E_SHUTTING_DOWN. */
  wasRedirected?: boolean;
}

interface Fault {
  readonly kind: string;
  readonly target: string;
  readonly at: number;
  recoveredAt?: number;
  /** One nats-server out of three at most: a quorum holds. */
  readonly isQuorumKept: boolean;
}

export interface SoakReport {
  readonly mode: SoakMode;
  readonly durationS: number;
  /** Calls per second asked for (--rate). */
  readonly intendedRate: number;
  /** Calls per second the loader actually sent (offered / the load phase's seconds). */
  readonly offeredRate: number;
  /** How late the loader sent a call against its schedule: p99 and max (a busy machine falls behind). */
  readonly sendLagP99Ms: number;
  readonly sendLagMaxMs: number;
  /**
   * Seconds from the end of the load until the last accepted call had called back, and the calls
   * finished per second over the whole run: a rate the machine sustains leaves a drain of seconds
   * (the last calls and the lease of a fault at the end), one it does not leaves a backlog.
   */
  readonly drainS: number;
  readonly finishedRate: number;
  /** The machine's 1-minute load average sampled every 5 s during the load: mean and max. */
  readonly loadAvg: { readonly mean: number; readonly max: number };
  readonly offered: number;
  readonly accepted: number;
  readonly lost: number;
  readonly lostTokens: string[];
  /** What the faasq processes logged (warn and above) about the first lost calls. */
  readonly lostLogs: string[];
  readonly notFinal: number;
  readonly refusals: Record<string, number>;
  readonly refusedButRan: number;
  readonly refusedDuringQuorum: number;
  readonly unconfirmedRetried: number;
  readonly redirected: number;
  readonly noAnswer: number;
  readonly noAnswerRan: number;
  /**
   * Calls run or called back more than once. `isExplained`: the record counts every run (attempts)
   * and every callback send. `isAtWorkerKill`: a run started within 3 s before (or 1 s after) a
   * kill -9 of a faasq: a worker that dies mid-call runs it again after the lease (at least once,
   * docs/async.md), and when it died before writing anything (FAASQ_RUNNING_RECORD_DELAY) the record
   * cannot know of that run.
   */
  readonly duplicates: { token: string; callId: string; runs: number; callbacks: number; attempts: number; unknownAttempts: number; callbackAttempts: number; isExplained: boolean; isAtWorkerKill: boolean }[];
  /** Duplicates the record does not explain whose first run was under way when a worker was killed. */
  readonly duplicatesFromWorkerKills: number;
  readonly unexplainedDuplicates: number;
  readonly acceptP50Ms: number;
  readonly acceptP99Ms: number;
  readonly acceptP99DuringFaultsMs: number;
  readonly acceptP50DuringFaultsMs: number;
  readonly acceptMaxMs: number;
  readonly faults: { kind: string; target: string; atS: number; recoveredAfterS: number }[];
  readonly rssMaxMb: Record<string, number>;
}

/** The largest value, 0 for none (a spread into Math.max overflows the stack at ~100k values). */
function maxOf(values: readonly number[]): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
}

function stack(ledgerFile: string): string {
  return [
    'version: "1.0"',
    'functions:',
    '  web:',
    `    fprocess: node ${LEDGER_FN}`,
    '    environment:',
    '      mode: http',
    `      LEDGER: ${JSON.stringify(ledgerFile)}`,
    '  forky:',
    `    fprocess: bash ${LEDGER_FORK}`,
    '    environment:',
    '      mode: fork',
    `      LEDGER: ${JSON.stringify(ledgerFile)}`,
    '',
  ].join('\n');
}

async function pidOf(node: NatsNode): Promise<number | undefined> {
  const conf = path.join(path.dirname(node.storeDir), `${node.name}.conf`);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.split('\0').includes(conf)) return Number(entry);
  }
  return undefined;
}

async function rssMb(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runChaosSoak(options: SoakOptions): Promise<SoakReport> {
  const progress = options.progress ?? (() => {});
  const forkShare = options.forkShare ?? 0.2;
  const tmp = await makeTempDir('faasq-chaos-');
  const ledgerFile = path.join(tmp.dir, 'ledger.txt');
  await writeFile(path.join(tmp.dir, 'stack.yml'), stack(ledgerFile));

  // Callbacks: the body is the function's echo of the call's token.
  const callbacksByToken = new Map<string, number>();
  const callIdOfToken = new Map<string, string>();
  /** When the latest first callback of a call arrived: the system kept up if that is soon after the load ends. */
  let lastFirstCallbackAt = 0;
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const token = Buffer.concat(chunks).toString('utf8');
      if (!callbacksByToken.has(token)) lastFirstCallbackAt = Date.now();
      callbacksByToken.set(token, (callbacksByToken.get(token) ?? 0) + 1);
      const id = req.headers['x-call-id'];
      if (typeof id === 'string') callIdOfToken.set(token, id);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cb`;

  const isNats = options.mode !== 'embedded';
  let cluster: NatsCluster | undefined;
  if (isNats) cluster = await startNatsCluster(3, { version: options.mode });
  // No sandbox: the ledger functions live in test/ and write one shared ledger file, which a
  // sandboxed function can neither read nor write; the soak is about the queue, not isolation.
  const env = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'chaos-pw', FAASQ_LOG_LEVEL: 'warn', FAASQ_ACK_WAIT: `${LEASE_S}s`, FAASQ_SANDBOX: 'off' };
  const instances = isNats ? 2 : 1;
  const ports = await Promise.all(Array.from({ length: instances }, () => freePort()));
  const args = (i: number): string[] => [
    'up', '--port', String(ports[i]), '-f', 'stack.yml', '--data-dir', path.join(tmp.dir, `data-${i}`),
    ...(cluster ? ['--queue', cluster.url, '--stream-replicas', '3'] : []),
  ];
  const faasq: FaasqChild[] = [];
  /** Every faasq process started, restarts included (their logs are searched for lost calls). */
  const everyFaasq: FaasqChild[] = [];
  const startFaasq = async (i: number): Promise<void> => {
    faasq[i] = startFaasqChild(`up-${i}`, args(i), { cwd: tmp.dir, env, isBuilt: options.isBuilt });
    everyFaasq.push(faasq[i]);
    await faasq[i].url(120_000);
  };
  const gateways = ports.map((p) => `http://127.0.0.1:${p}`);
  const calls: Call[] = [];
  const faults: Fault[] = [];
  const rssMax: Record<string, number> = {};
  const sendLags: number[] = [];
  const loadSamples: number[] = [];
  let loadEndedAt = 0;
  // Reset once every faasq is up: the load's schedule starts then (not during start-up, which would
  // make the loader send a burst to catch up).
  let startedAt = Date.now();
  let isLoading = true;
  const inflight = new Set<Promise<void>>();
  try {
    for (let i = 0; i < instances; i++) await startFaasq(i);
    startedAt = Date.now();
    progress(`${instances} faasq up on ${gateways.join(' ')}${cluster ? `, NATS ${options.mode} ${cluster.url}` : ', embedded queue'}`);

    const post = async (gateway: number, call: Call, callId?: string): Promise<{ status: number; code?: string; callId?: string; isRefusedConnection: boolean }> => {
      const headers: Record<string, string> = { 'x-callback-url': callbackUrl, accept: 'application/json' };
      if (callId) headers['x-call-id'] = callId;
      const pathPart = call.fn === 'web' ? `web?ms=${20 + Math.floor(Math.random() * 61)}` : 'forky';
      try {
        const res = await fetch(`${gateways[gateway]}/async-function/${pathPart}`, { method: 'POST', body: call.token, headers, signal: AbortSignal.timeout(45_000) });
        const text = await res.text();
        let code: string | undefined;
        if (res.status !== 202) try { code = (JSON.parse(text) as { error?: string }).error; } catch { /* not JSON */ }
        return { status: res.status, code, callId: res.headers.get('x-call-id') ?? undefined, isRefusedConnection: false };
      } catch (err) {
        const code = (err as { cause?: { code?: string } }).cause?.code;
        return { status: 0, isRefusedConnection: code === 'ECONNREFUSED' };
      }
    };

    let turn = 0;
    const submit = async (call: Call): Promise<void> => {
      let gateway = turn++ % instances;
      let callId: string | undefined;
      const deadline = call.startedAt + CLIENT_RETRY_MS;
      for (;;) {
        const answer = await post(gateway, call, callId);
        call.firstStatus ??= answer.status;
        if (answer.status === 202) {
          call.callId = answer.callId;
          call.outcome = 'accepted';
          call.finalStatus = 202;
          call.acceptMs = Date.now() - call.startedAt;
          return;
        }
        const isUnconfirmed = answer.status === 504 && answer.callId !== undefined;
        if (isUnconfirmed) {
          // docs/async.md: the call may be stored; a retry with its id is never run twice.
          callId = answer.callId;
          call.callId = callId;
          call.retriedWithId = true;
        }
        // A gateway shutting down (SIGTERM) sent nothing: the other gateway takes the call.
        const isShuttingDown = answer.code === 'E_SHUTTING_DOWN';
        if (isShuttingDown) call.wasRedirected = true;
        if (answer.isRefusedConnection) call.wasRedirected = true;
        const mayRetry = (isUnconfirmed || answer.isRefusedConnection || isShuttingDown) && Date.now() < deadline;
        if (!mayRetry) {
          call.outcome = answer.status === 0 ? 'no-answer' : 'refused';
          call.finalStatus = answer.status;
          call.callId ??= answer.callId;
          return;
        }
        gateway = (gateway + 1) % instances;
        await sleep(answer.isRefusedConnection || isShuttingDown ? 100 : 250);
      }
    };

    // Open-loop load at a fixed rate.
    const loader = (async () => {
      const intervalMs = 1000 / options.rate;
      let n = 0;
      while (Date.now() - startedAt < options.durationS * 1000) {
        const due = startedAt + n * intervalMs;
        if (due > Date.now()) await sleep(due - Date.now());
        sendLags.push(Math.max(0, Date.now() - due));
        const call: Call = { token: `tok-${n}-${Math.random().toString(36).slice(2, 8)}`, fn: Math.random() < forkShare ? 'forky' : 'web', startedAt: Date.now() };
        calls.push(call);
        const p = submit(call).finally(() => inflight.delete(p));
        inflight.add(p);
        n++;
      }
      isLoading = false;
      loadEndedAt = Date.now();
    })();

    const sampler = (async () => {
      while (isLoading) {
        const pids: [string, number | undefined][] = faasq.map((f, i) => [`faasq-${i}`, f.isRunning() ? f.child.pid : undefined]);
        if (cluster) for (const node of cluster.nodes) pids.push([`nats-${node.name}`, node.isRunning() ? await pidOf(node) : undefined]);
        for (const [name, pid] of pids) rssMax[name] = Math.max(rssMax[name] ?? 0, await rssMb(pid));
        loadSamples.push(os.loadavg()[0]);
        await sleep(5000);
      }
    })();

    // Faults, cycling, one every faultEveryS; each recovers before the next starts.
    const faulter = (async () => {
      const cycle = isNats ? ['kill9-faasq', 'kill9-leader', 'sigstop-nats', 'sigterm-faasq'] : ['kill9-faasq', 'sigterm-faasq'];
      let k = 0;
      await sleep(Math.min(options.faultEveryS * 1000, 10_000));
      while (isLoading && Date.now() - startedAt < options.durationS * 1000 - 15_000) {
        const kind = cycle[k % cycle.length];
        const which = Math.floor(k / cycle.length) % instances;
        const faultStart = Date.now();
        if (kind === 'kill9-faasq' || kind === 'sigterm-faasq') {
          const fault: Fault = { kind, target: `faasq-${which}`, at: faultStart, isQuorumKept: true };
          faults.push(fault);
          progress(`${kind} faasq-${which} at ${((faultStart - startedAt) / 1000).toFixed(0)} s`);
          if (kind === 'kill9-faasq') {
            await faasq[which].kill9();
            await sleep(5000);
          } else {
            await faasq[which].stop();
          }
          await startFaasq(which);
          fault.recoveredAt = Date.now();
        } else if (kind === 'kill9-leader' && cluster) {
          const leader = (await cluster.streamLeader(QUEUE_STREAM)) ?? 0;
          const node = cluster.nodes[leader];
          const fault: Fault = { kind, target: node.name, at: Date.now(), isQuorumKept: true };
          faults.push(fault);
          progress(`kill -9 ${node.name} (stream leader) at ${((fault.at - startedAt) / 1000).toFixed(0)} s`);
          await node.kill9();
          await sleep(10_000);
          await node.restart().catch((err: Error) => progress(`restart of ${node.name}: ${err.message}`));
          fault.recoveredAt = Date.now();
        } else if (kind === 'sigstop-nats' && cluster) {
          const node = cluster.nodes[Math.floor(k / cycle.length) % cluster.nodes.length];
          const pid = await pidOf(node);
          if (pid !== undefined) {
            const fault: Fault = { kind, target: node.name, at: Date.now(), isQuorumKept: true };
            faults.push(fault);
            progress(`SIGSTOP ${node.name} for 8 s at ${((fault.at - startedAt) / 1000).toFixed(0)} s`);
            process.kill(pid, 'SIGSTOP');
            try {
              await sleep(8000);
            } finally {
              process.kill(pid, 'SIGCONT');
            }
            fault.recoveredAt = Date.now();
          }
        }
        k++;
        const left = faultStart + options.faultEveryS * 1000 - Date.now();
        if (left > 0) await sleep(left);
      }
    })();

    await loader;
    await faulter;
    await Promise.allSettled([...inflight]);
    await sampler;
    const acceptedCalls = calls.filter((c) => c.outcome === 'accepted');
    progress(`${calls.length} offered, ${acceptedCalls.length} accepted in ${((Date.now() - startedAt) / 1000).toFixed(0)} s; waiting for callbacks`);

    // Done when every accepted call has called back, or when none came for a while.
    let lastCount = -1;
    let lastChangeAt = Date.now();
    await waitFor(() => {
      if (callbacksByToken.size !== lastCount) [lastCount, lastChangeAt] = [callbacksByToken.size, Date.now()];
      return acceptedCalls.every((c) => callbacksByToken.has(c.token)) || Date.now() - lastChangeAt > 60_000;
    }, { timeoutMs: 300_000, intervalMs: 500 }).catch(() => undefined);
    // Late copies (a redelivery after a lease) get a moment to show up too.
    await sleep(Math.min(LEASE_S * 1000, 5000));

    type RecordView = { state: string; attempts: number; unknownAttempts?: number[]; callback?: { attempts: number } };
    const recordOf = new Map<string, RecordView>();
    // A call whose accept got no answer (its faasq was killed mid-request) has its id only from its callback.
    const idOf = (c: Call): string | undefined => c.callId ?? callIdOfToken.get(c.token);
    const withId = calls.filter((c) => idOf(c) !== undefined);
    let cursor = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (cursor < withId.length) {
        const call = withId[cursor++];
        const res = await fetch(`${gateways[0]}/async-function/${idOf(call)}`).catch(() => undefined);
        if (res?.status === 200) recordOf.set(call.token, (await res.json()) as RecordView);
        else await res?.arrayBuffer();
      }
    }));

    const { starts } = await readLedger(ledgerFile);
    const startTimes = new Map<string, number[]>();
    for (const line of (await readFile(ledgerFile, 'utf8').catch(() => '')).split('\n')) {
      const [kind, id, at] = line.split(' ');
      if (kind === 'start' && id && at) startTimes.set(id, [...(startTimes.get(id) ?? []), Number(at)]);
    }
    const workerKills = faults.filter((f) => f.kind === 'kill9-faasq').map((f) => f.at);
    const isAtWorkerKill = (id: string): boolean => (startTimes.get(id) ?? []).some((t) => workerKills.some((k) => t >= k - WORKER_KILL_WINDOW_MS && t <= k + WORKER_KILL_AFTER_MS));
    const runsOf = (c: Call): number => {
      const id = c.callId ?? callIdOfToken.get(c.token);
      return id ? starts.get(id) ?? 0 : 0;
    };
    const lost = acceptedCalls.filter((c) => !callbacksByToken.has(c.token));
    const notFinal = acceptedCalls.filter((c) => !FINAL.includes(recordOf.get(c.token)?.state ?? 'missing'));
    const refused = calls.filter((c) => c.outcome === 'refused');
    const refusals: Record<string, number> = {};
    for (const c of refused) refusals[String(c.finalStatus)] = (refusals[String(c.finalStatus)] ?? 0) + 1;
    const ran = (c: Call): boolean => callbacksByToken.has(c.token) || runsOf(c) > 0;
    // A 503 says nothing was sent: one that ran lied. A 504 names the call; the client retried it.
    const refusedButRan = refused.filter((c) => c.finalStatus !== 504 && ran(c)).length;
    const inQuorumFault = (t: number): boolean => faults.some((f) => f.isQuorumKept && t >= f.at && t <= (f.recoveredAt ?? f.at) + FAULT_TAIL_MS);
    const refusedDuringQuorum = isNats ? refused.filter((c) => c.finalStatus !== 429).length : 0;
    const noAnswer = calls.filter((c) => c.outcome === 'no-answer');
    const duplicates: SoakReport['duplicates'] = [];
    for (const c of calls) {
      const runs = runsOf(c);
      const callbacks = callbacksByToken.get(c.token) ?? 0;
      if (runs <= 1 && callbacks <= 1) continue;
      const record = recordOf.get(c.token);
      const attempts = record?.attempts ?? 0;
      const callbackAttempts = record?.callback?.attempts ?? 0;
      const callId = c.callId ?? callIdOfToken.get(c.token) ?? '';
      // Explained only when the record counts at least as many attempts as the function had runs,
      // and at least as many callback sends as the receiver got copies.
      const unknownAttempts = record?.unknownAttempts?.length ?? 0;
      duplicates.push({ token: c.token, callId, runs, callbacks, attempts, unknownAttempts, callbackAttempts, isExplained: runs <= attempts && callbacks <= callbackAttempts, isAtWorkerKill: isAtWorkerKill(callId) });
    }
    const latencies = acceptedCalls.map((c) => c.acceptMs ?? 0);
    const duringFaults = acceptedCalls.filter((c) => inQuorumFault(c.startedAt)).map((c) => c.acceptMs ?? 0);
    return {
      mode: options.mode,
      durationS: Number(((Date.now() - startedAt) / 1000).toFixed(1)),
      intendedRate: options.rate,
      offeredRate: Number((calls.length / Math.max(0.001, (loadEndedAt - startedAt) / 1000)).toFixed(1)),
      drainS: Number((Math.max(0, lastFirstCallbackAt - loadEndedAt) / 1000).toFixed(1)),
      finishedRate: Number((callbacksByToken.size / Math.max(0.001, (lastFirstCallbackAt - startedAt) / 1000)).toFixed(1)),
      sendLagP99Ms: percentile(sendLags, 99),
      sendLagMaxMs: Math.round(maxOf(sendLags)),
      loadAvg: {
        mean: Number((loadSamples.reduce((a, b) => a + b, 0) / Math.max(1, loadSamples.length)).toFixed(1)),
        max: Number(Math.max(0, ...loadSamples).toFixed(1)),
      },
      offered: calls.length,
      accepted: acceptedCalls.length,
      lost: lost.length,
      lostTokens: lost.slice(0, 10).map((c) => `${c.token} ${c.callId ?? ''} ${recordOf.get(c.token)?.state ?? 'no record'}, ran ${runsOf(c)}x, accepted after ${c.acceptMs ?? '?'} ms at ${((c.startedAt - startedAt) / 1000).toFixed(1)} s`),
      lostLogs: lost.slice(0, 5).flatMap((c) => everyFaasq.flatMap((f) => f.output().split('\n').filter((l) => c.callId !== undefined && l.includes(c.callId)).map((l) => `${f.name}: ${l.slice(0, 600)}`))).slice(0, 40),
      notFinal: notFinal.length,
      refusals,
      refusedButRan,
      refusedDuringQuorum,
      unconfirmedRetried: calls.filter((c) => c.retriedWithId).length,
      redirected: calls.filter((c) => c.wasRedirected).length,
      noAnswer: noAnswer.length,
      noAnswerRan: noAnswer.filter(ran).length,
      duplicates,
      unexplainedDuplicates: duplicates.filter((d) => !d.isExplained).length,
      duplicatesFromWorkerKills: duplicates.filter((d) => !d.isExplained && d.isAtWorkerKill && d.callbacks <= d.callbackAttempts + 1 && d.runs <= d.attempts + 1).length,
      acceptP50Ms: percentile(latencies, 50),
      acceptP99Ms: percentile(latencies, 99),
      acceptP50DuringFaultsMs: percentile(duringFaults, 50),
      acceptP99DuringFaultsMs: percentile(duringFaults, 99),
      acceptMaxMs: maxOf(latencies),
      faults: faults.map((f) => ({ kind: f.kind, target: f.target, atS: Math.round((f.at - startedAt) / 1000), recoveredAfterS: Number((((f.recoveredAt ?? f.at) - f.at) / 1000).toFixed(1)) })),
      rssMaxMb: rssMax,
    };
  } finally {
    isLoading = false;
    await Promise.allSettled(faasq.map((f) => f.stop()));
    if (cluster) {
      for (const node of cluster.nodes) {
        const pid = node.isRunning() ? await pidOf(node) : undefined;
        if (pid !== undefined) try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
      }
      await cluster.close();
    }
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    receiver.closeAllConnections();
    await tmp.cleanup();
  }
}

export function formatSoak(r: SoakReport): string {
  const refusals = Object.entries(r.refusals).map(([s, n]) => `${n}x${s}`).join(' ') || 'none';
  return `chaos soak (${r.mode}, ${r.durationS} s, ${r.faults.length} faults): rate ${r.offeredRate}/s offered of ${r.intendedRate}/s asked (send lag p99/max ${r.sendLagP99Ms}/${r.sendLagMaxMs} ms), ${r.finishedRate}/s finished, drained ${r.drainS} s after the load, load average mean/max ${r.loadAvg.mean}/${r.loadAvg.max}, ` +
    `${r.accepted}/${r.offered} accepted, lost ${r.lost}, not final ${r.notFinal}, ` +
    `refusals ${refusals} (ran anyway after a 503: ${r.refusedButRan}; refused while a quorum held: ${r.refusedDuringQuorum}), ` +
    `504s retried with their id ${r.unconfirmedRetried}, sent to the other gateway (refused connection or shutting down) ${r.redirected}, no answer (faasq killed mid-request) ${r.noAnswer} (ran ${r.noAnswerRan}), ` +
    `duplicates ${r.duplicates.length} (unexplained by the record ${r.unexplainedDuplicates}, of which a run under way at a worker kill -9 ${r.duplicatesFromWorkerKills}), accept p50/p99 ${r.acceptP50Ms}/${r.acceptP99Ms} ms, ` +
    `during faults ${r.acceptP50DuringFaultsMs}/${r.acceptP99DuringFaultsMs} ms, max ${r.acceptMaxMs} ms, RSS max MB ${JSON.stringify(r.rssMaxMb)}`;
}

async function main(): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const report = await runChaosSoak({
    durationS: Number(arg('minutes') ?? 10) * 60,
    rate: Number(arg('rate') ?? 40),
    faultEveryS: Number(arg('fault-every') ?? 20),
    mode: (arg('nats') ?? '2.10') as SoakMode,
    isBuilt: process.argv.includes('--built'),
    progress: (line) => process.stderr.write(`chaos: ${line}\n`),
  });
  process.stdout.write(`${formatSoak(report)}\n`);
  for (const d of report.duplicates) process.stdout.write(`  duplicate ${d.token} ${d.callId}: ran ${d.runs}x (record: ${d.attempts} attempts, ${d.unknownAttempts} of unknown outcome${d.isAtWorkerKill ? '; a run was under way at a worker kill -9' : ''}), ${d.callbacks} callbacks (record: ${d.callbackAttempts} sends) ${d.isExplained ? 'explained' : 'UNEXPLAINED'}\n`);
  for (const t of report.lostTokens) process.stdout.write(`  lost ${t}\n`);
  for (const l of report.lostLogs) process.stdout.write(`  log of a lost call: ${l}\n`);
  process.stdout.write(`${JSON.stringify({ bench: 'chaos-soak', ...report })}\n`);
  process.exitCode = report.lost === 0 && report.refusedButRan === 0 && report.unexplainedDuplicates === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`chaos-soak failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
