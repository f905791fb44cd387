// Queue engine benchmark: enqueue rate and p99 (1 KiB calls, 50 concurrent callers, durable
// commit included) and consume+ack rate, memory and embedded side by side; then RSS of the
// embedded queue at 10k vs a large fill (default 1M) queued calls, and the restart scan time.
// Run: node --import tsx --expose-gc bench/queue-engine.ts [--calls 20000] [--fill 1000000] [--ids v7|v4]
// Call ids are the gateway's time-ordered UUIDv7 by default; --ids v4 shows random ids' cost.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createEmbeddedQueue, createMemoryQueue, type CallMessage, type Queue, type QueueOptions } from '../src/queue/index.js';
import { createCallIdGenerator, silentLogger } from '../src/shared/index.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const calls = Number(args.get('calls') ?? 20_000);
const fill = Number(args.get('fill') ?? 1_000_000);
const callers = 50;
const options: QueueOptions = { leaseMs: 30_000, maxDepth: 100_000_000, dedupeWindowMs: 86_400_000, retentionMs: 86_400_000 };
const body = Buffer.alloc(1024, 120);
const nextCallId: () => string = args.get('ids') === 'v4' ? randomUUID : createCallIdGenerator();

function message(queue: string): CallMessage {
  const now = Date.now();
  return {
    callId: nextCallId(), function: 'bench', namespace: 'openfaas-fn', queue, priority: 0, method: 'POST', path: '/', query: '',
    headers: { 'content-type': 'application/octet-stream' }, body, enqueuedAt: now, startTimeNs: `${BigInt(now) * 1_000_000n}`,
  };
}

async function enqueueMany(queue: Queue, name: string, count: number, concurrency: number, latencies?: number[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        const t0 = performance.now();
        await queue.enqueue(message(name));
        latencies?.push(performance.now() - t0);
      }
    }),
  );
  return (count / (performance.now() - started)) * 1000;
}

async function drain(queue: Queue, name: string, count: number): Promise<number> {
  const started = performance.now();
  let acked = 0;
  await new Promise<void>((resolve) => {
    const consumer = queue.consume({ queue: name, maxInflight: 100 }, (d) => {
      void d.ack().then(() => {
        acked++;
        if (acked === count) void consumer.close().then(resolve);
      });
    });
  });
  return (count / (performance.now() - started)) * 1000;
}

function cpuPerCall(since: NodeJS.CpuUsage, count: number): number {
  const used = process.cpuUsage(since);
  return Math.round((used.user + used.system) / count);
}

function p99(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

/** RSS split into anonymous memory (heap, buffers: what the engine holds) and file-backed pages
 * (the LMDB file mapped into this process: page cache the kernel can reclaim). */
function rss(): { rssMiB: number; anonMiB: number; fileMiB: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20), anonMiB: Math.round(kib('RssAnon') / 1024), fileMiB: Math.round(kib('RssFile') / 1024) };
}

const results: Record<string, number> = {};
const dir = await mkdtemp(path.join(os.tmpdir(), 'faasq-bench-'));
try {
  for (const backend of ['memory', 'embedded'] as const) {
    const queue = backend === 'memory' ? createMemoryQueue(options, silentLogger()) : createEmbeddedQueue(path.join(dir, 'speed'), options, silentLogger());
    await queue.start();
    await enqueueMany(queue, 'warm', 1000, callers);
    await drain(queue, 'warm', 1000);
    const latencies: number[] = [];
    // CPU per call (main and LMDB write threads) does not drift with other load the way rates do.
    let cpu = process.cpuUsage();
    results[`${backend}EnqueuePerSec`] = Math.round(await enqueueMany(queue, 'speed', calls, callers, latencies));
    results[`${backend}EnqueueCpuUs`] = cpuPerCall(cpu, calls);
    results[`${backend}EnqueueP99Ms`] = Number(p99(latencies).toFixed(2));
    cpu = process.cpuUsage();
    results[`${backend}DrainPerSec`] = Math.round(await drain(queue, 'speed', calls));
    results[`${backend}DrainCpuUs`] = cpuPerCall(cpu, calls);
    await queue.close();
  }
  const filled = createEmbeddedQueue(path.join(dir, 'fill'), options, silentLogger());
  await filled.start();
  await enqueueMany(filled, 'fill', 10_000, 200);
  const at10k = rss();
  results.rssAt10kMiB = at10k.rssMiB;
  results.rssAnonAt10kMiB = at10k.anonMiB;
  results.rssFileAt10kMiB = at10k.fileMiB;
  const fillStarted = performance.now();
  await enqueueMany(filled, 'fill', fill - 10_000, 200);
  results.fillPerSec = Math.round(((fill - 10_000) / (performance.now() - fillStarted)) * 1000);
  const atFill = rss();
  results.rssAtFillMiB = atFill.rssMiB;
  results.rssAnonAtFillMiB = atFill.anonMiB;
  results.rssFileAtFillMiB = atFill.fileMiB;
  await filled.close();
  const reopened = createEmbeddedQueue(path.join(dir, 'fill'), options, silentLogger());
  const reopenStarted = performance.now();
  await reopened.start();
  results.reopenScanMs = Math.round(performance.now() - reopenStarted);
  results.depthAfterReopen = (await reopened.stats())[0]?.depth ?? 0;
  results.rssAfterReopenMiB = rss().rssMiB;
  await reopened.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}

const ratio = (results.embeddedEnqueuePerSec / results.memoryEnqueuePerSec).toFixed(2);
console.log(
  `queue-engine: enqueue/s memory ${results.memoryEnqueuePerSec} embedded ${results.embeddedEnqueuePerSec} (ratio ${ratio}), ` +
    `p99 ms memory ${results.memoryEnqueueP99Ms} embedded ${results.embeddedEnqueueP99Ms}, ` +
    `drain/s memory ${results.memoryDrainPerSec} embedded ${results.embeddedDrainPerSec}, ` +
    `CPU us/call enqueue ${results.memoryEnqueueCpuUs}/${results.embeddedEnqueueCpuUs} drain ${results.memoryDrainCpuUs}/${results.embeddedDrainCpuUs}, ` +
    `RSS MiB at 10k ${results.rssAt10kMiB} (anon ${results.rssAnonAt10kMiB}) vs at ${fill} ${results.rssAtFillMiB} (anon ${results.rssAnonAtFillMiB}), ` +
    `reopen scan ${results.reopenScanMs} ms`,
);
console.log(JSON.stringify({ bench: 'queue-engine', calls, fill, callers, bodyBytes: body.length, loadAvg1m: os.loadavg()[0], cores: os.cpus().length, ...results }));
