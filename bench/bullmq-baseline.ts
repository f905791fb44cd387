// The baseline a user would pick instead of faasq's queue: BullMQ on Redis (Debian `redis-server`)
// driving the same no-op http function over HTTP (undici). Measures the add rate (1 KiB jobs, 50
// adds in flight) and the process rate (10,000 queued jobs, worker concurrency 50, each job one
// POST to the function). Redis runs on a free loopback port, no persistence, in a temp dir.
// Run alone: node --import tsx bench/bullmq-baseline.ts (bench/jetstream-accept.ts runs it too).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Pool } from 'undici';
import { ROOT, freePort, startProcess, stopProcess, waitForHttp } from './support/processes.js';

export interface BullmqResult {
  readonly addRps: number;
  readonly processRps: number;
  readonly processJobs: number;
  readonly concurrency: number;
}

const REDIS_READY_TIMEOUT_MS = 10_000;

async function startRedis(): Promise<{ port: number; child: ChildProcess; dir: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faasq-bench-redis-'));
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const deadline = Date.now() + REDIS_READY_TIMEOUT_MS;
  for (;;) {
    const isUp = await new Promise<boolean>((resolve) => {
      const probe = spawn('redis-cli', ['-p', String(port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      probe.stdout.on('data', (d: Buffer) => (out += d.toString()));
      probe.on('exit', () => resolve(out.trim() === 'PONG'));
      probe.on('error', () => resolve(false));
    });
    if (isUp) return { port, child, dir };
    if (Date.now() > deadline) throw new Error('redis-server did not start (apt-get install -y redis-server)');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs `count` tasks with at most `concurrency` in flight. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await task(next++);
  }));
}

export async function runBullmqBaseline(options: { jobs?: number; addDurationJobs?: number; concurrency?: number } = {}): Promise<BullmqResult> {
  const jobs = options.jobs ?? 10_000;
  const addJobs = options.addDurationJobs ?? 20_000;
  const concurrency = options.concurrency ?? 50;
  const body = 'x'.repeat(1024);
  const redis = await startRedis();
  const fnPort = await freePort();
  const fn = startProcess(process.execPath, [path.join(ROOT, 'bench/functions/echo.mjs'), String(fnPort)]);
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const http = new Pool(`http://127.0.0.1:${fnPort}`, { connections: concurrency });
  const addQueue = new Queue('bench-add', { connection });
  const workQueue = new Queue('bench-work', { connection });
  try {
    await waitForHttp(`http://127.0.0.1:${fnPort}/`);
    // Add rate: the same shape as an accept (one durable add per request, 50 in flight).
    const t0 = performance.now();
    await pool(addJobs, concurrency, (i) => addQueue.add('call', { body, i }, { removeOnComplete: true }));
    const addRps = addJobs / ((performance.now() - t0) / 1000);

    // Process rate: 10,000 queued first (bulk, not timed), then one worker drains them.
    for (let i = 0; i < jobs; i += 1000) {
      await workQueue.addBulk(Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({ name: 'call', data: { body, i: i + k }, opts: { removeOnComplete: true } })));
    }
    let done = 0;
    let resolveDone!: () => void;
    const allDone = new Promise<void>((resolve) => { resolveDone = resolve; });
    const t1 = performance.now();
    const worker = new Worker('bench-work', async (job) => {
      const res = await http.request({ path: '/', method: 'POST', body: (job.data as { body: string }).body });
      await res.body.arrayBuffer();
      if (res.statusCode >= 300) throw new Error(`function answered ${res.statusCode}`);
    }, { connection, concurrency });
    worker.on('completed', () => {
      if (++done === jobs) resolveDone();
    });
    await allDone;
    const processRps = jobs / ((performance.now() - t1) / 1000);
    await worker.close();
    return { addRps: Math.round(addRps), processRps: Math.round(processRps), processJobs: jobs, concurrency };
  } finally {
    await addQueue.close();
    await workQueue.close();
    await http.close();
    await stopProcess(fn);
    await stopProcess(redis.child);
    await rm(redis.dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await runBullmqBaseline();
  console.log(`bullmq on redis: add ${r.addRps}/s (50 in flight), process ${r.processRps} jobs/s (${r.processJobs} queued, concurrency ${r.concurrency}, each a POST to the no-op function)`);
  console.log(JSON.stringify({ bench: 'bullmq-baseline', ...r }));
}
