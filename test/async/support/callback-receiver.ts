// A real HTTP callback receiver on 127.0.0.1 that records every POST and answers with a
// scripted status (or a delay), to test callback delivery, retries and signatures.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedCallback {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly at: number;
}

export interface CallbackReceiver {
  readonly url: string;
  readonly received: ReceivedCallback[];
  /** Statuses for the next requests in order; after they run out, 200. */
  respondWith(...statuses: number[]): void;
  /** Delay before answering, for the next `times` requests. */
  delayNext(ms: number, times: number): void;
  close(): Promise<void>;
}

export async function startCallbackReceiver(): Promise<CallbackReceiver> {
  const received: ReceivedCallback[] = [];
  const statuses: number[] = [];
  let delayMs = 0;
  let delayTimes = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks), at: Date.now() });
      const status = statuses.shift() ?? 200;
      const answer = (): void => {
        res.statusCode = status;
        res.end();
      };
      if (delayTimes > 0) {
        delayTimes--;
        const t = setTimeout(() => { timers.delete(t); answer(); }, delayMs);
        timers.add(t);
      } else {
        answer();
      }
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    respondWith: (...s) => void statuses.push(...s),
    delayNext: (ms, times) => { delayMs = ms; delayTimes = times; },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
