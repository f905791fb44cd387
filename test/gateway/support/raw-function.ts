// A function server on a bare TCP socket, for replies Node's http server cannot be made to send
// (garbage, interim 1xx then a reply, close-delimited bodies, hang-ups, idle closes). It splits the
// incoming bytes into requests (heads plus Content-Length bodies) and lets the test answer each one
// with whatever bytes it likes.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RawRequest {
  readonly method: string;
  /** Request target as received (path and query). */
  readonly target: string;
  /** Lower-cased field names to values (last one wins). */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** 1 for the first request on its connection, 2 for the next, ... */
  readonly indexOnConnection: number;
  /** Which connection it came on (1-based, in accept order). */
  readonly connection: number;
}

export type RawHandler = (req: RawRequest, socket: net.Socket) => void;

export interface RawFunction {
  readonly url: string;
  readonly requests: RawRequest[];
  /** Connections accepted so far. */
  connections(): number;
  /** Connections still open. */
  open(): number;
  close(): Promise<void>;
}

const CRLF2 = Buffer.from('\r\n\r\n');

export async function startRawFunction(handler: RawHandler): Promise<RawFunction> {
  const requests: RawRequest[] = [];
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    const connection = ++accepted;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf: Buffer = Buffer.alloc(0);
    let count = 0;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const headEnd = buf.indexOf(CRLF2);
        if (headEnd === -1) return;
        const lines = buf.toString('latin1', 0, headEnd).split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines.slice(1)) {
          const colon = line.indexOf(':');
          headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
        }
        const length = Number(headers['content-length'] ?? '0');
        if (buf.length < headEnd + 4 + length) return;
        const [method, target] = lines[0].split(' ');
        const req = { method, target, headers, body: buf.subarray(headEnd + 4, headEnd + 4 + length), indexOnConnection: ++count, connection };
        buf = buf.subarray(headEnd + 4 + length);
        requests.push(req);
        handler(req, socket);
        if (socket.destroyed) return;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    connections: () => accepted,
    open: () => sockets.size,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
