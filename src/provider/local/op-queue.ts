// Provider-level queueing: operations on ONE function (deploy, update, scale, remove) run
// strictly one after another in arrival order; operations on different functions run in parallel.

export interface OpQueue {
  /** Runs `op` after every earlier op with the same key has settled; resolves with its result. */
  run<T>(key: string, op: () => Promise<T>): Promise<T>;
  /** Resolves when every queued op has settled. */
  idle(): Promise<void>;
}

export function createOpQueue(): OpQueue {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, op: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(op, op);
      const tail = result.then(() => undefined, () => undefined);
      tails.set(key, tail);
      // Forget the chain once it drains so removed functions do not leak entries.
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    async idle(): Promise<void> {
      while (tails.size > 0) await Promise.all([...tails.values()]);
    },
  };
}
