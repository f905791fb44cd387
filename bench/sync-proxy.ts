// Sync path overhead: requests/s and latency through the faasq gateway vs straight to the same
// kind of function process, side by side in one run (wrk, 50 connections, alternating rounds),
// plus the gateway's RSS under that load; then the latency each path has at a fixed rate below
// saturation (autocannon, 50 connections, BENCH_RATE req/s), whose p99 difference is what the
// gateway adds. It also reports the gateway's CPU µs per request (whole process and main thread,
// from /proc), steadier than requests/s on a shared machine.
// Run: npm run build && node --import tsx bench/sync-proxy.ts
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, sampleRss, startProcess, stopProcess, waitForHttp } from './support/processes.js';
import { wrk, type WrkResult } from './support/wrk.js';
import { fixedRate } from './support/fixed-rate.js';
import { cpuMicros, loadAverage, mainThreadCpuMicros } from './support/proc-cpu.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const script = path.join(ROOT, 'bench/support/post-small.lua');

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'faasq-bench-'));
  const directPort = await freePort();
  const gatewayPort = await freePort();
  const direct = startProcess(process.execPath, [path.join(ROOT, 'bench/functions/echo.mjs'), String(directPort)]);
  const gateway = startProcess(process.execPath, [path.join(ROOT, 'bin/faasq.js'), 'up', '-f', path.join(ROOT, 'bench/stack.yml'), '--port', String(gatewayPort), '--data-dir', dataDir, '--queue', 'memory', '--log-level', 'warn'], {
    env: { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'bench' },
  });
  try {
    const directUrl = `http://127.0.0.1:${directPort}/`;
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}/function/echo`;
    await waitForHttp(directUrl);
    await waitForHttp(gatewayUrl);
    // Warm both paths (JIT, keep-alive pools) before measuring.
    await wrk(directUrl, { connections: CONNECTIONS, durationS: 2, script });
    await wrk(gatewayUrl, { connections: CONNECTIONS, durationS: 2, script });
    const directRuns: WrkResult[] = [];
    const gatewayRuns: WrkResult[] = [];
    const cpuPerRequest: number[] = [];
    const mainThreadPerRequest: number[] = [];
    let peakRss = 0;
    const load1Start = loadAverage();
    for (let i = 0; i < ROUNDS; i++) {
      directRuns.push(await wrk(directUrl, { connections: CONNECTIONS, durationS: DURATION_S, script }));
      const sampler = sampleRss(gateway.pid!);
      const cpuBefore = cpuMicros(gateway.pid!);
      const mainBefore = mainThreadCpuMicros(gateway.pid!);
      const run = await wrk(gatewayUrl, { connections: CONNECTIONS, durationS: DURATION_S, script });
      cpuPerRequest.push((cpuMicros(gateway.pid!) - cpuBefore) / run.requests);
      mainThreadPerRequest.push((mainThreadCpuMicros(gateway.pid!) - mainBefore) / run.requests);
      gatewayRuns.push(run);
      peakRss = Math.max(peakRss, sampler.stop().peakMiB);
    }
    const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const d = { rps: med(directRuns.map((r) => r.requestsPerSec)), p50: med(directRuns.map((r) => r.p50Ms)), p99: med(directRuns.map((r) => r.p99Ms)) };
    const g = { rps: med(gatewayRuns.map((r) => r.requestsPerSec)), p50: med(gatewayRuns.map((r) => r.p50Ms)), p99: med(gatewayRuns.map((r) => r.p99Ms)) };
    const errors = [...directRuns, ...gatewayRuns].reduce((a, r) => a + r.errors + r.non2xx, 0);
    const fixedDirect = await fixedRate(directUrl, { connections: CONNECTIONS, ratePerSec: RATE, durationS: DURATION_S, body: 'hello faasq' });
    const fixedGateway = await fixedRate(gatewayUrl, { connections: CONNECTIONS, ratePerSec: RATE, durationS: DURATION_S, body: 'hello faasq' });
    const result = {
      bench: 'sync-proxy', connections: CONNECTIONS, durationS: DURATION_S, rounds: ROUNDS,
      directRps: Math.round(d.rps), gatewayRps: Math.round(g.rps), ratio: +(g.rps / d.rps).toFixed(3),
      directP99Ms: d.p99, gatewayP99Ms: g.p99, addedP99Ms: +(g.p99 - d.p99).toFixed(2), addedP50Ms: +(g.p50 - d.p50).toFixed(2),
      gatewayPeakRssMiB: Math.round(peakRss), errors,
      gatewayCpuUsPerRequest: +med(cpuPerRequest).toFixed(1), gatewayMainThreadUsPerRequest: +med(mainThreadPerRequest).toFixed(1),
      fixedRate: RATE, fixedDirectP50Ms: fixedDirect.p50Ms, fixedDirectP99Ms: fixedDirect.p99Ms, fixedGatewayP50Ms: fixedGateway.p50Ms, fixedGatewayP99Ms: fixedGateway.p99Ms,
      fixedAddedP99Ms: +(fixedGateway.p99Ms - fixedDirect.p99Ms).toFixed(2), fixedErrors: fixedDirect.errors + fixedGateway.errors,
      load: `${load1Start} -> ${loadAverage()}`,
    };
    console.log(`sync proxy: gateway ${result.gatewayRps} req/s vs direct ${result.directRps} req/s = ${result.ratio}x; p99 ${g.p99} ms vs ${d.p99} ms (added ${result.addedP99Ms} ms); gateway RSS peak ${result.gatewayPeakRssMiB} MiB; gateway CPU ${result.gatewayCpuUsPerRequest} µs/request (main thread ${result.gatewayMainThreadUsPerRequest}); errors ${errors}; at ${RATE} req/s p99 ${fixedGateway.p99Ms} ms vs ${fixedDirect.p99Ms} ms (added ${result.fixedAddedP99Ms} ms)`);
    console.log(JSON.stringify(result));
  } finally {
    await stopProcess(gateway);
    await stopProcess(direct);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
