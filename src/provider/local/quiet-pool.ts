// The full path's keep-alive connections to one function (an http-mode replica or an upstream
// URL): undici Clients, one request each at a time, handed out oldest-released first, and only
// after a connection has rested `quietMs` (gateway.upstreamQuietMs), as the express lane's pool does. undici already
// destroys a connection that receives bytes while idle and validates an idle socket for one loop
// turn before reusing it; the rest makes a function's late second reply land on an idle
// connection (destroyed, counted as idle_bytes) instead of being read as the next caller's answer.
// It also keeps the function's exec timeout (a request's headersTimeout) on its own clock: undici's
// headers timer ticks every half second, so a 500 ms timeout fired up to a second late.
import net from 'node:net';
import tls from 'node:tls';
import { Client, Dispatcher, errors } from 'undici';
import { DeadlineQueue, type Deadline, type DeadlineOwner } from '../../shared/deadline-queue.js';

const CONNECT_TIMEOUT_MS = 10_000;
/** Distinct exec timeouts per pool that share a deadline queue; requests with other values get a timer each. */
const MAX_DEADLINE_QUEUES = 8;

export interface QuietPoolOptions {
  /** Most connections to the function; past it requests wait for one. */
  readonly connections: number;
  readonly keepAliveTimeout?: number;
  /** A Unix socket to connect to instead of the origin's host and port. */
  readonly socketPath?: string;
  /** Opens each connection instead (a sandboxed replica: a socket connected inside it); wins over socketPath. */
  readonly dial?: () => Promise<net.Socket>;
  /** A released connection is not reused for this long (a new one is opened, up to `connections`). */
  readonly quietMs: number;
  /**
   * The function sent bytes no request asked for: on an idle connection (idle_bytes), or after a
   * complete reply in the same read (extra_bytes). undici destroys the connection either way.
   */
  readonly onStray?: (reason: StrayReason) => void;
}

export type StrayReason = 'idle_bytes' | 'extra_bytes';

/** What a runtime passes on to each of its pools. */
export type Pooling = Pick<QuietPoolOptions, 'onStray' | 'quietMs'>;

class Member {
  isBusy = false;
  releasedAt = 0;
  /** A reply completed and no read came after it: a destroy now was undici's parser finding more bytes. */
  hasJustCompleted = false;
  /** A request went out and no byte of its reply has been passed to undici yet. */
  isAwaitingReply = false;
  socket: net.Socket | undefined;
  constructor(readonly client: Client) {}
}

type Waiting = [Dispatcher.DispatchOptions, Dispatcher.DispatchHandler];

export class QuietPool extends Dispatcher {
  private readonly idle: Member[] = [];
  private readonly members: Member[] = [];
  private readonly waiting: Waiting[] = [];
  /** One deadline queue per exec timeout in use (a function's, or shortened by X-Timeout). */
  private readonly deadlines = new Map<number, DeadlineQueue>();
  private isClosed = false;

