// Latency at a fixed request rate below saturation, so the p99 shows what a hop adds rather than
// how long requests queue for a busy CPU. Requests are started evenly (every millisecond, the
// share of that millisecond) over up to `connections` keep-alive connections, and each latency is
// measured from when the request was due, not when it was sent (no coordinated omission).
import { Pool } from 'undici';

export interface FixedRateResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

export async function fixedRate(url: string, options: { connections: number; ratePerSec: number; durationS: number; body: string }): Promise<FixedRateResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: options.connections, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(options.ratePerSec * options.durationS);
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  let sent = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.ratePerSec));
      for (; sent < due; sent++) {
        const dueAt = started + (sent / options.ratePerSec) * 1000;
        inflight.push(
          pool.request({ path: target.pathname, method: 'POST', body: options.body, headers: { 'content-type': 'text/plain' } })
            .then(async (res) => {
              await res.body.dump();
              if (res.statusCode >= 300) errors++;
              latencies.push(performance.now() - dueAt);
            }, () => { errors++; }),
        );
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  await Promise.all(inflight);
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => +latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))].toFixed(2);
  return { rps: Math.round(latencies.length / seconds), p50Ms: at(0.5), p99Ms: at(0.99), errors };
}
