// A refusal (413 above all, but any answer given before the body was read) reaches a caller that is
// usually still sending. A socket closed with unread bytes makes the kernel answer with a reset,
// which can destroy the answer before the caller reads it, and makes a caller that is still writing
// fail on its write instead of reading (RFC 9112 §9.6). So the rest is read and dropped, within
// bounds a stranger cannot stretch, before the connection is cut.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a refused body is still read (and dropped) after the answer went out. */
export const LINGER_MS = 2000;
/** How many bytes of a refused body are read (and dropped) at most before the connection is cut. */
export const LINGER_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Call before answering `req` with a refusal. Whatever of its body is still arriving is dropped as it
 * comes. On a keep-alive connection the body may end in time (up to LINGER_MS and LINGER_MAX_BYTES)
 * and the connection stays usable; past either bound it is cut. On a connection that closes after the
 * answer (the caller sent `Connection: close`), Node's server would close the socket the moment the
 * answer is written: instead the gateway half-closes it (its FIN follows the answer) and reads on
 * until the caller closes too or a bound is reached, and only then cuts it.
 */
export function lingerAfterRefusal(req: IncomingMessage, res: ServerResponse): void {
  // Nobody takes the rest of the body now (a pipe into the function, stopped, would hold it back).
  req.unpipe();
  req.resume();
  if (req.complete) return;
  const { socket } = req;
  let dropped = 0;
  let timer: NodeJS.Timeout | undefined;
  const cut = (): void => {
    if (timer) clearTimeout(timer);
    socket.destroy();
  };
  const arm = (): void => {
    timer ??= setTimeout(cut, LINGER_MS);
    timer.unref();
  };
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_MAX_BYTES) cut();
  });
  socket.once('close', () => {
    if (timer) clearTimeout(timer);
  });
  // Node's server ends a connection it will not reuse with socket.destroySoon() once the answer is
  // written (resOnFinish in _http_server.js). For this answer that becomes a lingering close; the
  // socket's own method is back once the answer is done, so later requests are not affected.
  socket.destroySoon = (): void => {
    if (socket.writable) socket.end();
    // The timer stays armed after the body ends: a caller that never closes its side is cut too.
    arm();
  };
  res.once('close', () => {
    delete (socket as { destroySoon?: unknown }).destroySoon;
  });
  res.once('finish', () => {
    if (req.complete) return;
    arm();
    // Keep-alive: a body that ends in time leaves the connection usable.
    req.once('end', () => {
      if (socket.writable && timer) {
        clearTimeout(timer);
        timer = undefined;
      }
    });
  });
}
