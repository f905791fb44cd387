// One ConcurrencyLimiter per function, configured from its annotations (com.faasq.concurrency,
// com.faasq.max_waiting, com.faasq.max_wait) over the gateway defaults. Settings are parsed once
// per spec object, so the hot path only does a WeakMap and a Map lookup.
import type { Config } from '../config/index.js';
import type { FunctionSpec } from '../provider/provider.js';
import { parseDurationMs } from '../shared/durations.js';
import type { Logger } from '../shared/logger.js';
import { ConcurrencyLimiter, type LimitSettings } from './concurrency-limiter.js';
import { ANNOTATIONS } from '../shared/annotations.js';

export const CONCURRENCY_ANNOTATION = ANNOTATIONS.concurrency.name;
export const MAX_WAITING_ANNOTATION = ANNOTATIONS.maxWaiting.name;
export const MAX_WAIT_ANNOTATION = ANNOTATIONS.maxWait.name;

export interface AdmissionStats {
  readonly fn: string;
  readonly namespace: string;
  readonly active: number;
  readonly waiting: number;
  readonly maxConcurrent: number;
}

export class FunctionLimits {
  private readonly defaults: LimitSettings;
  private readonly settingsBySpec = new WeakMap<FunctionSpec, LimitSettings>();
  private readonly limiters = new Map<string, ConcurrencyLimiter>();
  private readonly logger: Logger;

  constructor(gateway: Config['gateway'], logger: Logger) {
    this.defaults = { maxConcurrent: gateway.concurrency, maxWaiting: gateway.maxWaiting, maxWaitMs: gateway.maxWaitMs };
    this.logger = logger;
  }

  /** The limiter for a function, or undefined when its calls are unlimited. */
  limiterFor(key: string, spec: FunctionSpec | undefined): ConcurrencyLimiter | undefined {
    const settings = spec ? this.settingsOf(spec) : this.defaults;
    if (settings.maxConcurrent === 0) return undefined;
    const existing = this.limiters.get(key);
    if (existing && (existing.settings === settings || sameSettings(existing.settings, settings))) return existing;
    // A redeploy changed the limits: new callers use a fresh limiter, callers of the old one finish there.
    const limiter = new ConcurrencyLimiter(settings);
    this.limiters.set(key, limiter);
    return limiter;
  }

  /** Calls running and waiting per limited function (gateway-level queue depth). */
  stats(): AdmissionStats[] {
    const out: AdmissionStats[] = [];
    for (const [key, limiter] of this.limiters) {
      const slash = key.indexOf('/');
      out.push({ fn: key.slice(slash + 1), namespace: key.slice(0, slash), active: limiter.active, waiting: limiter.waiting, maxConcurrent: limiter.settings.maxConcurrent });
    }
    return out;
  }

  private settingsOf(spec: FunctionSpec): LimitSettings {
    let settings = this.settingsBySpec.get(spec);
    if (!settings) {
      settings = this.parse(spec);
      this.settingsBySpec.set(spec, settings);
    }
    return settings;
  }

  private parse(spec: FunctionSpec): LimitSettings {
    const a = spec.annotations ?? {};
    const int = (key: string, fallback: number): number => {
      const raw = a[key];
      if (raw === undefined || raw === '') return fallback;
      const n = Number(raw.trim());
      if (Number.isInteger(n) && n >= 0) return n;
      this.logger.warn({ fn: spec.name, annotation: key, value: raw }, 'ignoring invalid annotation');
      return fallback;
    };
    let maxWaitMs = this.defaults.maxWaitMs;
    const rawWait = a[MAX_WAIT_ANNOTATION];
    if (rawWait !== undefined && rawWait !== '') {
      try {
        maxWaitMs = parseDurationMs(rawWait);
      } catch {
        this.logger.warn({ fn: spec.name, annotation: MAX_WAIT_ANNOTATION, value: rawWait }, 'ignoring invalid annotation');
      }
    }
    return {
      maxConcurrent: int(CONCURRENCY_ANNOTATION, this.defaults.maxConcurrent),
      maxWaiting: int(MAX_WAITING_ANNOTATION, this.defaults.maxWaiting),
      maxWaitMs,
    };
  }
}

function sameSettings(a: LimitSettings, b: LimitSettings): boolean {
  return a.maxConcurrent === b.maxConcurrent && a.maxWaiting === b.maxWaiting && a.maxWaitMs === b.maxWaitMs;
}
