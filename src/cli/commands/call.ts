// Async call records: `faasq call get|result|cancel ID`, and the polling `invoke --async --wait` uses.
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { CliError, EXIT_FAILED } from '../cli-error.js';
import { errorFromResponse, headerValue, type GatewayClient } from '../client.js';
import type { CliContext } from '../context.js';
import { copyTo, formatDurationMs, formatKeyValues, writeJson } from '../output.js';

const FINAL_STATES = new Set(['succeeded', 'failed', 'dead', 'cancelled']);
const MIN_POLL_MS = 100;
const MAX_POLL_MS = 1000;

/** The call record as GET /async-function/{callId} returns it. */
export interface CallRecordJson {
  callId: string;
  function: string;
  namespace?: string;
  queue?: string;
  priority?: number;
  state: string;
  attempts?: number;
  unknownAttempts?: number[];
  maxAttempts?: number;
  acceptedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  nextAttemptAt?: string;
  lastStatus?: number;
  lastError?: string;
  durationMs?: number;
  hasResult?: boolean;
  callback?: { url: string; state: string; attempts?: number; lastStatus?: number; lastError?: string };
}

export function registerCallCommands(program: Command, ctx: CliContext): void {
  const call = program.command('call').description('inspect and cancel asynchronous calls');

  call
    .command('get')
    .description("show a call's record: state, attempts, timestamps, last status")
    .argument('<id>', 'call id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const client = await ctx.client();
      const record = await getRecord(client, id);
      if (opts.json) return writeJson(ctx.io.stdout, record);
      ctx.io.stdout.write(formatRecord(record));
    });

  call
    .command('result')
    .description("print a finished call's response body")
    .argument('<id>', 'call id')
    .action(async (id: string) => {
      const client = await ctx.client();
      await printResult(client, id, ctx);
    });

  call
    .command('cancel')
    .description('cancel a queued or running call')
    .argument('<id>', 'call id')
    .option('--json', 'print the record as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const client = await ctx.client();
      const record = await client.json<CallRecordJson | undefined>('DELETE', `/async-function/${encodeURIComponent(id)}`);
      if (opts.json) return writeJson(ctx.io.stdout, record ?? { callId: id });
      ctx.io.stdout.write(`Cancelled ${id}${record?.state ? ` (${record.state})` : ''}.\n`);
    });
}

export async function getRecord(client: GatewayClient, id: string): Promise<CallRecordJson> {
  return client.json<CallRecordJson>('GET', `/async-function/${encodeURIComponent(id)}`);
}

/** Polls the record until it reaches a final state; throws (exit 1) at the deadline. */
export async function waitForCall(client: GatewayClient, id: string, timeoutMs: number): Promise<CallRecordJson> {
  const deadline = Date.now() + timeoutMs;
  let delayMs = MIN_POLL_MS;
  for (;;) {
    const record = await getRecord(client, id);
    if (FINAL_STATES.has(record.state)) return record;
    const leftMs = deadline - Date.now();
    if (leftMs <= 0) throw new CliError(EXIT_FAILED, `timed out after ${formatDurationMs(timeoutMs)} waiting for call ${id} (state ${record.state})`);
    await sleep(Math.min(delayMs, leftMs));
    delayMs = Math.min(delayMs * 2, MAX_POLL_MS);
  }
}

/**
 * Prints the stored response body. The result route answers with the function's own status and
 * marks stored results with X-Function-Status, which tells them apart from gateway errors.
 */
export async function printResult(client: GatewayClient, id: string, ctx: CliContext): Promise<void> {
  const res = await client.send('GET', `/async-function/${encodeURIComponent(id)}/result`);
  const functionStatus = headerValue(res, 'x-function-status');
  if (functionStatus === undefined) {
    if (res.status >= 200 && res.status <= 299) return copyTo(res.body, ctx.io.stdout);
    throw await errorFromResponse(res);
  }
  await copyTo(res.body, ctx.io.stdout);
  const status = Number(functionStatus);
  if (!(status >= 200 && status <= 299)) throw new CliError(EXIT_FAILED, `function returned ${functionStatus}`);
}

export function formatRecord(r: CallRecordJson): string {
  const counted = r.maxAttempts ? `${r.attempts ?? 0}/${r.maxAttempts}` : r.attempts;
  const unknown = r.unknownAttempts?.length ? ` (outcome unknown: attempt ${r.unknownAttempts.join(', ')}; its worker stopped)` : '';
  const attempts = counted === undefined ? undefined : `${counted}${unknown}`;
  const callback = r.callback
    ? `${r.callback.url} (${r.callback.state}${r.callback.lastStatus ? `, ${r.callback.lastStatus}` : ''}${r.callback.lastError ? `, ${r.callback.lastError}` : ''})`
    : undefined;
  return formatKeyValues([
    ['Call ID', r.callId],
    ['Function', r.namespace ? `${r.function}.${r.namespace}` : r.function],
    ['Queue', r.queue],
    ['State', r.state],
    ['Attempts', attempts],
    ['Priority', r.priority],
    ['Accepted', r.acceptedAt],
    ['Started', r.startedAt],
    ['Finished', r.finishedAt],
    ['Next attempt', r.nextAttemptAt],
    ['Duration', r.durationMs === undefined ? undefined : formatDurationMs(r.durationMs)],
    ['Last status', r.lastStatus],
    ['Last error', r.lastError],
    ['Result', r.hasResult === undefined ? undefined : r.hasResult ? 'stored' : 'none'],
    ['Callback', callback],
  ]);
}
