// A raw HTTP/1.1 client on one TCP socket for tests where the wire matters (pipelining, exact
// bytes, Connection: close, framing): it writes whatever bytes it is given and parses the replies
// itself, strictly and in order, so a reply that is framed wrong shows up as a test failure.
import net from 'node:net';

export interface RawReply {
  readonly status: number;
  /** Lower-cased field names to their values, in order. */
  readonly headers: Map<string, string[]>;
  /** The reply head as received, without the final CRLF CRLF. */
  readonly rawHead: string;
  readonly body: Buffer;
  /** Trailer fields of a chunked reply (lower-cased names). */
  readonly trailers: Map<string, string[]>;
  /** Statuses of interim (1xx) replies received before this one. */
  readonly interim: number[];
}

const CRLF = Buffer.from('\r\n');
const CRLF2 = Buffer.from('\r\n\r\n');
const DEFAULT_TIMEOUT_MS = 5000;

export class RawClient {
  private buf: Buffer = Buffer.alloc(0);
  private isEnded = false;
  private wake: (() => void) | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.notify();
    });
    socket.on('end', () => {
      this.isEnded = true;
      this.notify();
    });
    socket.on('close', () => {
      this.isEnded = true;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  /** Connects to the http://host:port of `url`. */
  static connect(url: string): Promise<RawClient> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** The socket has ended or closed (the peer finished the connection). */
  get hasEnded(): boolean {
    return this.isEnded;
  }

  /** Bytes received and not yet consumed by readReply. */
  get unread(): Buffer {
    return this.buf;
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Reads the next reply; `isHeadRequest` when it answers a HEAD (no body whatever the head says). */
  async readReply(options: { isHeadRequest?: boolean; timeoutMs?: number } = {}): Promise<RawReply> {
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const interim: number[] = [];
    for (;;) {
      const headEnd = await this.until(() => {
        const at = this.buf.indexOf(CRLF2);
        return at === -1 ? undefined : at;
      }, deadline, 'a reply head');
      const rawHead = this.buf.toString('latin1', 0, headEnd);
      this.buf = this.buf.subarray(headEnd + 4);
      const lines = rawHead.split('\r\n');
      const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
      if (!match) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
      const status = Number(match[1]);
      const headers = fieldsOf(lines.slice(1));
      if (status < 200) {
        interim.push(status);
        continue;
      }
      const trailers = new Map<string, string[]>();
      let body: Buffer;
      const length = headers.get('content-length');
      if (options.isHeadRequest || status === 204 || status === 304) body = Buffer.alloc(0);
      else if (headers.get('transfer-encoding')?.at(-1)?.toLowerCase() === 'chunked') body = await this.readChunked(trailers, deadline);
      else if (length) {
        const n = Number(length[0]);
        await this.until(() => this.buf.length >= n || undefined, deadline, `${n} body bytes`);
        body = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
      } else {
        await this.until(() => this.isEnded || undefined, deadline, 'the close that ends the body');
        body = this.buf;
        this.buf = Buffer.alloc(0);
      }
      return { status, headers, rawHead, body, trailers, interim };
    }
  }

  /** Resolves when the peer has ended the connection. */
  async waitEnd(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.until(() => this.isEnded || undefined, Date.now() + timeoutMs, 'the connection to end');
  }

  close(): void {
    this.socket.destroy();
  }

  private async readChunked(trailers: Map<string, string[]>, deadline: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = await this.until(() => {
        const at = this.buf.indexOf(CRLF);
        return at === -1 ? undefined : at;
      }, deadline, 'a chunk size line');
      const size = parseInt(this.buf.toString('latin1', 0, lineEnd).split(';')[0], 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size line');
      this.buf = this.buf.subarray(lineEnd + 2);
      if (size === 0) break;
      await this.until(() => this.buf.length >= size + 2 || undefined, deadline, 'chunk data');
      parts.push(this.buf.subarray(0, size));
      if (this.buf[size] !== 0x0d || this.buf[size + 1] !== 0x0a) throw new Error('no CRLF after chunk data');
      this.buf = this.buf.subarray(size + 2);
    }
    for (;;) {
      const lineEnd = await this.until(() => {
        const at = this.buf.indexOf(CRLF);
        return at === -1 ? undefined : at;
      }, deadline, 'a trailer line');
      const line = this.buf.toString('latin1', 0, lineEnd);
      this.buf = this.buf.subarray(lineEnd + 2);
      if (line === '') break;
      for (const [name, values] of fieldsOf([line])) trailers.set(name, [...(trailers.get(name) ?? []), ...values]);
    }
    return Buffer.concat(parts);
  }

  /** Waits (on data and end events, not on a clock) until `ready` answers a value, or the deadline. */
  private async until<T>(ready: () => T | undefined, deadline: number, what: string): Promise<T> {
    for (;;) {
      const value = ready();
      if (value !== undefined) return value;
      if (this.isEnded) throw new Error(`connection ended while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private notify(): void {
    this.wake?.();
  }
}

function fieldsOf(lines: string[]): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad field line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return fields;
}

/** Runs `body` with a raw client connected to `url`, and closes the client however `body` ends. */
export async function withClient<T>(url: string, body: (client: RawClient) => Promise<T>): Promise<T> {
  const client = await RawClient.connect(url);
  try {
    return await body(client);
  } finally {
    client.close();
  }
}
