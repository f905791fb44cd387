// Sends exactly `count` POSTs of a 1 KiB body with `inFlight` in flight and fails on any answer
// but `expectStatus`: how the drain benchmarks fill a queue to an exact depth (wrk runs by time
// and overshoots).
import { Pool } from 'undici';

export async function postExactly(origin: string, path: string, options: { count: number; inFlight: number; expectStatus?: number }): Promise<void> {
  const http = new Pool(origin, { connections: options.inFlight });
  const body = 'x'.repeat(1024);
  const expected = options.expectStatus ?? 202;
  let next = 0;
  try {
    await Promise.all(Array.from({ length: options.inFlight }, async () => {
      while (next++ < options.count) {
        const res = await http.request({ path, method: 'POST', body });
        await res.body.arrayBuffer();
        if (res.statusCode !== expected) throw new Error(`fill ${path}: ${res.statusCode}`);
      }
    }));
  } finally {
    await http.close();
  }
}
