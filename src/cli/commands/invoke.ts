// `faasq invoke NAME`: a sync call through /function/NAME (body from --data or stdin, printed as
// it comes back), or an async one through /async-function/NAME that prints the call id and can
// wait for the result.
import type { Readable } from 'node:stream';
import { Command } from 'commander';
import { CliError, EXIT_AUTH, EXIT_FAILED, usageError } from '../cli-error.js';
import { errorFromResponse, headerValue } from '../client.js';
import type { CliContext } from '../context.js';
import { copyTo, writeJson } from '../output.js';
import { collect, parseDuration, parseHeader, parsePairs, parseWholeNumber } from '../option-parsers.js';
import { printResult, waitForCall } from './call.js';

const DEFAULT_WAIT_MS = 5 * 60_000;

interface InvokeFlags {
  data?: string;
  header?: string[];
  query?: string[];
  method: string;
  contentType: string;
  async?: boolean;
  callbackUrl?: string;
  priority?: number;
  delay?: string;
  callId?: string;
  wait?: boolean;
  timeout?: number;
  json?: boolean;
  auth?: boolean;
}

export function registerInvokeCommand(program: Command, ctx: CliContext): void {
  program
    .command('invoke')
    .description('invoke a function (body from --data or stdin); --async queues it and prints the call id')
    .argument('<name>', 'function name, optionally name.namespace and a path: name[/path]')
    .option('-d, --data <text>', 'request body (default: stdin when it is not a terminal)')
    .option('-H, --header <header>', 'request header "Name: value" (repeatable)', collect)
    .option('--query <k=v>', 'query parameter (repeatable)', collect)
    .option('-m, --method <method>', 'HTTP method', 'POST')
    .option('--content-type <type>', 'Content-Type of the body', 'text/plain')
    .option('-a, --async', 'queue the call and print its id')
    .option('--callback-url <url>', 'POST the result here when done (implies --async)')
    .option('--priority <n>', 'queue priority 0-9, higher first (implies --async)', parseWholeNumber)
    .option('--delay <duration>', 'do not start before this delay, e.g. 30s (implies --async)', checkedDuration)
    .option('--call-id <id>', 'caller-chosen call id (also the idempotency key)')
    .option('--wait', 'with --async: wait for the call to finish and print its result')
    .option('--timeout <duration>', 'with --wait: give up after this long (default 5m)', parseDuration)
    .option('--json', 'with --async: print {callId, location, isDuplicate} as JSON')
    .option('--auth', 'send the gateway credentials (gateways that protect invocations)')
    .action(async (name: string, opts: InvokeFlags) => {
      const isAsync = Boolean(opts.async || opts.callbackUrl || opts.priority !== undefined || opts.delay || opts.wait);
      if (opts.timeout !== undefined && !opts.wait) throw usageError('--timeout needs --wait');
      const method = opts.method.toUpperCase();
      if (isAsync && method !== 'POST') throw usageError('--async calls are always POST');

      const headers: Record<string, string> = { 'content-type': opts.contentType };
      for (const item of opts.header ?? []) {
        const [k, v] = parseHeader(item);
        headers[k.toLowerCase()] = v;
      }
      if (opts.callId) headers['x-call-id'] = opts.callId;
      if (opts.callbackUrl) headers['x-callback-url'] = opts.callbackUrl;
      if (opts.priority !== undefined) headers['x-priority'] = String(opts.priority);
      if (opts.delay) headers['x-delay'] = opts.delay;
      const query = new URLSearchParams(Object.entries(parsePairs(opts.query, '--query')));
      const body = requestBody(opts.data, method, ctx);
      const client = await ctx.client();

      if (!isAsync) {
        const res = await client.send(method, `/function/${name}`, { headers, query, body, isAuthenticated: Boolean(opts.auth) });
        if (res.status === 401 && !opts.auth && isGatewayChallenge(headerValue(res, 'www-authenticate'))) {
          await res.body.dump();
          throw new CliError(EXIT_AUTH, 'the gateway requires credentials for invocations: add --auth (and log in)');
        }
        await copyTo(res.body, ctx.io.stdout);
        if (res.status < 200 || res.status > 299) throw new CliError(EXIT_FAILED, `function returned ${res.status}`);
        return;
      }

      const res = await client.send('POST', `/async-function/${name}`, { headers, query, body, isAuthenticated: Boolean(opts.auth) });
      if (res.status < 200 || res.status > 299) throw await errorFromResponse(res);
      await res.body.dump();
      const callId = headerValue(res, 'x-call-id') ?? '';
      if (!callId) throw new CliError(EXIT_FAILED, `gateway accepted the call (${res.status}) but sent no X-Call-Id`);
      if (!opts.wait) {
        if (opts.json) writeJson(ctx.io.stdout, { callId, location: headerValue(res, 'location'), isDuplicate: headerValue(res, 'x-duplicate') === 'true' });
        else ctx.io.stdout.write(`${callId}\n`);
        return;
      }
      // stdout carries the result body, so the id goes to stderr.
      ctx.io.stderr.write(`call ${callId} accepted, waiting\n`);
      const record = await waitForCall(client, callId, opts.timeout ?? DEFAULT_WAIT_MS);
      if (record.hasResult) await printResult(client, callId, ctx).catch((err: unknown) => {
        // A stored non-2xx result is reported below with the call's state.
        if (record.state === 'succeeded') throw err;
      });
      if (record.state !== 'succeeded') {
        const detail = [record.lastStatus ? `last status ${record.lastStatus}` : '', record.lastError ?? ''].filter(Boolean).join(', ');
        throw new CliError(EXIT_FAILED, `call ${callId} ${record.state}${detail ? ` (${detail})` : ''}`);
      }
    });
}

/** Validates a duration but keeps the text: the gateway parses X-Delay itself. */
function checkedDuration(value: string): string {
  parseDuration(value);
  return value;
}

function requestBody(data: string | undefined, method: string, ctx: CliContext): string | Readable | undefined {
  if (data !== undefined) return data;
  if (method === 'GET' || method === 'HEAD' || ctx.io.stdin.isTTY) return undefined;
  return ctx.io.stdin;
}

/** The gateway's own basic-auth challenge, as opposed to a 401 a function answered itself. */
function isGatewayChallenge(header: string | undefined): boolean {
  return header !== undefined && header.toLowerCase().startsWith('basic realm="restricted"');
}
