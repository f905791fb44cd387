// Quick before/after probe for the sync path: CPU µs per request of the gateway process (and of the
// function process behind it) over one wrk run, plus requests/s. Steadier than requests/s alone on a
// shared machine; bench/sync-proxy.ts remains the benchmark of record.
// Run: node --import tsx bench/support/sync-cpu.ts [--dist | --src | --no-build | --entry FILE]
//      [--seconds 6] [--connections 50] [--rounds 1] [--direct] [--cpu-prof DIR]
// By default the sources are compiled with tsc into bench/out/sync-dist first (a few seconds, dist/
// untouched); --no-build reuses that output, --entry runs another compiled main-bin.js (e.g. a build of
// HEAD, to alternate before/after), --dist runs the built dist/, --src runs the sources through tsx
// (~20 µs per request more than compiled code in one comparison, so not for comparisons).
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { cpuMicros, loadAverage, machineBusyMicros, mainThreadCpuMicros, userCpuMicros } from './proc-cpu.js';
import { ROOT, freePort, startProcess, stopProcess, waitForHttp } from './processes.js';
import { wrk } from './wrk.js';

const { values } = parseArgs({
  options: {
    dist: { type: 'boolean', default: false },
    src: { type: 'boolean', default: false },
    /** Reuses bench/out/sync-dist as it is (to try an edit of the compiled code). */
    'no-build': { type: 'boolean', default: false },
    /** Runs this compiled CLI entry (a main-bin.js) instead, e.g. a build of another checkout. */
    entry: { type: 'string' },
    direct: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '6' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '1' },
    /** Writes a V8 CPU profile of the gateway (at its exit) into this folder. */
    'cpu-prof': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const script = path.join(ROOT, 'bench/support/post-small.lua');

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (text) for (const c of text.split(' ')) out.push(Number(c));
  } catch {
    // gone
  }
  return out;
}

async function measure(label: string, url: string, pids: number[]): Promise<void> {
  await wrk(url, { connections, durationS: 2, script });
  for (let i = 0; i < Number(values.rounds); i++) {
    const before = pids.map(cpuMicros);
    const mainBefore = mainThreadCpuMicros(pids[0]);
    const userBefore = userCpuMicros(pids[0]);
    const machineBefore = machineBusyMicros();
    const r = await wrk(url, { connections, durationS: seconds, script });
    const per = (us: number): string => (us / r.requests).toFixed(1);
    const perReq = pids.map((pid, j) => per(cpuMicros(pid) - before[j]));
    const mainPerReq = per(mainThreadCpuMicros(pids[0]) - mainBefore);
    const userPerReq = per(userCpuMicros(pids[0]) - userBefore);
    const machinePerReq = per(machineBusyMicros() - machineBefore);
    console.log(`${label}: ${Math.round(r.requestsPerSec)} req/s, p99 ${r.p99Ms} ms, errors ${r.errors + r.non2xx}, CPU µs/request ${perReq.join(' / ')} (main thread ${mainPerReq}, user ${userPerReq}; whole machine ${machinePerReq}) (load ${loadAverage()})`);
  }
}

/** Compiles src/ into bench/out/sync-dist (type errors elsewhere do not stop the emit). */
function compiled(): string {
  const outDir = path.join(ROOT, 'bench/out/sync-dist');
  if (values['no-build']) return path.join(outDir, 'cli/main-bin.js');
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json'), '--outDir', outDir], { cwd: ROOT, stdio: 'ignore' });
  } catch {
    // tsc exits non-zero on any type error; the emitted files are still there
  }
  // The compiled code finds package.json two folders up, as from dist/ (version, module type).
  copyFileSync(path.join(ROOT, 'package.json'), path.join(outDir, '../package.json'));
  return path.join(outDir, 'cli/main-bin.js');
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'faasq-cpu-'));
  const port = await freePort();
  const entry = values.entry ? [values.entry] : values.dist ? [path.join(ROOT, 'bin/faasq.js')] : values.src ? ['--import', 'tsx', path.join(ROOT, 'src/cli/main-bin.ts')] : [compiled()];
  const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
  const gateway = startProcess(process.execPath, [...prof, ...entry, 'up', '-f', path.join(ROOT, 'bench/stack.yml'), '--port', String(port), '--data-dir', dataDir, '--queue', 'memory', '--log-level', 'warn'], {
    env: { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'bench' },
  });
  let direct: ReturnType<typeof startProcess> | undefined;
  try {
    const url = `http://127.0.0.1:${port}/function/echo`;
    await waitForHttp(url);
    const fnPids = childrenOf(gateway.pid!).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('echo.mjs'));
    await measure('gateway (gateway / functions)', url, [gateway.pid!, ...fnPids]);
    if (values.direct) {
      const directPort = await freePort();
      direct = startProcess(process.execPath, [path.join(ROOT, 'bench/functions/echo.mjs'), String(directPort)]);
      const directUrl = `http://127.0.0.1:${directPort}/`;
      await waitForHttp(directUrl);
      await measure('direct (function)', directUrl, [direct.pid!]);
    }
  } finally {
    if (direct) await stopProcess(direct);
    await stopProcess(gateway);
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
