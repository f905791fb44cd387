// Coalesces NATS writes. The client flushes its outbound buffer once per microtask checkpoint,
// and the gateway and worker issue their publishes from separate event-loop callbacks (one per
// HTTP request or function response), so each publish would be its own socket write: the biggest
// CPU cost of an accept. Deferring them to one setImmediate runs every publish of a loop turn in
// one callback, so they leave in one write; the cost is at most one loop turn of latency.

export type WriteBatcher = <T>(write: () => Promise<T> | T) => Promise<T>;

export function createWriteBatcher(): WriteBatcher {
  let pending: (() => void)[] = [];
  let isScheduled = false;
  const flush = (): void => {
    isScheduled = false;
    const writes = pending;
    pending = [];
    for (const run of writes) run();
  };
  return <T>(write: () => Promise<T> | T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      pending.push(() => {
        try {
          Promise.resolve(write()).then(resolve, reject);
        } catch (err) {
          reject(err);
        }
      });
      if (!isScheduled) {
        isScheduled = true;
        setImmediate(flush);
      }
    });
}
