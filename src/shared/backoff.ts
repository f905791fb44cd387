// Exponential backoff with the three OpenFaaS Pro jitter modes, as a pure function so the retry
// schedule can be tested exhaustively and shared by call retries and callback retries.
/** How a retry delay is spread: none, over [0, d] (full), or over [d/2, d] (equal). */
export type JitterMode = 'none' | 'full' | 'equal';

export interface BackoffOptions {
  readonly minWaitMs: number;
  readonly maxWaitMs: number;
  readonly jitter: JitterMode;
}

/**
 * Delay before retry number `attempt` (1 = the first retry): min * 2^(attempt-1) capped at max.
 * `full` picks uniformly in [0, d]; `equal` in [d/2, d]; `none` returns d.
 */
export function backoffMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const { minWaitMs, maxWaitMs, jitter } = options;
  const n = Math.max(1, Math.floor(attempt));
  // 2^(n-1) overflows to Infinity for large n; min=0 would then give NaN, so treat 0 apart.
  const raw = minWaitMs <= 0 ? 0 : minWaitMs * 2 ** Math.min(n - 1, 1023);
  const d = Math.max(0, Math.min(maxWaitMs, raw));
  switch (jitter) {
    case 'full':
      return Math.round(random() * d);
    case 'equal':
      return Math.round(d / 2 + (random() * d) / 2);
    default:
      return Math.round(d);
  }
}
