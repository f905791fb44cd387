// The worker's decision as data: a pure mapping from (outcome, attempt, policy, now) to
// ack / retry after N ms / dead-letter. The worker loop turns the decision into queue calls.
import { backoffMs } from '../shared/backoff.js';
import type { RetryPolicy } from './policy.js';

/**
 * What one attempt produced: an HTTP answer, or no answer at all (transport error, timeout), or an
 * answer faasq refused and would refuse again (output over the cap): failed, not retried.
 */
export type Outcome =
  | { readonly status: number; readonly headers?: Readonly<Record<string, string | string[] | undefined>> }
  | { readonly error: string; readonly kind: 'transport' | 'timeout' | 'refused' };

export type DeadReason = 'attempts' | 'max_age';

export type Decision =
  | { readonly kind: 'ack'; readonly state: 'succeeded' | 'failed' }
  | { readonly kind: 'retry'; readonly delayMs: number }
  | { readonly kind: 'dead'; readonly reason: DeadReason };

/** Set by OpenFaaS core components (provider proxy, watchdog, limiter) on their own errors. */
export const INTERNAL_HEADER = 'x-openfaas-internal';

/**
 * `attempt` is the 1-based number of the attempt that produced `outcome`; `now` is epoch ms
 * (used for an HTTP-date Retry-After).
 */
export function decide(outcome: Outcome, attempt: number, policy: RetryPolicy, now: number, random: () => number = Math.random): Decision {
  if ('status' in outcome) {
    const { status } = outcome;
    if (status >= 200 && status < 300) return { kind: 'ack', state: 'succeeded' };
    const isInternal = headerValue(outcome.headers, INTERNAL_HEADER) !== undefined;
    if (!policy.codes.has(status) && !isInternal) return { kind: 'ack', state: 'failed' };
  } else if (outcome.kind === 'refused') {
    return { kind: 'ack', state: 'failed' };
  }
  if (attempt >= policy.attempts) return { kind: 'dead', reason: 'attempts' };
  const retryAfter = 'status' in outcome && (outcome.status === 429 || outcome.status === 503)
    ? parseRetryAfterMs(headerValue(outcome.headers, 'retry-after'), now)
    : undefined;
  const delayMs = retryAfter === undefined
    ? backoffMs(attempt, policy, random)
    : Math.min(policy.maxWaitMs, Math.max(policy.minWaitMs, retryAfter));
  return { kind: 'retry', delayMs };
}

/** A call never started whose max age has passed goes to the dead letters instead of running. */
export function isExpired(expiresAt: number | undefined, attemptsSoFar: number, now: number): boolean {
  return expiresAt !== undefined && attemptsSoFar === 0 && now > expiresAt;
}

/** Retry-After as delta seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // Only accept something that looks like an HTTP date, not any string Date.parse tolerates.
  if (!/^[A-Za-z]{3},? /.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

function headerValue(headers: Readonly<Record<string, string | string[] | undefined>> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