  constructor(
    private readonly origin: string,
    private readonly options: QuietPoolOptions,
  ) {
    super();
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.isClosed) {
      handler.onError?.(Object.assign(new Error('the function\'s connection pool is closed'), { code: 'UND_ERR_CLOSED' }));
      return false;
    }
    const member = this.take();
    if (member) this.run(member, opts, handler);
    else this.waiting.push([opts, handler]);
    return true;
  }

  override close(): Promise<void> {
    this.isClosed = true;
    const err = Object.assign(new Error('the function\'s connection pool is closed'), { code: 'UND_ERR_CLOSED' });
    for (const [, handler] of this.waiting.splice(0)) handler.onError?.(err);
    return Promise.all(this.members.map((m) => m.client.close())).then(() => undefined);
  }

  override destroy(): Promise<void> {
    this.isClosed = true;
    const err = Object.assign(new Error('the function\'s connection pool was destroyed'), { code: 'UND_ERR_DESTROYED' });
    for (const [, handler] of this.waiting.splice(0)) handler.onError?.(err);
    return Promise.all(this.members.map((m) => m.client.destroy(err))).then(() => undefined);
  }

  /** The oldest rested idle connection, else a new one, else (at the cap) the oldest idle one. */
  private take(): Member | undefined {
    const { idle } = this;
    if (idle.length > 0 && (performance.now() - idle[0].releasedAt >= this.options.quietMs || this.members.length >= this.options.connections)) return idle.shift();
    if (this.members.length >= this.options.connections) return undefined;
    const member: Member = new Member(
      new Client(this.origin, {
        pipelining: 1,
        keepAliveTimeout: this.options.keepAliveTimeout,
        connect: (connectOptions, callback) => {
          const isTls = connectOptions.protocol === 'https:';
          const where = { host: connectOptions.hostname, port: Number(connectOptions.port || (isTls ? 443 : 80)), noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 };
          const { socketPath, dial } = this.options;
          if (dial) {
            dial().then(
              (socket) => {
                socket.setNoDelay(true);
                socket.setKeepAlive(true, 60_000);
                member.socket = socket;
                watchIdleBytes(socket, member, this.options.onStray);
                callback(null, socket);
              },
              (err: Error) => callback(err, null),
            );
            return;
          }
          let socket: net.Socket;
          if (socketPath !== undefined) socket = net.connect({ path: socketPath, noDelay: true });
          else if (isTls) socket = tls.connect({ ...where, servername: connectOptions.servername ?? (net.isIP(where.host) ? undefined : where.host), ALPNProtocols: ['http/1.1'] });
          else socket = net.connect(where);
          member.socket = socket;
          watchIdleBytes(socket, member, this.options.onStray);
          // undici's own connector gives up after 10 s; so does this one.
          socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(Object.assign(new Error(`connect timeout after ${CONNECT_TIMEOUT_MS}ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' })));
          let isSettled = false;
          socket.once(isTls && socketPath === undefined ? 'secureConnect' : 'connect', () => {
            isSettled = true;
            socket.setTimeout(0);
            callback(null, socket);
          });
          socket.once('error', (err) => {
            if (isSettled) return;
            isSettled = true;
            callback(err, null);
          });
        },
      }),
    );
    const { onStray } = this.options;
    if (onStray) {
      member.client.on('disconnect', (_origin: URL, _targets: unknown, err: Error & { code?: string }) => {
        // undici's "bad response" (bytes after the reply's end, in the read that held the reply) is a
        // SocketError on a socket that saw no EOF; its reset after a reply that asked to close is an
        // informational error.
        if (!member.isBusy && member.hasJustCompleted && err?.code === 'UND_ERR_SOCKET' && member.socket?.readableEnded === false) onStray('extra_bytes');
        member.hasJustCompleted = false;
      });
    }
    this.members.push(member);
    return member;
  }

  /**
   * A request's headersTimeout is the function's exec timeout: kept here, to the millisecond, from the
   * moment the request goes out (restarted while its body is still being sent, as undici does) until
   * the reply's head. undici's own headers timer is turned off; its bodyTimeout (each pause in the
   * reply's body) stays.
   */
  private run(member: Member, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void {
    member.isBusy = true;
    member.isAwaitingReply = true;
    const timeoutMs = opts.headersTimeout ?? 0;
    const releasing = new ReleasingHandler(handler, (isComplete) => this.release(member, isComplete), timeoutMs, timeoutMs > 0 ? this.deadlinesFor(timeoutMs) : undefined);
    member.client.dispatch(timeoutMs > 0 ? { ...opts, headersTimeout: 0 } : opts, releasing);
    releasing.startClock();
  }

  private deadlinesFor(timeoutMs: number): DeadlineQueue | undefined {
    let queue = this.deadlines.get(timeoutMs);
    if (!queue && this.deadlines.size < MAX_DEADLINE_QUEUES) {
      queue = new DeadlineQueue(timeoutMs);
      this.deadlines.set(timeoutMs, queue);
    }
    return queue;
  }

  private release(member: Member, isComplete: boolean): void {
    member.isBusy = false;
    member.isAwaitingReply = false;
    member.hasJustCompleted = isComplete;
    member.releasedAt = performance.now();
    if (this.isClosed) return;
    this.idle.push(member);
    const next = this.waiting.shift();
    if (!next) return;
    const free = this.take();
    if (free) this.run(free, next[0], next[1]);
    else this.waiting.unshift(next);
  }
}

/**
 * Sits between the socket and undici, which reads it with read(): counts bytes read while the
 * connection carries no request (undici then destroys it), and drops interim 1xx replies (other
 * than 101) at the start of a reply. undici (7.30) destroys a connection that answers 100 Continue
 * to a request without Expect, where RFC 9110 §15.2 asks a client to skip any 1xx it did not
 * expect, as the express lane does; dropping them here gives both paths the same answer. Only a
 * strictly formed interim head is dropped; anything else reaches undici's parser as it came.
 */
function watchIdleBytes(socket: net.Socket, member: Member, onStray: ((reason: StrayReason) => void) | undefined): void {
  const read = socket.read.bind(socket);
  let isReported = false;
  let held: Buffer | undefined;
  socket.read = (size?: number) => {
    let chunk = read(size) as Buffer | null;
    if (chunk !== null) member.hasJustCompleted = false;
    if (chunk !== null && chunk.length > 0 && !member.isBusy && !isReported && onStray) {
      isReported = true;
      onStray('idle_bytes');
    }
    if (!member.isAwaitingReply || !member.isBusy || chunk === null) return chunk;
    if (held) {
      chunk = Buffer.concat([held, chunk]);
      held = undefined;
    }
    for (;;) {
      const interim = interimHeadLength(chunk);
      if (interim > 0) {
        chunk = chunk.subarray(interim);
        if (chunk.length > 0) continue;
        return null;
      }
      if (interim === 0) {
        // Perhaps the start of an interim head: wait for the rest (undici reads again on the next data).
        held = chunk;
        return null;
      }
      member.isAwaitingReply = false;
      return chunk;
    }
  };
}

const INTERIM_PREFIX = 'HTTP/1.1 1';
/** A whole interim head: 1xx other than 101, then strictly formed field lines. */
const INTERIM_HEAD = /^HTTP\/1\.[01] 1(?:0[02-9]|[1-9]\d)(?: [^\x00-\x08\x0a-\x1f\x7f]*)?\r\n(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\x00-\x08\x0a-\x1f\x7f]*\r\n)*\r\n/;
const MAX_INTERIM_HEAD_BYTES = 16 * 1024;

/** The length of a whole interim head at the start of `data`; 0 when more bytes may make one; -1 when it is none. */
function interimHeadLength(data: Buffer): number {
  const start = data.toString('latin1', 0, Math.min(data.length, INTERIM_PREFIX.length));
  // "HTTP/1.0 1" as well: compare all but the minor version digit.
  const isPrefix = [...start].every((c, i) => c === INTERIM_PREFIX[i] || (i === 7 && c === '0'));
  if (!isPrefix) return -1;
  if (start.length < INTERIM_PREFIX.length) return 0;
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) {
    const lf = data.indexOf(0x0a);
    const hasBareLf = lf !== -1 && (lf === 0 || data[lf - 1] !== 0x0d);
    return data.length < MAX_INTERIM_HEAD_BYTES && !hasBareLf ? 0 : -1;
  }
  const match = INTERIM_HEAD.exec(data.toString('latin1', 0, end + 4));
  return match ? match[0].length : -1;
}

/**
 * undici's (legacy) handler interface, passed through, with `onSettled` called once when the request
 * is over, and the exec timeout: past it before the reply's head, the request is aborted with
 * undici's HeadersTimeoutError (which the provider's edge translates to 504 E_FUNCTION_TIMEOUT).
 */
class ReleasingHandler implements Dispatcher.DispatchHandler, DeadlineOwner {
  private isSettled = false;
  private abortFn: ((err?: Error) => void) | undefined;
  /** Queued while the clock runs (awaiting the reply's head). */
  private deadline: Deadline | undefined;
  /** The clock's own timer when no shared queue serves this timeout. */
  private timer: NodeJS.Timeout | undefined;
  private isTimedOut = false;

  constructor(
    private readonly inner: Dispatcher.DispatchHandler,
    private readonly onSettled: (isComplete: boolean) => void,
    private readonly timeoutMs: number,
    private readonly deadlines: DeadlineQueue | undefined,
  ) {}

  /** Starts (or restarts) the exec timeout's clock. */
  startClock(): void {
    if (this.timeoutMs <= 0 || this.isSettled || this.isTimedOut) return;
    if (this.deadlines) {
      if (this.deadline) this.deadlines.remove(this.deadline);
      this.deadline = this.deadlines.add(this);
    } else {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.onDeadline(), this.timeoutMs);
    }
  }

  private stopClock(): void {
    if (this.deadline) {
      this.deadlines?.remove(this.deadline);
      this.deadline = undefined;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** The exec timeout passed with no reply head (DeadlineOwner). */
  onDeadline(): void {
    this.deadline = undefined;
    this.timer = undefined;
    if (this.isSettled) return;
    this.isTimedOut = true;
    // Before undici has handed over its abort (still connecting), onConnect aborts at once.
    this.abortFn?.(new errors.HeadersTimeoutError());
  }

  private settle(isComplete = false): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.stopClock();
    this.onSettled(isComplete);
  }

  onConnect(abort: (err?: Error) => void, context?: object): void {
    this.abortFn = abort;
    // undici passes a context the typings leave out; request()'s own handler reads it.
    const inner = this.inner as { onConnect?(abort: (err?: Error) => void, context?: object): void };
    inner.onConnect?.(abort, context);
    if (this.isTimedOut) abort(new errors.HeadersTimeoutError());
  }

  onResponseStarted(): void {
    this.inner.onResponseStarted?.();
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode >= 200) this.stopClock();
    return this.inner.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }

  onData(chunk: Buffer): boolean {
    return this.inner.onData?.(chunk) ?? true;
  }

  onComplete(trailers: string[] | null): void {
    this.settle(true);
    this.inner.onComplete?.(trailers);
  }

  onError(err: Error): void {
    this.settle();
    this.inner.onError?.(err);
  }

  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: import('node:stream').Duplex): void {
    this.settle();
    this.inner.onUpgrade?.(statusCode, headers, socket);
  }

  onBodySent(chunkSize: number, totalBytesSent: number): void {
    // A request body still going out: the function has not had all of it yet.
    if (this.deadline || this.timer) this.startClock();
    this.inner.onBodySent?.(chunkSize, totalBytesSent);
  }

  onRequestSent(): void {
    if (this.deadline || this.timer) this.startClock();
    (this.inner as { onRequestSent?(): void }).onRequestSent?.();
  }
}
