// The embedded queue's drain, this tree against another build of faasq in the same run
// (BENCH_BASE_ROOT: a second worktree at the commit to compare, built with `npm run build`),
// alternating rounds so the machine's load hits both alike. Two ways to drain:
// - backlog: BENCH_DRAIN_CALLS queued with the worker off, then `faasq up` with the worker on and
//   timed until the queue is empty (calls that waited, so each run writes `running` first);
// - live: the worker on while the same number of calls is posted (50 in flight); timed from the
//   first post until the queue is empty (first deliveries taken at once: no write before the run).
// Each run also shows faasq's CPU per call (all threads / main thread, µs).
// Run: npm run build && BENCH_BASE_ROOT=/path/to/other/build node --import tsx bench/embedded-drain.ts
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, startProcess, stopProcess, waitForHttp } from './support/processes.js';
import { postExactly } from './support/post-exactly.js';
import { timeDrain } from './support/time-drain.js';
import { cpuMicros, mainThreadCpuMicros } from './support/proc-cpu.js';

const CONNECTIONS = 50;
const DRAIN_CALLS = Number(process.env.BENCH_DRAIN_CALLS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MODES = (process.env.BENCH_MODES ?? 'backlog,live').split(',') as Array<'backlog' | 'live'>;
const BASE_ROOT = process.env.BENCH_BASE_ROOT;
const auth = { authorization: `Basic ${Buffer.from('admin:bench').toString('base64')}` };

// BENCH_CPU_PROF_DIR=<dir>: each draining faasq writes a CPU profile (node --cpu-prof) under <dir>/<this|base>.
const profDir = process.env.BENCH_CPU_PROF_DIR;

function startFaasq(root: string, port: number, dataDir: string, worker: boolean, name = '') {
  const prof = worker && profDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(profDir, name)] : [];
  return startProcess(process.execPath, [...prof, path.join(root, 'bin/faasq.js'), 'up', '-f', path.join(root, 'bench/stack.yml'), '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'], {
    cwd: root,
    env: { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'bench', FAASQ_WORKER: String(worker), FAASQ_RETENTION: '1h' },
  });
}

async function depth(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/system/queues`, { headers: auth });
  const queues = (await res.json()) as Array<{ depth: number }>;
  return queues.reduce((a, q) => a + q.depth, 0);
}

interface Drain {
  readonly rps: number;
  /** faasq's CPU per call while draining (all threads; in live mode the accepts' too). */
  readonly cpuUs: number;
  readonly mainUs: number;
}

/** One drain of DRAIN_CALLS calls by the faasq at `root`. */
async function drainOnce(name: string, root: string, mode: 'backlog' | 'live'): Promise<Drain> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'faasq-bench-drain-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  let faasq = startFaasq(root, port, dataDir, mode === 'live', name);
  try {
    await waitForHttp(`${origin}/healthz`, 30_000);
    if (mode === 'live') {
      // The function's replica starts with the first call: one call first, so the timing is the drain's.
      await postExactly(origin, '/async-function/noop', { count: 1, inFlight: 1 });
      await timeDrain(() => depth(port), 1, 20);
      const cpu0 = cpuMicros(faasq.pid!);
      const main0 = mainThreadCpuMicros(faasq.pid!);
      const startedAt = Date.now();
      await postExactly(origin, '/async-function/noop', { count: DRAIN_CALLS, inFlight: CONNECTIONS });
      await timeDrain(() => depth(port), DRAIN_CALLS, 20);
      return perCall(faasq.pid!, Math.round(DRAIN_CALLS / ((Date.now() - startedAt) / 1000)), cpu0, main0);
    }
    await postExactly(origin, '/async-function/noop', { count: DRAIN_CALLS, inFlight: CONNECTIONS });
    await stopProcess(faasq);
    faasq = startFaasq(root, port, dataDir, true, name);
    await waitForHttp(`${origin}/healthz`, 30_000);
    const cpu0 = cpuMicros(faasq.pid!);
    const main0 = mainThreadCpuMicros(faasq.pid!);
    const timing = await timeDrain(() => depth(port), DRAIN_CALLS, 20);
    return perCall(faasq.pid!, timing.steadyRps, cpu0, main0);
  } finally {
    await stopProcess(faasq);
    await rm(dataDir, { recursive: true, force: true });
  }
}

function perCall(pid: number, rps: number, cpu0: number, main0: number): Drain {
  return { rps, cpuUs: Math.round((cpuMicros(pid) - cpu0) / DRAIN_CALLS), mainUs: Math.round((mainThreadCpuMicros(pid) - main0) / DRAIN_CALLS) };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : Math.round((s[s.length / 2 - 1] + s[s.length / 2]) / 2);
}

async function main(): Promise<void> {
  const roots: Array<{ name: string; root: string }> = [{ name: 'this', root: ROOT }];
  if (BASE_ROOT) roots.push({ name: 'base', root: path.resolve(BASE_ROOT) });
  // BENCH_EXTRA_ROOT: a third build in the same rounds (a variant being tried), shown but not in the ratio.
  if (process.env.BENCH_EXTRA_ROOT) roots.push({ name: 'extra', root: path.resolve(process.env.BENCH_EXTRA_ROOT) });
  const out: Record<string, unknown> = { bench: 'embedded-drain', calls: DRAIN_CALLS, rounds: ROUNDS };
  for (const mode of MODES) {
    const runs: Record<string, Drain[]> = Object.fromEntries(roots.map((r) => [r.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so neither always runs on a warmer (or busier) machine.
      const order = round % 2 === 0 ? roots : [...roots].reverse();
      for (const { name, root } of order) runs[name].push(await drainOnce(name, root, mode));
    }
    const medians = Object.fromEntries(Object.entries(runs).map(([name, xs]) => [name, median(xs.map((x) => x.rps))]));
    out[mode] = { runs, medians, ...(BASE_ROOT ? { ratio: +(medians.this / medians.base).toFixed(3) } : {}) };
    const show = (xs: readonly Drain[]): string => xs.map((x) => `${x.rps} (${x.cpuUs}/${x.mainUs} us)`).join(' / ');
    console.log(`${mode}: ${Object.entries(runs).map(([name, xs]) => `${name} ${show(xs)} calls/s (median ${medians[name]})`).join('; ')}${BASE_ROOT ? `; ratio ${(medians.this / medians.base).toFixed(3)}` : ''}`);
  }
  console.log(JSON.stringify(out));
}

await main();
