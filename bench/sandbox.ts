// The sandbox's cost, side by side in one run: a fork-mode function's calls/s and an http-mode
// replica's time to ready and calls/s, with FAASQ_SANDBOX=on and off (and on with
// FAASQ_SANDBOX_NETWORK=host, where the gateway reaches http replicas on a host port, and on with =outbound, where each
// replica also starts slirp4netns). "on" is FAASQ_SANDBOX_NETWORK=private. The gateways (one per
// setting) run in this process with the real local provider; wrk (Debian) drives them in
// alternating rounds, so machine load drifts hit all alike. Needs root and bubblewrap for "on"
// (and slirp4netns for on-outbound). BENCH_READY_ONLY=1 measures the time to ready alone.
// Run: node --import tsx bench/sandbox.ts   (BENCH_ROUNDS 2, BENCH_DURATION 5 s, BENCH_CONNECTIONS 8, BENCH_READY_SAMPLES 5)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { createGateway, type Gateway } from '../src/gateway/index.js';
import { createLocalProvider, type FunctionSpec, type Provider } from '../src/provider/index.js';
import { EventBus, silentLogger } from '../src/shared/index.js';
import { makeTempDir } from '../test/support/temp-dir.js';
import { wrk } from './support/wrk.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const READY_SAMPLES = Number(process.env.BENCH_READY_SAMPLES ?? 5);
const IS_READY_ONLY = process.env.BENCH_READY_ONLY === '1';
const FUNCTIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'functions');

/** on: FAASQ_SANDBOX_NETWORK=private; on-host: =host (http replicas on a host port, no hand-off); on-outbound: =outbound (slirp4netns). */
type Setting = 'on' | 'off' | 'on-host' | 'on-outbound';
const NETWORK: Record<Setting, string> = { on: 'private', off: 'private', 'on-host': 'host', 'on-outbound': 'outbound' };

interface Stand {
  readonly setting: Setting;
  readonly provider: Provider;
  readonly gateway: Gateway;
  readonly url: string;
}

const spec = (name: string, fprocess: string, environment: Record<string, string>): FunctionSpec => ({
  name, namespace: 'openfaas-fn', image: '', fprocess, environment, labels: {}, annotations: {}, secrets: [], constraints: [], workingDir: FUNCTIONS_DIR,
});

async function stand(setting: Setting, dataDir: string): Promise<Stand> {
  const flags = { host: '127.0.0.1', port: 0, dataDir, 'provider.sandbox': setting === 'off' ? 'off' : 'on', 'provider.sandboxNetwork': NETWORK[setting], 'log.level': 'silent' };
  const config = loadConfig({ env: {}, flags });
  const events = new EventBus();
  const provider = createLocalProvider({ config, logger: silentLogger(), events });
  await provider.start();
  const gateway = createGateway({ config, provider, events, logger: silentLogger(), credentials: { user: 'admin', password: 'pw' } });
  const { port } = await gateway.start();
  await provider.deploy(spec('fork-cat', 'cat', {}));
  return { setting, provider, gateway, url: `http://127.0.0.1:${port}` };
}

/** Milliseconds from deploy to the first ready replica of the echo server. */
async function timeToReady(s: Stand): Promise<number> {
  const started = performance.now();
  await s.provider.deploy(spec('http-echo', `${process.execPath} echo.mjs`, { mode: 'http' }), { upsert: true });
  for (;;) {
    if ((await s.provider.get('http-echo', 'openfaas-fn')).availableReplicas === 1) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function main(): Promise<void> {
  const tmp = await makeTempDir('faasq-bench-sandbox-');
  const settings: Setting[] = ['off', 'on', 'on-host', 'on-outbound'];
  const stands: Stand[] = [];
  for (const setting of settings) stands.push(await stand(setting, path.join(tmp.dir, setting)));
  try {
    const ready: Record<Setting, number[]> = { on: [], off: [], 'on-host': [], 'on-outbound': [] };
    for (let i = 0; i < READY_SAMPLES; i += 1) {
      for (const s of stands) {
        if (i > 0) await s.provider.remove('http-echo', 'openfaas-fn');
        ready[s.setting].push(await timeToReady(s));
      }
    }
    const readyMs = Object.fromEntries(settings.map((k) => [k, median(ready[k])])) as Record<Setting, number>;
    console.log(`http mode time to ready (median of ${READY_SAMPLES}): off ${readyMs.off.toFixed(0)} ms, on (private) ${readyMs.on.toFixed(0)} ms, on-outbound ${readyMs['on-outbound'].toFixed(0)} ms (${(readyMs['on-outbound'] - readyMs.on).toFixed(0)} ms for slirp4netns), on-host ${readyMs['on-host'].toFixed(0)} ms`);
    if (IS_READY_ONLY) {
      console.log(JSON.stringify({ bench: 'sandbox-ready', samples: READY_SAMPLES, readyMs, ready }));
      return;
    }
    const rps: Record<string, number[]> = {};
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const fn of ['fork-cat', 'http-echo']) {
        for (const s of round % 2 === 0 ? stands : [...stands].reverse()) {
          const run = await wrk(`${s.url}/function/${fn}`, { connections: CONNECTIONS, durationS: DURATION_S });
          if (run.errors > 0 || run.non2xx > 0) throw new Error(`${fn} sandbox ${s.setting}: ${run.errors} socket errors, ${run.non2xx} non-2xx`);
          (rps[`${fn} ${s.setting}`] ??= []).push(run.requestsPerSec);
        }
      }
    }
    const result = {
      forkOffRps: median(rps['fork-cat off']),
      forkOnRps: median(rps['fork-cat on']),
      httpOffRps: median(rps['http-echo off']),
      httpOnRps: median(rps['http-echo on']),
      httpOnHostRps: median(rps['http-echo on-host']),
      forkOnHostRps: median(rps['fork-cat on-host']),
      httpOnOutboundRps: median(rps['http-echo on-outbound']),
      forkOnOutboundRps: median(rps['fork-cat on-outbound']),
      readyOnHostMs: readyMs['on-host'],
      readyOffMs: readyMs.off,
      readyOnMs: readyMs.on,
      readyOnOutboundMs: readyMs['on-outbound'],
    };
    console.log(`fork mode (cat): sandbox off ${result.forkOffRps.toFixed(0)} calls/s, on ${result.forkOnRps.toFixed(0)} calls/s (${(result.forkOnRps / result.forkOffRps).toFixed(2)} x)`);
    console.log(`http mode (echo): sandbox off ${result.httpOffRps.toFixed(0)} calls/s, on ${result.httpOnRps.toFixed(0)} calls/s (${(result.httpOnRps / result.httpOffRps).toFixed(2)} x)`);
    console.log(`sandbox with the machine's network: fork ${result.forkOnHostRps.toFixed(0)} calls/s, http ${result.httpOnHostRps.toFixed(0)} calls/s (${(result.httpOnHostRps / result.httpOffRps).toFixed(2)} x off), ready ${result.readyOnHostMs.toFixed(0)} ms`);
    console.log(`sandbox with the outbound network: fork ${result.forkOnOutboundRps.toFixed(0)} calls/s, http ${result.httpOnOutboundRps.toFixed(0)} calls/s (${(result.httpOnOutboundRps / result.httpOnRps).toFixed(2)} x private)`);
    console.log(JSON.stringify({ bench: 'sandbox', rounds: ROUNDS, durationS: DURATION_S, connections: CONNECTIONS, ...result, rps, ready }));
  } finally {
    for (const s of stands) {
      await s.gateway.close();
      await s.provider.close();
    }
    await tmp.cleanup();
  }
}

await main();
