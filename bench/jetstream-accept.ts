// faasq on NATS JetStream, side by side in one run (1 KiB bodies, 50 in flight):
// - accept: 202/s through `faasq gateway` (no worker) vs raw acked JetStream publishes (msgID set,
//   as faasq does) from one Node client, on R1 (one server) and R3 (three on loopback);
// - drain: calls/s through the no-op http-mode function with 10,000 queued, R1, beside a raw drain
//   baseline on the same server (bench/support/raw-drain.ts: a minimal nats.js client draining the same
//   number of messages through the same echo function, with and without a kv.put per call), in the
//   order raw kv, faasq, raw ack, raw kv (the two raw kv runs bracket faasq's; their mean is the baseline);
// - BullMQ on Redis driving the same function (bench/bullmq-baseline.ts): add and process rates.
// Run: npm run build && node --import tsx bench/jetstream-accept.ts   (BENCH_DURATION=10 seconds per accept run,
//   BENCH_ROUNDS=3 alternating raw/faasq rounds, medians reported;
//   BENCH_PARTS=r1,drain,r3,bullmq picks the parts, all by default; BENCH_CPU_PROF_DIR=<dir> makes
//   every faasq process write a CPU profile there)
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { startNatsCluster, startNatsServer } from '../test/support/nats-server.js';
import { ROOT, freePort, startProcess, stopProcess, waitForHttp } from './support/processes.js';
import { postExactly } from './support/post-exactly.js';
import { runRawDrain, type RawDrainResult, type RawDrainVariant } from './support/raw-drain.js';
import { cpuMicros } from './support/proc-cpu.js';
import { timeDrain } from './support/time-drain.js';
import { wrk, type WrkResult } from './support/wrk.js';
import { runBullmqBaseline, type BullmqResult } from './bullmq-baseline.js';

const IN_FLIGHT = 50;
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const DRAIN_CALLS = Number(process.env.BENCH_DRAIN_CALLS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MAX_INFLIGHT = Number(process.env.BENCH_MAX_INFLIGHT ?? 50);
const PARTS = new Set((process.env.BENCH_PARTS ?? 'r1,drain,r3,bullmq').split(',').map((p) => p.trim()));
const post1k = path.join(ROOT, 'bench/support/post-1k.lua');
const CREDS = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'bench' };
const auth = { authorization: `Basic ${Buffer.from('admin:bench').toString('base64')}` };

interface FaasqDrainResult { drainCalls: number; drainSeconds: number; drainRps: number; steadyRps: number; faasqCpuS: number; natsInMsgsPerCall: number }
/** faasq's drain beside the raw client's (bench/support/raw-drain.ts) on the same server. */
interface DrainResult extends FaasqDrainResult {
  /** Mean of the two raw kv runs (before and after faasq's). */
  rawKvDrainRps: number;
  rawAckDrainRps: number;
  /** faasq drainRps / rawKvDrainRps (faasq's rate includes worker start-up; the raw rate does not). */
  drainRatioToRawKv: number;
  /** faasq steadyRps (after its first finished call) / rawKvDrainRps. */
  steadyRatioToRawKv: number;
  rawKvCpuUsPerCall: number;
  rawAckCpuUsPerCall: number;
  /** CPU µs per call of the draining `faasq up` process (faasqCpuS / drainCalls). */
  faasqCpuUsPerCall: number;
  rawKv: RawDrainResult[];
  rawAck: RawDrainResult;
}
interface AcceptResult { replicas: number; rawPublishRps: number; faasqAcceptRps: number; faasqP99Ms: number; faasqErrors: number; ratio: number; rounds: { raw: number; faasq: number }[] }

/** Raw acked publishes with a msgID, IN_FLIGHT at once, for DURATION_S. */
async function rawPublishRps(servers: string, replicas: number): Promise<number> {
  const nc = await connect({ servers: servers.split(',') });
  try {
    const jsm = await jetstreamManager(nc);
    // A cluster that has just started may not know all its peers yet ("no suitable peers").
    for (let attempt = 1; ; attempt++) {
      try {
        await jsm.streams.add({ name: 'BENCH_RAW', subjects: ['bench.raw.>'], retention: RetentionPolicy.Workqueue, storage: StorageType.File, num_replicas: replicas });
        break;
      } catch (err) {
        if (attempt >= 60) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const js = jetstream(nc);
    const payload = new Uint8Array(1024).fill(120);
    let sent = 0;
    const until = performance.now() + DURATION_S * 1000;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, async (_, lane) => {
      for (let i = 0; performance.now() < until; i++) {
        await js.publish(`bench.raw.${lane}`, payload, { msgID: `raw-${lane}-${i}` });
        sent++;
      }
    }));
    const rps = sent / ((performance.now() - t0) / 1000);
    await jsm.streams.delete('BENCH_RAW');
    return Math.round(rps);
  } finally {
    await nc.close();
  }
}

