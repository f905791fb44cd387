// A function's retry policy: the worker defaults overridden by the OpenFaaS Pro annotations
// com.openfaas.retry.attempts|codes|min_wait|max_wait, plus faasq's own async annotations.
// Pure: an invalid annotation falls back to the default and is reported through onInvalid.
import type { Config, JitterMode } from '../config/index.js';
import type { FunctionSpec } from '../provider/index.js';
import { parseDurationMs } from '../shared/index.js';
import { ANNOTATIONS } from '../shared/annotations.js';

export interface RetryPolicy {
  /** Total attempts, the first one included (>= 1). */
  readonly attempts: number;
  readonly codes: ReadonlySet<number>;
  readonly minWaitMs: number;
  readonly maxWaitMs: number;
  readonly jitter: JitterMode;
}

export type RetryDefaults = Config['worker']['retry'];

export const ANNOTATION_ATTEMPTS = ANNOTATIONS.retryAttempts.name;
export const ANNOTATION_CODES = ANNOTATIONS.retryCodes.name;
export const ANNOTATION_MIN_WAIT = ANNOTATIONS.retryMinWait.name;
export const ANNOTATION_MAX_WAIT = ANNOTATIONS.retryMaxWait.name;
export const ANNOTATION_ASYNC_CONCURRENCY = ANNOTATIONS.asyncConcurrency.name;

export type InvalidAnnotation = (key: string, value: string) => void;

export function policyFor(spec: Pick<FunctionSpec, 'annotations'> | undefined, defaults: RetryDefaults, onInvalid: InvalidAnnotation = () => {}): RetryPolicy {
  const a = spec?.annotations ?? {};
  const attempts = pick(a, ANNOTATION_ATTEMPTS, parseAttempts, onInvalid) ?? defaults.attempts;
  const codes = pick(a, ANNOTATION_CODES, parseCodes, onInvalid) ?? defaults.codes;
  const minWaitMs = pick(a, ANNOTATION_MIN_WAIT, parseWait, onInvalid) ?? defaults.minWaitMs;
  const maxWaitMs = pick(a, ANNOTATION_MAX_WAIT, parseWait, onInvalid) ?? defaults.maxWaitMs;
  return { attempts: Math.max(1, attempts), codes: new Set(codes), minWaitMs, maxWaitMs, jitter: defaults.jitter };
}

/** Per-function async concurrency inside one worker; undefined = unlimited. */
export function asyncConcurrencyFor(spec: Pick<FunctionSpec, 'annotations'> | undefined, onInvalid: InvalidAnnotation = () => {}): number | undefined {
  const n = pick(spec?.annotations ?? {}, ANNOTATION_ASYNC_CONCURRENCY, parseAttempts, onInvalid);
  return n === undefined || n === 0 ? undefined : n;
}

function pick<T>(annotations: Readonly<Record<string, string>>, key: string, parse: (raw: string) => T | undefined, onInvalid: InvalidAnnotation): T | undefined {
  const raw = annotations[key];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = parse(raw.trim());
  if (value === undefined) onInvalid(key, raw);
  return value;
}

function parseAttempts(raw: string): number | undefined {
  if (!/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

function parseCodes(raw: string): number[] | undefined {
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n < 100 || n > 599) return undefined;
    out.push(n);
  }
  return out;
}

function parseWait(raw: string): number | undefined {
  try {
    return parseDurationMs(raw);
  } catch {
    return undefined;
  }
}
