// The hot path for http-mode and upstream functions: one undici request per invocation,
// bodies streamed both ways, hop-by-hop headers dropped, transport errors translated into
// faasq codes at this edge (by error code, never by message).
import { errors, type Dispatcher } from 'undici';
import { FaasqError } from '../../shared/errors.js';
import { parseDurationMs } from '../../shared/durations.js';
import { HOP_BY_HOP } from '../../shared/http.js';
import type { InvocationRequest, InvocationResponse } from '../provider.js';

/** Headers undici refuses to send or that must not be forwarded. */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'expect', 'host']);

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'UND_ERR_CONNECT_TIMEOUT',
]);

export function isTimeoutError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

export function isUnreachableError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code !== undefined && UNREACHABLE_CODES.has(code);
}

/**
 * Which framing anomaly a failed call to a function was (the reason label of
 * faasq_function_connection_anomalies_total), or undefined for failures that are not the
 * function's framing. A FaasqError's cause is looked through. undici's parser errors carry no code
 * (it looks llhttp's number up the wrong way), so they are told by class: before the reply head
 * they are a bad head, after it bad body framing (chunks).
 */
export function framingAnomalyOf(err: unknown, hasHead: boolean): 'bad_head' | 'bad_chunk' | 'head_too_large' | 'truncated' | undefined {
  if (err instanceof errors.HTTPParserError) return hasHead ? 'bad_chunk' : 'bad_head';
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_HEADERS_OVERFLOW') return 'head_too_large';
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return 'truncated';
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause === undefined || cause === err ? undefined : framingAnomalyOf(cause, hasHead);
}

export function isAbortError(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'AbortError';
}

/**
 * The of-watchdog's `X-Timeout` request header: a duration ("500ms", "2s", "1m30s") that shortens,
 * never lengthens, the function's exec timeout for this request. One that does not parse is ignored.
 */
export function requestTimeoutMs(request: InvocationRequest, execTimeoutMs: number): number {
  const raw = request.headers['x-timeout'];
  return typeof raw === 'string' ? execTimeoutFor(raw, execTimeoutMs) : execTimeoutMs;
}

/** The exec timeout an `X-Timeout` value (undefined: none sent) leaves for one request. */
export function execTimeoutFor(raw: string | undefined, execTimeoutMs: number): number {
  if (raw === undefined) return execTimeoutMs;
  let ms: number;
  try {
    ms = parseDurationMs(raw);
  } catch {
    return execTimeoutMs;
  }
  if (ms <= 0) return execTimeoutMs;
  return execTimeoutMs > 0 ? Math.min(ms, execTimeoutMs) : ms;
}

export function durationSeconds(startedAt: number): string {
  return ((performance.now() - startedAt) / 1000).toFixed(6);
}

/**
 * Sends `request` through `pool` to `pathPrefix + request.path`. `timeoutMs` bounds the wait for
 * response headers (and each idle gap of the body); 0 disables it.
 */
export async function proxyRequest(pool: Dispatcher, pathPrefix: string, request: InvocationRequest, timeoutMs: number, startedAt: number, fn: string): Promise<InvocationResponse> {
  const headers: Record<string, string | string[]> = {};
  for (const name in request.headers) {
    if (!NOT_FORWARDED.has(name)) headers[name] = request.headers[name];
  }
  const path = pathPrefix + request.path;
  let res;
  try {
    res = await pool.request({
      path: request.query ? `${path}?${request.query}` : path,
      method: request.method,
      headers,
      body: request.body ?? undefined,
      signal: request.signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  } catch (err) {
    throw translateError(err, fn, timeoutMs);
  }
  const out = res.headers as Record<string, string | string[]>;
  for (const name in out) {
    if (HOP_BY_HOP.has(name)) delete out[name];
  }
  out['x-duration-seconds'] = durationSeconds(startedAt);
  return { status: res.statusCode, headers: out, body: res.body };
}

export function translateError(err: unknown, fn: string, timeoutMs: number): unknown {
  if (isAbortError(err)) return err;
  if (isTimeoutError(err)) return new FaasqError('E_FUNCTION_TIMEOUT', `function "${fn}" did not answer within ${timeoutMs}ms`, { cause: err });
  if (isUnreachableError(err)) return new FaasqError('E_FUNCTION_UNREACHABLE', `function "${fn}" is unreachable`, { cause: err });
  if ((err as { code?: string } | null)?.code === 'UND_ERR_INVALID_ARG') return new FaasqError('E_INVALID_HEADER', `cannot forward request to "${fn}": invalid header or method`, { cause: err });
  return new FaasqError('E_FUNCTION_UNREACHABLE', `function "${fn}" failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