function startFaasq(role: 'gateway' | 'up', port: number, queue: string, replicas: number, dataDir: string, env: Record<string, string> = {}): ChildProcess {
  // BENCH_CPU_PROF_DIR: every faasq process writes a CPU profile (node --cpu-prof) there.
  const profDir = process.env.BENCH_CPU_PROF_DIR;
  const prof = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  // The built CLI (npm run build), as users run it: no tsx transform in the measured process.
  const args = [...prof, path.join(ROOT, 'bin/faasq.js'), role, '-f', path.join(ROOT, 'bench/stack.yml'), '--port', String(port),
    '--queue', queue, '--stream-replicas', String(replicas), '--data-dir', dataDir, '--log-level', 'warn'];
  if (role === 'up') args.push('--max-inflight', String(MAX_INFLIGHT));
  return startProcess(process.execPath, args, { env: { ...CREDS, FAASQ_RETENTION: '1h', ...env } });
}

/** Messages the server received from its clients (NATS requests, publishes, acks), from /varz. */
async function natsInMsgs(monitorPort: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${monitorPort}/varz`);
  return ((await res.json()) as { in_msgs: number }).in_msgs;
}

async function depth(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/system/queues`, { headers: auth });
  const queues = (await res.json()) as Array<{ depth: number }>;
  return queues.reduce((a, q) => a + q.depth, 0);
}

/**
 * Raw publishes and faasq accepts alternate for ROUNDS rounds against the same servers (the raw
 * rate swings with the machine's load), and each side's median is reported.
 */
