// logs(query) as an async iterable: the buffered lines (since / tail applied), then, with
// `follow`, new lines as they arrive until the query's signal aborts.
import type { LogEntry, LogQuery } from '../provider.js';
import type { LogRing } from './log-ring.js';

export async function* followLogs(ringOf: () => LogRing | undefined, query: LogQuery, notFound: () => Error): AsyncGenerator<LogEntry> {
  const ring = ringOf();
  if (!ring) throw notFound();
  const pending: LogEntry[] = [];
  let wake: (() => void) | undefined;
  // Subscribe before taking the snapshot so no line falls between the two.
  const unfollow = query.follow ? ring.follow((entry) => { pending.push(entry); wake?.(); }) : undefined;
  const onAbort = (): void => wake?.();
  query.signal?.addEventListener('abort', onAbort);
  try {
    const since = query.since?.getTime();
    let entries = since === undefined ? ring.snapshot() : ring.snapshot().filter((e) => Date.parse(e.timestamp) >= since);
    if (query.tail !== undefined && query.tail > 0) entries = entries.slice(-query.tail);
    yield* entries;
    if (!unfollow) return;
    while (!query.signal?.aborted) {
      const next = pending.shift();
      if (next) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => { wake = resolve; });
      wake = undefined;
    }
  } finally {
    unfollow?.();
    query.signal?.removeEventListener('abort', onAbort);
  }
}
