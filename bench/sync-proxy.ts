// Sync path overhead: requests/s and latency through the faasq gateway vs straight to the same
// kind of function process, side by side in one run (wrk, 50 connections, alternating rounds),
// plus the gateway's RSS under that load; then the latency each path has at a fixed rate below
// saturation (autocannon, 50 connections, BENCH_RATE req/s), whose p99 difference is what the
// gateway adds. It also reports the gateway's CPU µs per request (whole process and main thread,
// from /proc), steadier than requests/s on a shared machine.
// The same gateway with its express lane off (FAASQ_EXPRESS_LANE=false: Node's http server and
// undici for every call) runs in the same rounds, to show what the lane gains.
// Beside them, in the same alternating rounds, the cheapest Node.js proxy for this workload
// (bench/functions/bare-proxy.mjs, in 1 and in 2 processes sharing the port) in front of the direct
// function: the floor any Node gateway has on this machine, and what a second process could gain.
// Run: npm run build && node --import tsx bench/sync-proxy.ts
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, sampleRss, startProcess, stopProcess, waitForHttp } from './support/processes.js';
import { wrk, type WrkResult } from './support/wrk.js';
import { fixedRate } from './support/fixed-rate.js';
import { cpuMicros, loadAverage, machineBusyMicros, mainThreadCpuMicros } from './support/proc-cpu.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const script = path.join(ROOT, 'bench/support/post-small.lua');

/** One wrk run with the CPU the measured processes (and the whole machine) used per request. */
interface Measured {
  readonly run: WrkResult;
  readonly cpuUsPerRequest: number;
  readonly mainThreadUsPerRequest: number;
  /** CPU time of each measured process, in µs, over the run (to see how a 2-process proxy splits). */
  readonly cpuByProcessUs: number[];
  /** Busy share of both cores over the run, in %. */
  readonly machineBusyPct: number;
}

async function measure(url: string, pids: number[]): Promise<Measured> {
  const before = pids.map(cpuMicros);
  const mainBefore = pids.map(mainThreadCpuMicros);
  const machineBefore = machineBusyMicros();
  const startedAt = performance.now();
  const run = await wrk(url, { connections: CONNECTIONS, durationS: DURATION_S, script });
  const elapsedUs = (performance.now() - startedAt) * 1000;
  const cpuByProcessUs = pids.map((pid, i) => cpuMicros(pid) - before[i]);
  const mainUs = pids.reduce((a, pid, i) => a + mainThreadCpuMicros(pid) - mainBefore[i], 0);
  return {
    run,
    cpuUsPerRequest: cpuByProcessUs.reduce((a, b) => a + b, 0) / run.requests,
    mainThreadUsPerRequest: mainUs / run.requests,
    cpuByProcessUs,
    machineBusyPct: (100 * (machineBusyMicros() - machineBefore)) / (elapsedUs * os.cpus().length),
  };
}

