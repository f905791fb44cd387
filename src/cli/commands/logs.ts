// `faasq logs NAME`: reads the NDJSON stream of GET /system/logs and prints
// "timestamp instance text" lines as they arrive (with --follow, until Ctrl-C).
import { Command } from 'commander';
import { errorFromResponse } from '../client.js';
import type { CliContext } from '../context.js';
import { parseDuration, parseWholeNumber, splitFunctionName } from '../option-parsers.js';

interface LogLine {
  timestamp?: string;
  instance?: string;
  text?: string;
}

export function registerLogsCommand(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .description("print a function's logs")
    .argument('<name>', 'function name (name or name.namespace)')
    .option('-t, --tail <n>', 'only the last n lines', parseWholeNumber)
    .option('--follow', 'keep streaming new lines until Ctrl-C')
    .option('--since <duration>', 'only lines newer than this, e.g. 10m', parseDuration)
    .option('--json', 'print the raw NDJSON lines')
    .action(async (raw: string, opts: { tail?: number; follow?: boolean; since?: number; json?: boolean }) => {
      const { name, namespace } = splitFunctionName(raw);
      const client = await ctx.client();
      const res = await client.send('GET', '/system/logs', {
        query: {
          name,
          namespace,
          tail: opts.tail === undefined ? undefined : String(opts.tail),
          follow: opts.follow ? 'true' : 'false',
          since: opts.since === undefined ? undefined : new Date(Date.now() - opts.since).toISOString(),
        },
        headers: { accept: 'application/x-ndjson' },
        isStreaming: opts.follow,
      });
      if (res.status < 200 || res.status > 299) throw await errorFromResponse(res);
      let pending = '';
      const emit = (line: string): void => {
        if (line.trim() === '') return;
        if (opts.json) return void ctx.io.stdout.write(`${line}\n`);
        ctx.io.stdout.write(`${formatLogLine(line)}\n`);
      };
      for await (const chunk of res.body) {
        pending += (chunk as Buffer).toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) emit(line);
      }
      emit(pending);
    });
}

function formatLogLine(line: string): string {
  try {
    const entry = JSON.parse(line) as LogLine;
    return `${entry.timestamp ?? ''} ${entry.instance ?? ''} ${(entry.text ?? '').replace(/\n$/, '')}`;
  } catch {
    return line;
  }
}
