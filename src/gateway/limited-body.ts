// A request body without a Content-Length (chunked) cannot be refused up front: it is passed to
// the function through this counter, which stops it at FAASQ_MAX_BODY. Bodies with a length are
// checked before the call starts and need no counting (Node's parser holds them to their length).
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
