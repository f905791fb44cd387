// Function specs for a `faasq worker` with no local runtime: read from the gateway's
// GET /system/functions (with the configured basic-auth credentials) and cached, so per-function
// annotations (retries, async concurrency, queue) apply on workers too. getSpec is synchronous
// (the worker asks on every delivery), so the cache is refreshed in the background: when older
// than the TTL, and at once (rate-limited) on a miss. A miss answers undefined meanwhile, which
// means the worker's defaults for that one delivery.
import type { Logger } from '../../shared/logger.js';
import { DEFAULT_NAMESPACE } from '../../shared/names.js';
import type { FunctionSpec, FunctionStatus } from '../provider.js';

export interface RemoteSpecSourceOptions {
  readonly baseUrl: string;
  readonly logger: Logger;
  readonly credentials?: { readonly user: string; readonly password: string };
  /** How long a fetched list is trusted (default 5 s). */
  readonly ttlMs?: number;
  /** At most one refresh per this interval because of misses (default 1 s). */
  readonly minMissRefreshMs?: number;
  readonly requestTimeoutMs?: number;
}

export interface RemoteSpecSource {
  /** First fetch; a gateway that is not reachable yet is a warning, not a failure. */
  start(): Promise<void>;
  getSpec(fn: string, namespace: string): FunctionSpec | undefined;
  /** Fetches now (also used by tests to wait for a known state). */
  refresh(): Promise<void>;
  close(): void;
}

export function createRemoteSpecSource(options: RemoteSpecSourceOptions): RemoteSpecSource {
  const base = options.baseUrl.replace(/\/+$/, '');
  const ttlMs = options.ttlMs ?? 5000;
  const minMissRefreshMs = options.minMissRefreshMs ?? 1000;
  const timeoutMs = options.requestTimeoutMs ?? 5000;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.credentials) {
    headers.authorization = `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`;
  }
  const namespaces = new Set<string>([DEFAULT_NAMESPACE]);
  let specs = new Map<string, FunctionSpec>();
  let fetchedAt = 0;
  let lastMissRefreshAt = 0;
  let pending: Promise<void> | undefined;
  let isClosed = false;
  let hasWarned = false;

  const getJson = async (path: string): Promise<unknown> => {
    const res = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) {
      await res.arrayBuffer().catch(() => undefined);
      throw new Error(`GET ${path} answered ${res.status}`);
    }
    return res.json();
  };

  const load = async (): Promise<void> => {
    const listed = await getJson('/system/namespaces').catch(() => undefined);
    if (Array.isArray(listed)) for (const ns of listed) if (typeof ns === 'string') namespaces.add(ns);
    const next = new Map<string, FunctionSpec>();
    for (const ns of namespaces) {
      const list = await getJson(`/system/functions?namespace=${encodeURIComponent(ns)}`);
      if (!Array.isArray(list)) throw new Error(`GET /system/functions?namespace=${ns} did not answer a list`);
      for (const status of list as FunctionStatus[]) {
        const spec = statusToSpec(status, ns);
        next.set(key(spec.name, spec.namespace), spec);
      }
    }
    specs = next;
    fetchedAt = Date.now();
    hasWarned = false;
  };

  const refresh = (): Promise<void> => {
    if (isClosed) return Promise.resolve();
    pending ??= load()
      .catch((err: unknown) => {
        // Keep the last good list: a gateway restart must not drop every annotation.
        if (!hasWarned) options.logger.warn({ err, baseUrl: base }, 'cannot read function specs from the gateway; using the last known ones');
        hasWarned = true;
      })
      .finally(() => { pending = undefined; });
    return pending;
  };

  return {
    start: refresh,
    refresh,
    getSpec(fn, namespace) {
      const now = Date.now();
      const spec = specs.get(key(fn, namespace));
      if (now - fetchedAt >= ttlMs) void refresh();
      else if (!spec && now - lastMissRefreshAt >= minMissRefreshMs) {
        lastMissRefreshAt = now;
        namespaces.add(namespace);
        void refresh();
      }
      return spec;
    },
    close() {
      isClosed = true;
    },
  };
}

function key(fn: string, namespace: string): string {
  return `${fn}.${namespace}`;
}

/** FunctionStatus (the API's shape) back to the FunctionSpec fields the worker reads. */
function statusToSpec(s: FunctionStatus, namespace: string): FunctionSpec {
  return {
    name: s.name,
    namespace: s.namespace || namespace,
    image: s.image ?? '',
    fprocess: s.envProcess ?? '',
    environment: s.envVars ?? {},
    labels: s.labels ?? {},
    annotations: s.annotations ?? {},
    secrets: s.secrets ?? [],
    constraints: s.constraints ?? [],
    limits: s.limits,
    requests: s.requests,
    readOnlyRootFilesystem: s.readOnlyRootFilesystem,
  };
}
