// Parses the request headers that carry meaning for an async call (X-Call-Id, X-Priority,
// X-Delay, X-Not-Before, X-Max-Age) and the matching function annotations. Each bad header is a
// 400 naming the header, so callers learn which one to fix.
import { FaasqError, parseDurationMs } from '../../shared/index.js';
import { MAX_PRIORITY, MIN_PRIORITY } from '../../queue/index.js';
import { ANNOTATIONS } from '../../shared/annotations.js';

export const ANNOTATION_PRIORITY = ANNOTATIONS.priority.name;
export const ANNOTATION_MAX_AGE = ANNOTATIONS.maxAge.name;

// No '~' (nor '@'): the msgIDs faasq derives from a call id on JetStream carry one ('<id>~2',
// '<id>~due~<seq>', '<id>~replay~<seq>', '<id>@<ms>'), so no caller's call can take such a msgID
// first and have the server drop faasq's publish as its duplicate.
const CALL_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function parseCallId(raw: string): string {
  if (!CALL_ID.test(raw)) throw invalid('X-Call-Id', raw, '1 to 128 characters of A-Z a-z 0-9 . _ : -');
  return raw;
}

export function parsePriority(raw: string): number {
  const text = raw.trim();
  if (!/^\d+$/.test(text)) throw invalid('X-Priority', raw, `an integer ${MIN_PRIORITY}..${MAX_PRIORITY}`);
  const n = Number(text);
  if (n < MIN_PRIORITY || n > MAX_PRIORITY) throw invalid('X-Priority', raw, `an integer ${MIN_PRIORITY}..${MAX_PRIORITY}`);
  return n;
}

/** Annotation default priority; an invalid annotation is ignored (deploy time is where it is checked). */
export function annotationPriority(annotations: Readonly<Record<string, string>>): number | undefined {
  const raw = annotations[ANNOTATION_PRIORITY];
  if (raw === undefined) return undefined;
  try {
    return parsePriority(raw);
  } catch {
    return undefined;
  }
}

/**
 * The furthest a call may be scheduled or kept waiting: X-Delay, X-Max-Age and X-Not-Before (from
 * now) beyond a year are refused. Without a bound a huge value overflows the record's timestamps and
 * the queue, not the caller, would be blamed (it once answered 503).
 */
export const MAX_SCHEDULE_MS = 365 * 86_400_000;
const MAX_SCHEDULE_TEXT = '365 days';

export function parseDurationHeader(name: string, raw: string): number {
  const expected = `a duration up to ${MAX_SCHEDULE_TEXT} such as 500ms, 30s, 2m or a number of seconds`;
  let ms: number;
  try {
    ms = parseDurationMs(raw);
  } catch {
    throw invalid(name, raw, expected);
  }
  if (!Number.isFinite(ms) || ms > MAX_SCHEDULE_MS) throw invalid(name, raw, expected);
  return ms;
}

/** X-Not-Before: RFC 3339 date-time or Unix seconds, at most MAX_SCHEDULE_MS after `nowMs`; returns epoch ms. */
export function parseNotBefore(raw: string, nowMs = Date.now()): number {
  const text = raw.trim();
  let at = Number.NaN;
  if (/^\d+(\.\d+)?$/.test(text)) at = Math.round(Number(text) * 1000);
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) at = Date.parse(text);
  if (Number.isFinite(at) && at <= nowMs + MAX_SCHEDULE_MS) return at;
  throw invalid('X-Not-Before', raw, `an RFC 3339 time (2030-01-02T15:04:05Z) or Unix seconds, at most ${MAX_SCHEDULE_TEXT} from now`);
}

export function annotationMaxAgeMs(annotations: Readonly<Record<string, string>>): number | undefined {
  const raw = annotations[ANNOTATION_MAX_AGE];
  if (raw === undefined) return undefined;
  try {
    const ms = parseDurationMs(raw);
    return ms <= MAX_SCHEDULE_MS ? ms : undefined;
  } catch {
    return undefined;
  }
}

function invalid(header: string, value: string, expected: string): FaasqError {
  const shown = value.length > 64 ? `${value.slice(0, 64)}...` : value;
  return new FaasqError('E_INVALID_HEADER', `invalid ${header} header "${shown}": expected ${expected}`, { detail: { header } });
}
