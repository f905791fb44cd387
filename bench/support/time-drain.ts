// Times a queue draining to depth 0 by polling its depth: from the start (worker start-up and JIT
// warm-up inside) and from the first finished call (the steady rate). Both drain benchmarks use it.

export interface DrainTiming {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly seconds: number;
  /** Calls/s from the first finished call to the end. */
  readonly steadyRps: number;
}

export async function timeDrain(depth: () => Promise<number>, queued: number, pollMs: number): Promise<DrainTiming> {
  const startedAt = Date.now();
  let firstAt: number | undefined;
  let leftAtFirst = queued;
  for (let guard = 0; guard < 100_000; guard++) {
    const left = await depth();
    if (firstAt === undefined && left < queued) {
      firstAt = Date.now();
      leftAtFirst = left;
    }
    if (left === 0) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const endedAt = Date.now();
  const steadyS = Math.max(0.001, (endedAt - (firstAt ?? startedAt)) / 1000);
  return { startedAt, endedAt, seconds: (endedAt - startedAt) / 1000, steadyRps: Math.round(leftAtFirst / steadyS) };
}
