// Posts a finished call's response to its X-Callback-Url, signed when a secret is set, retried
// with backoff. Runs after the call is acked (its outcome is already final), so a slow or dead
// receiver never holds a worker slot; the worker tracks pending deliveries for shutdown.
import { createHmac } from 'node:crypto';
import { request } from 'undici';
import type { Config } from '../config/index.js';
import { HOP_BY_HOP } from '../shared/index.js';
import { backoffMs } from '../shared/backoff.js';
import type { CallbackGuard } from './callback-guard.js';

export type CallbackSettings = Config['worker']['callback'];

export interface CallbackPayload {
  readonly url: string;
  readonly callId: string;
  /** The function name as queued (`name` or `name.namespace`). */
  readonly functionName: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
  readonly durationMs: number;
  /** Retries so far (attempts - 1) and the most allowed (maxAttempts - 1). */
  readonly retry: number;
  readonly retryMax: number;
}

export interface CallbackAttempt {
  readonly attempt: number;
  readonly status?: number;
  readonly error?: string;
  readonly isDelivered: boolean;
  readonly isFinal: boolean;
}

export const SIGNATURE_HEADER = 'x-faasq-signature';
export const TIMESTAMP_HEADER = 'x-faasq-timestamp';

/** Hex HMAC-SHA256 of the body, as sent in `X-Faasq-Signature: sha256=<hex>`. */
export function signBody(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** The headers a callback carries: the function's own (minus hop-by-hop and length), then ours. */
export function callbackHeaders(p: CallbackPayload, userAgent: string, secret: string | undefined, nowMs: number): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(p.headers)) {
    const lower = k.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'content-length' || lower === 'host') continue;
    out[lower] = v;
  }
  out['x-call-id'] = p.callId;
  out['x-function-name'] = p.functionName;
  out['x-function-status'] = String(p.status);
  out['x-duration-seconds'] = (p.durationMs / 1000).toFixed(6);
  out['x-retry'] = String(p.retry);
  out['x-retry-max'] = String(p.retryMax);
  out['user-agent'] = userAgent;
  if (secret) {
    out[SIGNATURE_HEADER] = `sha256=${signBody(secret, p.body)}`;
    out[TIMESTAMP_HEADER] = String(Math.floor(nowMs / 1000));
  }
  return out;
}

export type CallbackResult = 'delivered' | 'failed' | 'aborted';

/**
 * Delivers one callback: up to settings.attempts POSTs, each bounded by timeoutMs, backoff between.
 * Resolves (never rejects) once delivered, out of attempts ('failed'), or aborted by shutdown
 * ('aborted': the try that was cut short is not reported, so the record stays 'pending' and the
 * redelivered call finishes the callback); onAttempt reports each finished try.
 */
export async function deliverCallback(
  p: CallbackPayload,
  settings: CallbackSettings,
  userAgent: string,
  onAttempt: (a: CallbackAttempt) => void | Promise<void>,
  signal: AbortSignal,
  guard?: CallbackGuard,
): Promise<CallbackResult> {
  const maxAttempts = Math.max(1, settings.attempts);
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (signal.aborted) return 'aborted';
    const result = await postOnce(p, settings, userAgent, signal, guard);
    const isDelivered = result.status !== undefined && result.status >= 200 && result.status < 300;
    if (!isDelivered && signal.aborted) return 'aborted';
    const isFinal = isDelivered || attempt === maxAttempts;
    await onAttempt({ attempt, status: result.status, error: result.error, isDelivered, isFinal });
    if (isDelivered) return 'delivered';
    if (isFinal) return 'failed';
    const waitMs = backoffMs(attempt, { minWaitMs: settings.minWaitMs, maxWaitMs: settings.maxWaitMs, jitter: 'equal' });
    await sleep(waitMs, signal);
  }
  return 'failed';
}

async function postOnce(p: CallbackPayload, settings: CallbackSettings, userAgent: string, signal: AbortSignal, guard: CallbackGuard | undefined): Promise<{ status?: number; error?: string }> {
  // Checked again at send time: the deny list may have changed since the call was accepted.
  const denied = guard?.deniedReason(p.url);
  if (denied) return { error: denied };
  const timeout = AbortSignal.timeout(settings.timeoutMs);
  try {
    const res = await request(p.url, {
      dispatcher: guard?.dispatcher,
      method: 'POST',
      headers: callbackHeaders(p, userAgent, settings.secret, Date.now()),
      body: p.body,
      signal: AbortSignal.any([signal, timeout]),
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
    });
    // Drain so the connection can be reused; the receiver's answer body means nothing to us.
    await res.body.dump();
    return { status: res.statusCode };
  } catch (err) {
    const error = timeout.aborted ? `callback timed out after ${settings.timeoutMs}ms` : (err as Error).message;
    return { error };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
