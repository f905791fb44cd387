// Runs wrk (Debian package `wrk`) and parses requests/s and latency percentiles from --latency output.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  /** Requests completed in the whole run ("N requests in ..."). */
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

export async function wrk(url: string, options: { connections: number; durationS: number; threads?: number; script?: string; headers?: string[] }): Promise<WrkResult> {
  const args = ['-t', String(options.threads ?? 1), '-c', String(options.connections), '-d', `${options.durationS}s`, '--latency'];
  for (const h of options.headers ?? []) args.push('-H', h);
  if (options.script) args.push('-s', options.script);
  args.push(url);
  const { stdout } = await run('wrk', args, { maxBuffer: 1 << 20 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const p50 = toMs(/\s50%\s+([\d.]+)(us|ms|s)/.exec(stdout));
  const p99 = toMs(/\s99%\s+([\d.]+)(us|ms|s)/.exec(stdout));
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const errors = errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? NaN);
  return { requests, requestsPerSec: rps, p50Ms: p50, p99Ms: p99, errors, non2xx };
}

function toMs(m: RegExpExecArray | null): number {
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}
