// Finds where a chunked body ends (RFC 9112 §7.1) without decoding it: the express lane passes a
// function's chunked reply through byte for byte and only needs to know when the message is over,
// so the connection to the function can be reused.

const enum State {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  TrailerName,
  TrailerValue,
  TrailerLf,
  FinalLf,
  Done,
}

/** Longest chunk-size line accepted (hex digits plus extensions). */
const MAX_SIZE_LINE = 4096;
/** Largest chunk size accepted: 2^48 bytes, far past any body, and still exact as a number. */
const MAX_SIZE_DIGITS = 12;

export class ChunkedScanner {
  private state = State.Size;
  private remaining = 0;
  private digits = 0;
  private hasDigit = false;
  private lineLength = 0;

  get isDone(): boolean {
    return this.state === State.Done;
  }

  /**
   * Scans `chunk` from `start`; returns the offset just past the body's end when it ends inside
   * this chunk, -1 when more is needed, and throws on malformed framing.
   */
  scan(chunk: Buffer, start = 0): number {
    let i = start;
    const n = chunk.length;
    while (i < n) {
      const byte = chunk[i];
      switch (this.state) {
        case State.Size: {
          const value = hexValue(byte);
          if (value >= 0) {
            // Leading zeros carry no size (llhttp takes any number of them); the rest are counted.
            if ((this.remaining > 0 || value > 0) && ++this.digits > MAX_SIZE_DIGITS) throw new Error('chunk size too large');
            this.remaining = this.remaining * 16 + value;
            this.hasDigit = true;
          } else if (!this.hasDigit) {
            throw new Error('chunk size expected');
          } else if (byte === 0x0d) {
            this.state = State.SizeLf;
          } else if (byte === 0x3b || byte === 0x20 || byte === 0x09) {
            this.state = State.Extension;
          } else {
            throw new Error('invalid chunk size');
          }
          this.lineLength += 1;
          break;
        }
        case State.Extension:
          if (byte === 0x0d) this.state = State.SizeLf;
          else if (byte === 0x0a || byte < 0x09 || (byte > 0x0d && byte < 0x20) || byte === 0x7f) throw new Error('invalid chunk extension');
          if (++this.lineLength > MAX_SIZE_LINE) throw new Error('chunk size line too long');
          break;
        case State.SizeLf:
          if (byte !== 0x0a) throw new Error('CRLF expected after chunk size');
          this.digits = 0;
          this.hasDigit = false;
          this.lineLength = 0;
          this.state = this.remaining === 0 ? State.TrailerStart : State.Data;
          break;
        case State.Data: {
          const take = Math.min(this.remaining, n - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.state = State.DataCr;
          continue;
        }
        case State.DataCr:
          if (byte !== 0x0d) throw new Error('CRLF expected after chunk data');
          this.state = State.DataLf;
          break;
        case State.DataLf:
          if (byte !== 0x0a) throw new Error('CRLF expected after chunk data');
          this.state = State.Size;
          break;
        case State.TrailerStart:
          // An empty line ends the message; anything else starts a trailer field (name ":" value).
          if (byte === 0x0d) this.state = State.FinalLf;
          else if (isTokenByte(byte)) {
            this.state = State.TrailerName;
            this.lineLength = 1;
          } else throw new Error('invalid trailer field');
          break;
        case State.TrailerName:
          if (byte === 0x3a) this.state = State.TrailerValue;
          else if (!isTokenByte(byte)) throw new Error('invalid trailer field name');
          if (++this.lineLength > MAX_SIZE_LINE) throw new Error('trailer line too long');
          break;
        case State.TrailerValue:
          if (byte === 0x0d) this.state = State.TrailerLf;
          else if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f) throw new Error('invalid trailer field value');
          if (++this.lineLength > MAX_SIZE_LINE) throw new Error('trailer line too long');
          break;
        case State.TrailerLf:
          if (byte !== 0x0a) throw new Error('CRLF expected after trailer');
          this.state = State.TrailerStart;
          break;
        case State.FinalLf:
          if (byte !== 0x0a) throw new Error('CRLF expected at end of chunked body');
          this.state = State.Done;
          return i + 1;
        case State.Done:
          return i;
      }
      i += 1;
    }
    return -1;
  }
}

/** tchar (RFC 9110 §5.6.2). */
function isTokenByte(byte: number): boolean {
  if ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)) return true;
  return byte < 0x7f && byte > 0x20 && "!#$%&'*+-.^_`|~".includes(String.fromCharCode(byte));
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
