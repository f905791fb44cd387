// Parses the request headers that carry meaning for an async call (X-Call-Id, X-Priority,
// X-Delay, X-Not-Before, X-Max-Age) and the matching function annotations. Each bad header is a
// 400 naming the header, so callers learn which one to fix.
import { FaasqError, parseDurationMs } from '../../shared/index.js';
import { MAX_PRIORITY, MIN_PRIORITY } from '../../queue/index.js';
import { ANNOTATIONS } from '../../shared/annotations.js';

export const ANNOTATION_PRIORITY = ANNOTATIONS.priority.name;
export const ANNOTATION_MAX_AGE = ANNOTATIONS.maxAge.name;

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

export function parseDurationHeader(name: string, raw: string): number {
  try {
    return parseDurationMs(raw);
  } catch {
    throw invalid(name, raw, 'a duration such as 500ms, 30s, 2m or a number of seconds');
  }
}

/** X-Not-Before: RFC 3339 date-time or Unix seconds; returns epoch ms. */
export function parseNotBefore(raw: string): number {
  const text = raw.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(text)) {
    const at = Date.parse(text);
    if (!Number.isNaN(at)) return at;
  }
  throw invalid('X-Not-Before', raw, 'an RFC 3339 time (2030-01-02T15:04:05Z) or Unix seconds');
}

export function annotationMaxAgeMs(annotations: Readonly<Record<string, string>>): number | undefined {
  const raw = annotations[ANNOTATION_MAX_AGE];
  if (raw === undefined) return undefined;
  try {
    return parseDurationMs(raw);
  } catch {
    return undefined;
  }
}

function invalid(header: string, value: string, expected: string): FaasqError {
  const shown = value.length > 64 ? `${value.slice(0, 64)}...` : value;
  return new FaasqError('E_INVALID_HEADER', `invalid ${header} header "${shown}": expected ${expected}`, { detail: { header } });
}
