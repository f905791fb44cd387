// A real HTTP server on 127.0.0.1 that counts requests per X-Call-Id and answers after `delayMs`:
// a function or a callback receiver whose runs a test counts.
import http from 'node:http';

export interface CallCounter {
  readonly url: string;
  readonly counts: Map<string, number>;
  close(): Promise<void>;
}

/**
 * `countWhen`: 'arrival' counts a run as soon as it starts (a run cut short still counts),
 * 'body' once its whole body has arrived.
 */
export async function startCallCounter(delayMs: number, countWhen: 'arrival' | 'body'): Promise<CallCounter> {
  const counts = new Map<string, number>();
  const count = (id: string): void => {
    counts.set(id, (counts.get(id) ?? 0) + 1);
  };
  const server = http.createServer((req, res) => {
    const id = String(req.headers['x-call-id'] ?? '');
    if (countWhen === 'arrival') count(id);
    req.resume();
    req.on('end', () => {
      if (countWhen === 'body') count(id);
      const timer = setTimeout(() => res.end('done'), delayMs);
      res.on('close', () => clearTimeout(timer));
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
