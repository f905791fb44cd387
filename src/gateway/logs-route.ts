// GET /system/logs: a function's log lines as NDJSON (chunked), as faas-cli logs reads them.
// With follow=true the stream stays open until the client leaves or the gateway shuts down.
import { once } from 'node:events';
import type { LogEntry, Provider } from '../provider/provider.js';
import { FaasqError } from '../shared/errors.js';
import { parseDurationMs } from '../shared/durations.js';
import type { RouteHandler } from './basic-auth.js';
import { sendError } from './reply.js';
import { namespaceOf, route } from './route.js';
import type { Router } from './system-routes.js';

export interface LogsRouteDeps {
  readonly provider: Provider;
  readonly protect: (handler: RouteHandler) => RouteHandler;
  /** Aborted on gateway close, ending follow streams. */
  readonly shutdownSignal: AbortSignal;
}

export function registerLogsRoute(router: Router, deps: LogsRouteDeps): void {
  const { provider, protect, shutdownSignal } = deps;
  router.get('/system/logs', protect(route(async (req, res, _params, query) => {
    // OpenFaaS answers bad log parameters with 422.
    const name = query.name;
    if (!name) throw new FaasqError('E_UNPROCESSABLE', 'missing query parameter "name"', { detail: { field: 'name' } });
    const namespace = namespaceOf(query.namespace);
    const tail = parseTail(query.tail);
    const since = parseSince(query.since);
    const follow = query.follow === 'true' || query.follow === '1';

    // An unknown function is a 404 before the stream starts; afterwards the status is fixed.
    await provider.get(name, namespace);
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, shutdownSignal]);
    const stop = (): void => controller.abort();
    res.once('close', stop);
    try {
      const entries = provider.logs({ name, namespace, tail, since, follow, signal })[Symbol.asyncIterator]();
      // Even a provider that ignores the signal cannot keep this loop alive after the client left.
      const aborted = new Promise<IteratorReturnResult<undefined>>((resolve) => {
        if (signal.aborted) resolve({ done: true, value: undefined });
        signal.addEventListener('abort', () => resolve({ done: true, value: undefined }), { once: true });
      });
      const next = (): Promise<IteratorResult<LogEntry>> => Promise.race([entries.next(), aborted]);
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
      res.flushHeaders();
      for (let step = await next(); !step.done && !signal.aborted; step = await next()) {
        const e = step.value;
        const line = JSON.stringify({ name: e.name, namespace: e.namespace, instance: e.instance, timestamp: e.timestamp, text: e.text }) + '\n';
        if (!res.write(line)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      }
      Promise.resolve(entries.return?.(undefined)).catch(() => undefined);
      if (!res.destroyed) res.end();
    } catch (err) {
      if (signal.aborted) {
        if (!res.destroyed) res.end();
        return;
      }
      if (!res.headersSent) throw err;
      sendError(req, res, err);
    } finally {
      res.off('close', stop);
    }
  })));
}

function parseTail(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new FaasqError('E_UNPROCESSABLE', `query parameter "tail" must be a whole number, got "${raw}"`, { detail: { field: 'tail' } });
  return n <= 0 ? undefined : n;
}

/** RFC3339 time (faas-cli --since-time, and --since converted by faas-cli), or a duration back from now. */
function parseSince(raw: string | undefined): Date | undefined {
  if (raw === undefined || raw === '') return undefined;
  const time = Date.parse(raw);
  if (!Number.isNaN(time)) return new Date(time);
  try {
    return new Date(Date.now() - parseDurationMs(raw));
  } catch {
    throw new FaasqError('E_UNPROCESSABLE', `query parameter "since" must be an RFC3339 time or a duration, got "${raw}"`, { detail: { field: 'since' } });
  }
}