async function acceptRun(servers: string, replicas: number): Promise<AcceptResult> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'faasq-bench-js-'));
  const faasq = startFaasq('gateway', port, servers, replicas, dataDir);
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000);
    const url = `http://127.0.0.1:${port}/async-function/noop`;
    await wrk(url, { connections: IN_FLIGHT, durationS: 2, script: post1k });
    const raws: number[] = [];
    const runs: WrkResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      raws.push(await rawPublishRps(servers, replicas));
      runs.push(await wrk(url, { connections: IN_FLIGHT, durationS: DURATION_S, script: post1k }));
    }
    const raw = median(raws);
    const rps = median(runs.map((r) => r.requestsPerSec));
    const errors = runs.reduce((a, r) => a + r.errors + r.non2xx, 0);
    return {
      replicas, rawPublishRps: raw, faasqAcceptRps: Math.round(rps), faasqP99Ms: median(runs.map((r) => r.p99Ms)), faasqErrors: errors, ratio: +(rps / raw).toFixed(3),
      rounds: runs.map((r, i) => ({ raw: raws[i], faasq: Math.round(r.requestsPerSec) })),
    };
  } finally {
    await stopProcess(faasq);
    await rm(dataDir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Fills DRAIN_CALLS with the worker off, then starts `faasq up` with the worker and times the drain. */
async function drainRun(servers: string, monitorPort: number): Promise<FaasqDrainResult> {
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'faasq-bench-drain-'));
  let faasq = startFaasq('up', port, servers, 1, dataDir, { FAASQ_WORKER: 'false' });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000);
    // Exactly DRAIN_CALLS accepts (not timed), 50 in flight.
    await postExactly(`http://127.0.0.1:${port}`, '/async-function/noop', { count: DRAIN_CALLS, inFlight: IN_FLIGHT });
    const queued = await depth(port);
    await stopProcess(faasq);
    faasq = startFaasq('up', port, servers, 1, dataDir);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000);
    // Timed from the worker's start: function process start-up is inside, as for BullMQ's worker.
    // Also timed from the first finished call: the steady rate, without process and function start-up.
    // Not polled faster: each poll is a dozen JetStream API requests in the process being measured.
    const cpu0 = cpuMicros(faasq.pid!);
    const in0 = await natsInMsgs(monitorPort);
    const timing = await timeDrain(() => depth(port), queued, 100);
    const cpuS = (cpuMicros(faasq.pid!) - cpu0) / 1_000_000;
    const perCall = +(((await natsInMsgs(monitorPort)) - in0) / Math.max(1, queued)).toFixed(2);
    return { natsInMsgsPerCall: perCall, drainCalls: queued, drainSeconds: +timing.seconds.toFixed(2), drainRps: Math.round(queued / timing.seconds), steadyRps: timing.steadyRps, faasqCpuS: +cpuS.toFixed(2) };
  } finally {
    await stopProcess(faasq);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** One raw drain (bench/support/raw-drain.ts, its own process) against its own echo function process. */
async function rawDrainRun(servers: string, variant: RawDrainVariant): Promise<RawDrainResult> {
  const fnPort = await freePort();
  const fn = startProcess(process.execPath, [path.join(ROOT, 'bench/functions/echo.mjs'), String(fnPort)]);
  try {
    await waitForHttp(`http://127.0.0.1:${fnPort}/`);
    const result = await runRawDrain({ servers, functionUrl: `http://127.0.0.1:${fnPort}`, calls: DRAIN_CALLS, inFlight: MAX_INFLIGHT, variant });
    console.error(`raw drain ${variant}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await stopProcess(fn);
  }
}

async function main(): Promise<void> {
  // dist/ is what `faasq` runs; its build time says which code was measured (the tree may be newer).
  const distBuiltAt = statSync(path.join(ROOT, 'dist/cli/main.js')).mtime.toISOString();
  const out: Record<string, unknown> = { bench: 'jetstream', inFlight: IN_FLIGHT, durationS: DURATION_S, bodyBytes: 1024, load1: os.loadavg()[0], distBuiltAt };
  // A fresh server per run: the accept run leaves its calls in the queue.
  if (PARTS.has('r1')) {
    const node = await startNatsServer();
    try {
      out.r1 = await acceptRun(node.url, 1);
      console.error(`R1 accept: ${JSON.stringify(out.r1)}`);
    } finally {
      await node.close();
    }
  }
  if (PARTS.has('drain')) {
    const node = await startNatsServer();
    try {
      // Alternated on the same server, each on its own fresh stream, the two raw kv runs bracketing
      // faasq's: the machine's load drifts within a run.
      const rawKvBefore = await rawDrainRun(node.url, 'kv');
      const faasqDrain = await drainRun(node.url, node.monitorPort);
      const rawAck = await rawDrainRun(node.url, 'ack');
      const rawKvAfter = await rawDrainRun(node.url, 'kv');
      const rawKvRps = Math.round((rawKvBefore.rps + rawKvAfter.rps) / 2);
      out.drain = {
        ...faasqDrain,
        rawKvDrainRps: rawKvRps,
        rawAckDrainRps: rawAck.rps,
        drainRatioToRawKv: +(faasqDrain.drainRps / rawKvRps).toFixed(3),
        steadyRatioToRawKv: +(faasqDrain.steadyRps / rawKvRps).toFixed(3),
        rawKvCpuUsPerCall: Math.round((rawKvBefore.cpuUsPerCall + rawKvAfter.cpuUsPerCall) / 2),
        rawAckCpuUsPerCall: rawAck.cpuUsPerCall,
        faasqCpuUsPerCall: Math.round((faasqDrain.faasqCpuS * 1_000_000) / Math.max(1, faasqDrain.drainCalls)),
        rawKv: [rawKvBefore, rawKvAfter],
        rawAck,
      } satisfies DrainResult;
      console.error(`R1 drain: ${JSON.stringify(out.drain)}`);
    } finally {
      await node.close();
    }
  }
  if (PARTS.has('r3')) {
    const cluster = await startNatsCluster(3);
    try {
      out.r3 = await acceptRun(cluster.url, 3);
      console.error(`R3 accept: ${JSON.stringify(out.r3)}`);
    } finally {
      await cluster.close();
    }
  }
  if (PARTS.has('bullmq')) out.bullmq = (await runBullmqBaseline({ jobs: DRAIN_CALLS, concurrency: IN_FLIGHT })) satisfies BullmqResult;
  out.load1End = os.loadavg()[0];
  const r1 = out.r1 as AcceptResult | undefined;
  const r3 = out.r3 as AcceptResult | undefined;
  const drain = out.drain as DrainResult | undefined;
  const bull = out.bullmq as BullmqResult | undefined;
  const lines: string[] = [];
  if (r1) lines.push(`accept R1: faasq ${r1.faasqAcceptRps} 202/s vs raw JetStream publish ${r1.rawPublishRps}/s (x${r1.ratio}, target >= 0.5)`);
  if (r3) lines.push(`R3: faasq ${r3.faasqAcceptRps} vs raw ${r3.rawPublishRps} (x${r3.ratio}, target >= 0.4)`);
  if (drain) lines.push(`drain R1: ${drain.drainRps} calls/s (${drain.drainCalls} in ${drain.drainSeconds} s, target >= 10000; ${drain.steadyRps}/s after the first call) vs raw nats.js client ${drain.rawKvDrainRps}/s with kv.put (x${drain.drainRatioToRawKv}; CPU per call ${drain.faasqCpuUsPerCall} vs ${drain.rawKvCpuUsPerCall} us), ${drain.rawAckDrainRps}/s ack only`);
  if (bull) lines.push(`BullMQ/Redis: add ${bull.addRps}/s, process ${bull.processRps}/s`);
  console.log(lines.join('; '));
  console.log(JSON.stringify(out));
}

await main();
