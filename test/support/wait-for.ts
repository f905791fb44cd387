// Waiting on a condition with a deadline, so tests never sleep and hope.

/** Polls `fn` until it returns a truthy value (returned) or the deadline passes (throws). */
export async function waitFor<T>(fn: () => T | Promise<T>, options: { timeoutMs?: number; intervalMs?: number; message?: string } = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = options.message ?? 'condition';
      throw new Error(`waitFor: ${why} not met within ${timeoutMs}ms`, lastError === undefined ? undefined : { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