/** The processes a proxy started by forking (its second process), once it has forked them. */
async function forkedChildren(pid: number, count: number, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    const pids = text ? text.split(' ').map(Number) : [];
    if (pids.length >= count) return pids;
    if (Date.now() > deadline) throw new Error(`process ${pid} did not fork ${count} children`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round1 = (x: number): number => +x.toFixed(1);

function summary(runs: Measured[]): { rps: number; p50: number; p99: number; cpu: number; main: number; busyPct: number } {
  return {
    rps: med(runs.map((m) => m.run.requestsPerSec)), p50: med(runs.map((m) => m.run.p50Ms)), p99: med(runs.map((m) => m.run.p99Ms)),
    cpu: med(runs.map((m) => m.cpuUsPerRequest)), main: med(runs.map((m) => m.mainThreadUsPerRequest)), busyPct: med(runs.map((m) => m.machineBusyPct)),
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'faasq-bench-'));
  const [directPort, gatewayPort, fullPort, barePort, bare2Port] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const started: ChildProcess[] = [];
  const start = (cmd: string, args: string[], options?: Parameters<typeof startProcess>[2]): ChildProcess => {
    const child = startProcess(cmd, args, options);
    started.push(child);
    return child;
  };
  const direct = start(process.execPath, [path.join(ROOT, 'bench/functions/echo.mjs'), String(directPort)]);
  const startGateway = (port: number, env: Record<string, string>): ChildProcess =>
    start(process.execPath, [path.join(ROOT, 'bin/faasq.js'), 'up', '-f', path.join(ROOT, 'bench/stack.yml'), '--port', String(port), '--data-dir', path.join(dataDir, String(port)), '--queue', 'memory', '--log-level', 'warn'], {
      env: { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'bench', ...env },
    });
  const gateway = startGateway(gatewayPort, {});
  // The same gateway with the express lane off: every call through Node's http server and undici.
  const full = startGateway(fullPort, { FAASQ_EXPRESS_LANE: 'false' });
  // Both bare proxies forward to the direct function process (runs never overlap).
  const directOrigin = `http://127.0.0.1:${directPort}`;
  const bareProxy = path.join(ROOT, 'bench/functions/bare-proxy.mjs');
  const bare = start(process.execPath, [bareProxy, String(barePort), directOrigin]);
  const bare2 = start(process.execPath, [bareProxy, String(bare2Port), directOrigin, '--processes', '2']);
  try {
    const directUrl = `${directOrigin}/`;
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}/function/echo`;
    const fullUrl = `http://127.0.0.1:${fullPort}/function/echo`;
    const bareUrl = `http://127.0.0.1:${barePort}/`;
    const bare2Url = `http://127.0.0.1:${bare2Port}/`;
    for (const url of [directUrl, gatewayUrl, fullUrl, bareUrl, bare2Url]) await waitForHttp(url);
    const bare2Pids = [bare2.pid!, ...(await forkedChildren(bare2.pid!, 1))];
    // Warm all paths (JIT, keep-alive pools) before measuring.
    for (const url of [directUrl, gatewayUrl, fullUrl, bareUrl, bare2Url]) await wrk(url, { connections: CONNECTIONS, durationS: 2, script });
    const directRuns: Measured[] = [];
    const gatewayRuns: Measured[] = [];
    const fullRuns: Measured[] = [];
    const bareRuns: Measured[] = [];
    const bare2Runs: Measured[] = [];
    let peakRss = 0;
    const load1Start = loadAverage();
    for (let i = 0; i < ROUNDS; i++) {
      directRuns.push(await measure(directUrl, [direct.pid!]));
      const sampler = sampleRss(gateway.pid!);
      gatewayRuns.push(await measure(gatewayUrl, [gateway.pid!]));
      peakRss = Math.max(peakRss, sampler.stop().peakMiB);
      fullRuns.push(await measure(fullUrl, [full.pid!]));
      bareRuns.push(await measure(bareUrl, [bare.pid!]));
      bare2Runs.push(await measure(bare2Url, bare2Pids));
    }
    const d = summary(directRuns);
    const g = summary(gatewayRuns);
    const f = summary(fullRuns);
    const b = summary(bareRuns);
    const b2 = summary(bare2Runs);
    // The forked process's share of the 2-process proxy's CPU: ~50 % if the kernel spreads connections evenly.
    const childShare = med(bare2Runs.map((m) => m.cpuByProcessUs[1] / (m.cpuByProcessUs[0] + m.cpuByProcessUs[1])));
    const errors = [...directRuns, ...gatewayRuns, ...fullRuns].reduce((a, m) => a + m.run.errors + m.run.non2xx, 0);
    const bareErrors = [...bareRuns, ...bare2Runs].reduce((a, m) => a + m.run.errors + m.run.non2xx, 0);
    const fixedDirect = await fixedRate(directUrl, { connections: CONNECTIONS, ratePerSec: RATE, durationS: DURATION_S, body: 'hello faasq' });
    const fixedGateway = await fixedRate(gatewayUrl, { connections: CONNECTIONS, ratePerSec: RATE, durationS: DURATION_S, body: 'hello faasq' });
    const result = {
      bench: 'sync-proxy', connections: CONNECTIONS, durationS: DURATION_S, rounds: ROUNDS,
      directRps: Math.round(d.rps), gatewayRps: Math.round(g.rps), ratio: +(g.rps / d.rps).toFixed(3),
      directP99Ms: d.p99, gatewayP99Ms: g.p99, addedP99Ms: +(g.p99 - d.p99).toFixed(2), addedP50Ms: +(g.p50 - d.p50).toFixed(2),
      gatewayPeakRssMiB: Math.round(peakRss), errors,
      gatewayCpuUsPerRequest: round1(g.cpu), gatewayMainThreadUsPerRequest: round1(g.main),
      fixedRate: RATE, fixedDirectP50Ms: fixedDirect.p50Ms, fixedDirectP99Ms: fixedDirect.p99Ms, fixedGatewayP50Ms: fixedGateway.p50Ms, fixedGatewayP99Ms: fixedGateway.p99Ms,
      fixedAddedP99Ms: +(fixedGateway.p99Ms - fixedDirect.p99Ms).toFixed(2), fixedErrors: fixedDirect.errors + fixedGateway.errors,
      load: `${load1Start} -> ${loadAverage()}`,
      fullPathRps: Math.round(f.rps), fullPathRatio: +(f.rps / d.rps).toFixed(3), laneToFullPath: +(g.rps / f.rps).toFixed(3),
      fullPathCpuUsPerRequest: round1(f.cpu), fullPathMainThreadUsPerRequest: round1(f.main), fullPathP99Ms: f.p99,
      bareRps: Math.round(b.rps), bare2Rps: Math.round(b2.rps),
      bareRatio: +(b.rps / d.rps).toFixed(3), gatewayToBare: +(g.rps / b.rps).toFixed(3), bare2Ratio: +(b2.rps / d.rps).toFixed(3),
      bareP99Ms: b.p99, bare2P99Ms: b2.p99,
      bareCpuUsPerRequest: round1(b.cpu), bareMainThreadUsPerRequest: round1(b.main),
      bare2CpuUsPerRequest: round1(b2.cpu), bare2MainThreadUsPerRequest: round1(b2.main), bare2ChildCpuShare: +childShare.toFixed(2),
      directCpuUsPerRequest: round1(d.cpu),
      machineBusyPct: { direct: Math.round(d.busyPct), gateway: Math.round(g.busyPct), fullPath: Math.round(f.busyPct), bare: Math.round(b.busyPct), bare2: Math.round(b2.busyPct) },
      bareErrors,
    };
    console.log(`sync proxy: gateway ${result.gatewayRps} req/s vs direct ${result.directRps} req/s = ${result.ratio}x; p99 ${g.p99} ms vs ${d.p99} ms (added ${result.addedP99Ms} ms); gateway RSS peak ${result.gatewayPeakRssMiB} MiB; gateway CPU ${result.gatewayCpuUsPerRequest} µs/request (main thread ${result.gatewayMainThreadUsPerRequest}); errors ${errors}; at ${RATE} req/s p99 ${fixedGateway.p99Ms} ms vs ${fixedDirect.p99Ms} ms (added ${result.fixedAddedP99Ms} ms)`);
    console.log(`gateway with the express lane off (FAASQ_EXPRESS_LANE=false): ${result.fullPathRps} req/s = ${result.fullPathRatio}x direct (lane on = ${result.laneToFullPath}x off), CPU ${result.fullPathCpuUsPerRequest} µs/request (main thread ${result.fullPathMainThreadUsPerRequest}), p99 ${f.p99} ms`);
    console.log(`bare Node proxy: 1 process ${result.bareRps} req/s = ${result.bareRatio}x direct (gateway = ${result.gatewayToBare}x bare), CPU ${result.bareCpuUsPerRequest} µs/request (main thread ${result.bareMainThreadUsPerRequest}); 2 processes ${result.bare2Rps} req/s = ${result.bare2Ratio}x direct, CPU ${result.bare2CpuUsPerRequest} µs/request (forked process ${Math.round(childShare * 100)} % of it); machine busy % direct/gateway/bare/bare2 ${d.busyPct.toFixed(0)}/${g.busyPct.toFixed(0)}/${b.busyPct.toFixed(0)}/${b2.busyPct.toFixed(0)}; errors ${bareErrors}`);
    console.log(JSON.stringify(result));
  } finally {
    for (const child of started.reverse()) await stopProcess(child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
