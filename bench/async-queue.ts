// Async path on the embedded queue, side by side with baselines in one run:
// - accept: 202/s and p99 through faasq (1 KiB bodies, 50 connections, worker off) vs a bare Node
//   HTTP server answering 202 without storing anything;
// - drain: calls/s from 10,000 queued through a no-op http-mode function to ack vs wrk calling the
//   same function directly;
// - RSS of `faasq up` with 10,000 and with BENCH_MAX_QUEUED (default 1,000,000) calls queued.
// Run: npm run build && node --import tsx bench/async-queue.ts
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, rssMiB, sampleRss, startProcess, stopProcess, waitForHttp } from './support/processes.js';
import { postExactly } from './support/post-exactly.js';
import { timeDrain } from './support/time-drain.js';
import { cpuMicros, machineBusyMicros, mainThreadCpuMicros } from './support/proc-cpu.js';
import { wrk } from './support/wrk.js';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const DRAIN_CALLS = Number(process.env.BENCH_DRAIN_CALLS ?? 10_000);
const MAX_QUEUED = Number(process.env.BENCH_MAX_QUEUED ?? 1_000_000);
const post1k = path.join(ROOT, 'bench/support/post-1k.lua');
const auth = { authorization: `Basic ${Buffer.from('admin:bench').toString('base64')}` };

// BENCH_CPU_PROF_DIR=<dir>: the draining faasq process writes a CPU profile (node --cpu-prof) there.
const profDir = process.env.BENCH_CPU_PROF_DIR;

function startFaasq(port: number, dataDir: string, worker: boolean) {
  const prof = worker && profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  return startProcess(process.execPath, [...prof, path.join(ROOT, 'bin/faasq.js'), 'up', '-f', path.join(ROOT, 'bench/stack.yml'), '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'], {
    env: { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'bench', FAASQ_WORKER: String(worker), FAASQ_RETENTION: '1h', ...(process.env.FAASQ_MAX_INFLIGHT ? { FAASQ_MAX_INFLIGHT: process.env.FAASQ_MAX_INFLIGHT } : {}) },
  });
}

