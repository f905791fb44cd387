// What Node's server does with a request it cannot parse, changed in one respect: when a valid
// request before it on the same connection (pipelined) is still being answered, that answer goes
// out first, then the error reply and the close. Node's default writes the 400 at once and drops
// the valid request; RFC 9112 §9.3.2 lets a server answer what it read before the bad request,
// and the express lane does so too, so both paths give the same answer.
import type http from 'node:http';
import type { Socket } from 'node:net';

/** Node's own error replies (_http_server.js), byte for byte, by parser error code. */
const REPLIES: Readonly<Record<string, string>> = {
  HPE_HEADER_OVERFLOW: 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n',
  ERR_HTTP_REQUEST_TIMEOUT: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n',
};
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';

/** Requests whose responses are not finished yet, per connection. */
interface Pending {
  readonly requests: Map<http.IncomingMessage, http.ServerResponse>;
  onIdle: (() => void) | undefined;
}

export function installClientErrorReplies(server: http.Server): void {
  const pending = new WeakMap<Socket, Pending>();
  const refused = new WeakSet<Socket>();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const { socket } = req;
    let entry = pending.get(socket);
    if (!entry) {
      entry = { requests: new Map(), onIdle: undefined };
      pending.set(socket, entry);
    }
    const held = entry;
    held.requests.set(req, res);
    res.once('close', () => {
      held.requests.delete(req);
      if (held.requests.size === 0) held.onIdle?.();
    });
  });
  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    // The parser stays failed: later bytes raise the error again, and it is answered once.
    if (refused.has(socket)) return;
    refused.add(socket);
    const text = REPLIES[err.code ?? ''] ?? BAD_REQUEST;
    const entry = pending.get(socket);
    const isBusy = entry !== undefined && entry.requests.size > 0;
    // A request whose body was still arriving is the broken one itself: Node's answer (400, cut).
    let isBrokenInFlight = false;
    let hasReplyStarted = false;
    for (const [req, res] of entry?.requests ?? []) {
      if (!req.complete) isBrokenInFlight = true;
      if (res.headersSent) hasReplyStarted = true;
    }
    if (!err.code?.startsWith('HPE_') || isBrokenInFlight) {
      // A socket error, a timeout or a broken body: as Node does, a reply only when none has been
      // started, then the cut.
      if (socket.writable && !hasReplyStarted) socket.write(text);
      socket.destroy();
      return;
    }
    const reply = (): void => {
      if (socket.writable) socket.end(text, () => socket.destroy());
      else socket.destroy();
    };
    // A reply under way (or not yet begun) for a request read before the bad one goes out first.
    if (isBusy) entry.onIdle = reply;
    else reply();
  });
}
