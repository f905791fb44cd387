// `faasq queue …`: queue depth and age at a glance (optionally refreshed), and the dead-letter
// store: list, show, replay, purge.
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { usageError } from '../cli-error.js';
import type { GatewayClient } from '../client.js';
import type { CliContext } from '../context.js';
import { formatDurationMs, formatKeyValues, formatMap, formatTable, writeJson } from '../output.js';
import { parseDuration, parseWholeNumber } from '../option-parsers.js';

const WATCH_INTERVAL_MS = 2000;

/** A rate column: "-" where the gateway cannot know it (no worker of the queue in that process). */
function formatRate(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '-' : String(rate);
}

interface QueueStatsJson {
  name: string;
  depth: number;
  depthByPriority?: Record<string, number>;
  delayed?: number;
  inflight?: number;
  oldestAgeMs?: number;
  deadLetters?: number;
  /** Calls/s over the gateway's rate window; processRate is null where the answering process runs no worker for the queue. */
  ingestRate?: number;
  processRate?: number | null;
}

interface DeadLetterJson {
  callId: string;
  queue: string;
  function: string;
  namespace?: string;
  deadAt?: string;
  attempts?: number;
  lastStatus?: number;
  lastError?: string;
}

export function registerQueueCommands(program: Command, ctx: CliContext): void {
  const queue = program.command('queue').description('queues and dead letters');

  queue
    .command('list')
    .alias('ls')
    .description('list queues: depth, in flight, delayed, oldest age, dead letters, calls/s in and done')
    .option('--json', 'print JSON')
    .option('-w, --watch', 'refresh every 2s until Ctrl-C')
    .option('--interval <duration>', 'with --watch: refresh interval', parseDuration)
    .option('--count <n>', 'with --watch: stop after n refreshes', parseWholeNumber)
    .action(async (opts: { json?: boolean; watch?: boolean; interval?: number; count?: number }) => {
      const client = await ctx.client();
      // A watch without --count runs until the user interrupts it; the bound is Ctrl-C.
      const rounds = opts.watch ? (opts.count ?? Number.POSITIVE_INFINITY) : 1;
      for (let round = 0; round < rounds; round++) {
        if (round > 0) await sleep(opts.interval ?? WATCH_INTERVAL_MS);
        const queues = (await client.json<QueueStatsJson[]>('GET', '/system/queues')) ?? [];
        if (opts.json) {
          ctx.io.stdout.write(JSON.stringify(queues) + '\n');
          continue;
        }
        if (opts.watch) ctx.io.stdout.write(`${round > 0 ? '\n' : ''}${new Date().toISOString()}\n`);
        ctx.io.stdout.write(formatTable(
          ['Queue', 'Depth', 'Inflight', 'Delayed', 'Oldest', 'Dead letters', 'In/s', 'Done/s'],
          queues.map((q) => [
            q.name, String(q.depth), String(q.inflight ?? 0), String(q.delayed ?? 0), formatDurationMs(q.oldestAgeMs ?? 0), String(q.deadLetters ?? 0),
            formatRate(q.ingestRate), formatRate(q.processRate),
          ]),
        ));
      }
    });

  queue
    .command('get')
    .description("show one queue's numbers, with depth per priority")
    .argument('<name>', 'queue name')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const client = await ctx.client();
      const q = await client.json<QueueStatsJson>('GET', `/system/queues/${encodeURIComponent(name)}`);
      if (opts.json) return writeJson(ctx.io.stdout, q);
      const byPriority = Object.fromEntries(Object.entries(q.depthByPriority ?? {}).map(([p, n]) => [p, String(n)]));
      ctx.io.stdout.write(formatKeyValues([
        ['Queue', q.name],
        ['Depth', q.depth],
        ['By priority', formatMap(byPriority)],
        ['Inflight', q.inflight ?? 0],
        ['Delayed', q.delayed ?? 0],
        ['Oldest', formatDurationMs(q.oldestAgeMs ?? 0)],
        ['Dead letters', q.deadLetters ?? 0],
      ]));
    });

  const dead = queue.command('dead-letters').alias('dlq').description('calls that ran out of retries or expired');

  dead
    .command('list')
    .alias('ls')
    .description('list dead letters (all queues unless --queue)')
    .option('-q, --queue <name>', 'only this queue')
    .option('--json', 'print JSON')
    .action(async (opts: { queue?: string; json?: boolean }) => {
      const client = await ctx.client();
      const names = opts.queue ? [opts.queue] : (await listQueues(client)).map((q) => q.name);
      const letters: DeadLetterJson[] = [];
      for (const name of names) letters.push(...((await client.json<DeadLetterJson[]>('GET', `/system/queues/${encodeURIComponent(name)}/dead-letters`)) ?? []));
      if (opts.json) return writeJson(ctx.io.stdout, letters);
      ctx.io.stdout.write(formatTable(
        ['Call ID', 'Queue', 'Function', 'Dead at', 'Attempts', 'Last status', 'Last error'],
        letters.map((d) => [d.callId, d.queue, d.function, d.deadAt ?? '', String(d.attempts ?? ''), String(d.lastStatus ?? ''), d.lastError ?? '']),
      ));
    });

  dead
    .command('get')
    .description('show one dead letter')
    .argument('<id>', 'call id')
    .action(async (id: string) => {
      const client = await ctx.client();
      writeJson(ctx.io.stdout, await client.json<unknown>('GET', `/system/dead-letters/${encodeURIComponent(id)}`));
    });

  dead
    .command('replay')
    .description('queue dead letters again (the given ids, or all of --queue)')
    .argument('[ids...]', 'call ids')
    .option('-q, --queue <name>', 'queue')
    .action(async (ids: string[], opts: { queue?: string }) => {
      const client = await ctx.client();
      let total = 0;
      for (const [queueName, callIds] of await groupByQueue(client, ids, opts.queue, 'replay')) {
        const res = await client.json<{ replayed?: number }>('POST', `/system/queues/${encodeURIComponent(queueName)}/dead-letters/replay`, { json: callIds ? { callIds } : {} });
        total += res?.replayed ?? 0;
      }
      ctx.io.stdout.write(`Replayed ${total} dead letter${total === 1 ? '' : 's'}.\n`);
    });

  dead
    .command('purge')
    .description('delete dead letters (the given ids, or all of --queue)')
    .argument('[ids...]', 'call ids')
    .option('-q, --queue <name>', 'queue')
    .action(async (ids: string[], opts: { queue?: string }) => {
      const client = await ctx.client();
      let total = 0;
      for (const [queueName, callIds] of await groupByQueue(client, ids, opts.queue, 'purge')) {
        const res = await client.json<{ purged?: number }>('DELETE', `/system/queues/${encodeURIComponent(queueName)}/dead-letters`, { json: callIds ? { callIds } : {} });
        total += res?.purged ?? 0;
      }
      ctx.io.stdout.write(`Purged ${total} dead letter${total === 1 ? '' : 's'}.\n`);
    });
}

async function listQueues(client: GatewayClient): Promise<QueueStatsJson[]> {
  return (await client.json<QueueStatsJson[]>('GET', '/system/queues')) ?? [];
}

/**
 * Which queue each id lives in: --queue when given, else looked up per id. No ids means the
 * whole queue, which must then be named: replaying or purging every queue is too easy a mistake.
 */
async function groupByQueue(client: GatewayClient, ids: string[], queue: string | undefined, verb: string): Promise<Map<string, string[] | undefined>> {
  if (ids.length === 0) {
    if (!queue) throw usageError(`name the call ids to ${verb}, or --queue to ${verb} all of a queue`);
    return new Map([[queue, undefined]]);
  }
  if (queue) return new Map([[queue, ids]]);
  const groups = new Map<string, string[]>();
  for (const id of ids) {
    const letter = await client.json<DeadLetterJson>('GET', `/system/dead-letters/${encodeURIComponent(id)}`);
    groups.set(letter.queue, [...(groups.get(letter.queue) ?? []), id]);
  }
  return groups;
}
