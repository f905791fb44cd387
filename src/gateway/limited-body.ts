// A request body without a Content-Length (chunked) cannot be refused up front: it is passed to
// the function through this counter, which stops it at FAASQ_MAX_BODY. Bodies with a length are
// checked before the call starts and need no counting (Node's parser holds them to their length).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { FaasqError } from '../shared/errors.js';

export function bodyTooLarge(maxBytes: number, declared?: number): FaasqError {
  const size = declared === undefined ? 'request body is' : `request body of ${declared} bytes is`;
  return new FaasqError('E_BODY_TOO_LARGE', `${size} over the limit of ${maxBytes} bytes (FAASQ_MAX_BODY)`, { detail: { maxBytes } });
}

export class LimitedBody extends Transform {
  private seen = 0;

  /** `onOverflow` runs once, before the stream is destroyed with E_BODY_TOO_LARGE. */
  constructor(private readonly maxBytes: number, private readonly onOverflow: (err: FaasqError) => void) {
    super();
    // The overflow is reported through onOverflow; the function's side may have stopped reading
    // already, so the stream's own error event must not become an uncaught exception.
    this.on('error', () => undefined);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.maxBytes) {
      const err = bodyTooLarge(this.maxBytes);
      this.onOverflow(err);
      return callback(err);
    }
    callback(null, chunk);
  }
}

/** How long a refused body is still read (and dropped) after the 413 before the connection is cut. */
const LINGER_MS = 2000;

/**
 * After a 413 the caller is usually still sending. Closing at once makes the kernel answer its
 * bytes with a reset, which can destroy the 413 before the caller reads it; so the rest of the body
 * is read and dropped for up to LINGER_MS (the connection stays usable if it ends in time), then
 * the connection is cut. Nothing is held: the bytes are discarded as they come.
 */
export function lingerAfterRefusal(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  if (req.complete) return;
  res.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => req.socket.destroy(), LINGER_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  });
}