async function depth(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/system/queues`, { headers: auth });
  const queues = (await res.json()) as Array<{ depth: number }>;
  return queues.reduce((a, q) => a + q.depth, 0);
}

/** Fills the queue with wrk until `target` calls are queued (checked between short wrk runs). */
async function fillTo(port: number, target: number): Promise<void> {
  const url = `http://127.0.0.1:${port}/async-function/noop`;
  for (let guard = 0; guard < 10_000; guard++) {
    const have = await depth(port);
    if (have >= target) return;
    const remaining = target - have;
    const seconds = Math.max(1, Math.min(20, Math.ceil(remaining / 8000)));
    await wrk(url, { connections: CONNECTIONS, durationS: seconds, script: post1k });
  }
  throw new Error('fillTo: gave up');
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'faasq-bench-async-'));
  const port = await freePort();
  const basePort = await freePort();
  const fnPort = await freePort();
  const baseline = startProcess(process.execPath, [path.join(ROOT, 'bench/functions/accept-202.mjs'), String(basePort)]);
  const fn = startProcess(process.execPath, [path.join(ROOT, 'bench/functions/echo.mjs'), String(fnPort)]);
  let faasq = startFaasq(port, dataDir, false);
  const out: Record<string, unknown> = { bench: 'async-queue', backend: 'embedded', connections: CONNECTIONS };
  try {
    await waitForHttp(`http://127.0.0.1:${basePort}/`);
    await waitForHttp(`http://127.0.0.1:${fnPort}/`);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    const acceptUrl = `http://127.0.0.1:${port}/async-function/noop`;
    await wrk(acceptUrl, { connections: CONNECTIONS, durationS: 2, script: post1k });
    const base = await wrk(`http://127.0.0.1:${basePort}/`, { connections: CONNECTIONS, durationS: DURATION_S, script: post1k });
    const accept = await wrk(acceptUrl, { connections: CONNECTIONS, durationS: DURATION_S, script: post1k });
    Object.assign(out, {
      acceptRps: Math.round(accept.requestsPerSec), acceptP99Ms: accept.p99Ms, acceptErrors: accept.errors + accept.non2xx,
      baselineAcceptRps: Math.round(base.requestsPerSec), baselineP99Ms: base.p99Ms, acceptRatio: +(accept.requestsPerSec / base.requestsPerSec).toFixed(3),
    });

    // Drain: start from exactly DRAIN_CALLS queued (fresh data dir), then let the worker run.
    await stopProcess(faasq);
    await rm(dataDir, { recursive: true, force: true });
    faasq = startFaasq(port, dataDir, false);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    await postExactly(`http://127.0.0.1:${port}`, '/async-function/noop', { count: DRAIN_CALLS, inFlight: CONNECTIONS });
    const queued = await depth(port);
    await stopProcess(faasq);
    faasq = startFaasq(port, dataDir, true);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 30_000);
    const cpu0 = cpuMicros(faasq.pid!);
    const main0 = mainThreadCpuMicros(faasq.pid!);
    const busy0 = machineBusyMicros();
    const timing = await timeDrain(() => depth(port), queued, 50);
    const drainS = timing.seconds;
    // Where the drain's time goes: faasq's CPU (all threads, main thread) and the machine's, per call.
    out.drainCpuUsPerCall = Math.round((cpuMicros(faasq.pid!) - cpu0) / queued);
    out.drainMainThreadUsPerCall = Math.round((mainThreadCpuMicros(faasq.pid!) - main0) / queued);
    out.drainMachineBusyPct = Math.round((100 * (machineBusyMicros() - busy0)) / ((timing.endedAt - timing.startedAt) * 1000 * os.cpus().length));
    out.steadyDrainRps = timing.steadyRps;
    const direct = await wrk(`http://127.0.0.1:${fnPort}/`, { connections: CONNECTIONS, durationS: 5, script: post1k });
    Object.assign(out, {
      drainCalls: queued, drainSeconds: +drainS.toFixed(2), drainRps: Math.round(queued / drainS), directFunctionRps: Math.round(direct.requestsPerSec),
      drainRatio: +(queued / drainS / direct.requestsPerSec).toFixed(3),
    });

    // RSS: 10,000 queued vs MAX_QUEUED queued, worker off.
    await stopProcess(faasq);
    await rm(dataDir, { recursive: true, force: true });
    faasq = startFaasq(port, dataDir, false);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    await fillTo(port, 10_000);
    await new Promise((r) => setTimeout(r, 2000));
    const rssSmall = rssMiB(faasq.pid!);
    const sampler = sampleRss(faasq.pid!);
    await fillTo(port, MAX_QUEUED);
    await new Promise((r) => setTimeout(r, 2000));
    const peak = sampler.stop().peakMiB;
    const rssLarge = rssMiB(faasq.pid!);
    Object.assign(out, { rssAt10kMiB: Math.round(rssSmall), rssAtMaxMiB: Math.round(rssLarge), rssPeakWhileFillingMiB: Math.round(peak), maxQueued: await depth(port), rssRatio: +(rssLarge / rssSmall).toFixed(3) });

    console.log(`async accept: ${out.acceptRps} 202/s p99 ${out.acceptP99Ms} ms (bare 202 server ${out.baselineAcceptRps}/s, ratio ${out.acceptRatio}); drain ${out.drainRps} calls/s (${out.drainCalls} in ${out.drainSeconds} s, ${out.steadyDrainRps}/s after the first call; function direct ${out.directFunctionRps}/s); RSS ${out.rssAt10kMiB} MiB at 10k queued vs ${out.rssAtMaxMiB} MiB at ${out.maxQueued} (x${out.rssRatio})`);
    console.log(JSON.stringify(out));
  } finally {
    await stopProcess(faasq);
    await stopProcess(baseline);
    await stopProcess(fn);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
