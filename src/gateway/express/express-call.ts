// One sync call on the express lane: the caller's request (head already parsed, body already read)
// goes to the function over a pooled keep-alive socket, and the function's reply comes back with
// its framing untouched (Content-Length counted, chunked scanned, or read to close). The call
// headers, timeout, admission slot, events and request log are the same as on the Node path
// (sync-invoke.ts); only the transport differs.
import http, { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { DirectRoute } from '../../provider/index.js';
import { FaasqError, isFaasqError } from '../../shared/errors.js';
import type { Deadline, DeadlineOwner, DeadlineQueue } from '../../shared/deadline-queue.js';
import { HOP_BY_HOP, nowNs } from '../../shared/http.js';
import type { ConcurrencyLimiter } from '../concurrency-limiter.js';
import { errorReply } from '../reply.js';
import { ChunkedScanner } from './chunked-scanner.js';
import { fieldOf, hasBareLineEnd, joinedFieldOf, parseResponseHead, type RequestHead, type ResponseHead } from './http1-head.js';
import type { LaneContext } from './lane-context.js';
import type { AnomalyReason } from '../upstream-anomaly.js';
import type { UpstreamConnection, UpstreamOwner } from './upstream-pool.js';

/** What the call needs from the caller's connection. */
export interface CallerConnection {
  readonly remoteAddress: string | undefined;
  /** The caller asked to close after this reply. */
  readonly isCloseRequested: boolean;
  write(data: string | Buffer, encoding?: BufferEncoding): boolean;
  /** The reply is complete: the connection may serve the next request (or close when `isClosing`). */
  onCallDone(isClosing: boolean): void;
  /** Cuts the caller's connection (a reply that broke after its head went out). */
  destroy(): void;
}

/** What the lane found out about the request before committing it to this lane. */
export interface CallTarget {
  readonly fn: string;
  readonly namespace: string;
  /** Path after the function name, starting with "/", and the query with its "?" (or ""). */
  readonly pathAndQuery: string;
  readonly route: DirectRoute;
  readonly limiter: ConcurrencyLimiter | undefined;
}

/** The route of a call answered without one (ExpressCall.reject): nothing to release. */
export const NO_ROUTE: DirectRoute = { host: '', port: 0, authority: '', pathPrefix: '', execTimeoutMs: 0, release: () => undefined };

/**
 * A reply head from the function may not be larger than this: Node's default maxHeaderSize, which
 * undici applies to replies on the full path, so both paths refuse the same heads.
 */
const MAX_RESPONSE_HEAD_BYTES = http.maxHeaderSize;
const CRLF2 = Buffer.from('\r\n\r\n');
/** A reply body part up to this size goes out in one string with the reply head (one write instead of a writev). */
const MAX_JOINED_BODY_BYTES = 16 * 1024;
/** Methods RFC 9110 calls idempotent: retried once when a reused connection died before any reply. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Reply headers the gateway sets itself. */
const OWN_HEADERS = new Set(['x-call-id', 'x-start-time', 'x-duration-seconds']);

const enum Phase {
  AwaitHead,
  Body,
  Done,
}

export class ExpressCall implements UpstreamOwner, DeadlineOwner {
  private readonly callId: string;
  private readonly startNs: string;
  private readonly startedAt = performance.now();
  private readonly requestBytes: string;
  private upstream: UpstreamConnection | undefined;
  private phase = Phase.AwaitHead;
  private pending: Buffer | undefined;
  private reply: ResponseHead | undefined;
  private status = 0;
  /** Body bytes still owed under Content-Length; -1 when framed otherwise. */
  private remaining = -1;
  private scanner: ChunkedScanner | undefined;
  private isReadToClose = false;
  /** The function's connection may serve another call after this reply. */
  private isReusable = true;
  private isClosing = false;
  /** The current connection to the function had served a call before this one. */
  private wasReused = false;
  private hasRetried = false;
  /** The request went out on the current connection. */
  private isSent = false;
  private deadline: Deadline | undefined;
  private deadlines: DeadlineQueue | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly timeoutMs: number;

  constructor(
    private readonly lane: LaneContext,
    private readonly caller: CallerConnection,
    private readonly head: RequestHead,
    private readonly body: Buffer | undefined,
    private readonly target: CallTarget,
  ) {
    const given = fieldOf(head, 'x-call-id');
    this.callId = given !== undefined && given !== '' ? given : lane.newCallId();
    this.startNs = nowNs();
    this.timeoutMs = lane.timeoutFor(target.route, fieldOf(head, 'x-timeout'));
    this.requestBytes = this.requestHead();
  }

  /** Answers `err` without calling the function (no replica became ready): counted like any call. */
  reject(err: unknown): void {
    this.lane.events.emit('invocation.started', { fn: this.target.fn, namespace: this.target.namespace });
    this.fail(isFaasqError(err) ? err : new FaasqError('E_FUNCTION_UNREACHABLE', `cannot reach function ${this.target.fn}.${this.target.namespace}`, { cause: err }));
  }

  /** Sends the request on `upstream`, a connection already leased to this call. */
  start(upstream: UpstreamConnection): void {
    const { lane, target } = this;
    lane.events.emit('invocation.started', { fn: target.fn, namespace: target.namespace });
    this.deadlines = lane.deadlinesFor(this.timeoutMs);
    if (this.deadlines) this.deadline = this.deadlines.add(this);
    else if (this.timeoutMs > 0) this.timer = setTimeout(() => this.onDeadline(), this.timeoutMs);
    this.send(upstream);
  }

  get fnLabel(): string {
    return `${this.target.fn}.${this.target.namespace}`;
  }

  private send(upstream: UpstreamConnection): void {
    this.upstream = upstream;
    this.wasReused = upstream.isReused;
    this.isSent = false;
    // A reused connection is written to one loop turn later: bytes the function sent after its last
    // reply that are already waiting to be read then find it idle (and destroy it) instead of
    // being taken for this call's answer. undici validates an idle socket the same way.
    if (upstream.isReused) setImmediate(() => this.write(upstream));
    else this.write(upstream);
  }

  private write(upstream: UpstreamConnection): void {
    if (this.upstream !== upstream || this.phase !== Phase.AwaitHead || !upstream.isAlive) return;
    this.isSent = true;
    // One string, one write(2): lane bodies are small, and a writev of two parts measured slower.
    upstream.write(this.body ? this.requestBytes + this.body.toString('latin1') : this.requestBytes);
  }

  /** The function broke framing: its connection goes, and the event is counted and logged. */
  private anomaly(reason: AnomalyReason): void {
    this.lane.deps.anomalies.report(this.fnLabel, 'express', reason);
  }

  /** The request head for the function: the caller's fields minus hop-by-hop ones, plus the call headers. */
  private requestHead(): string {
    const { head, target, caller } = this;
    const { route } = target;
    let text = `${head.method} ${route.pathPrefix}${target.pathAndQuery} HTTP/1.1\r\nHost: ${route.authority}\r\n`;
    let forwardedFor = '';
    let hasForwardedHost = false;
    let hasForwardedProto = false;
    let host: string | undefined;
    const { names, lowerNames, values, connection } = head;
    for (let i = 0; i < names.length; i += 1) {
      const lower = lowerNames[i];
      if (lower === 'host') {
        host ??= values[i];
        continue;
      }
      if (HOP_BY_HOP.has(lower) || lower === 'x-call-id' || lower === 'x-start-time' || (connection.length > 0 && connection.includes(lower))) continue;
      // faasq's own credentials stop here (as on the full path): the function never sees them.
      if (lower === 'authorization' && this.lane.deps.isGatewayCredential(values[i])) continue;
      if (lower === 'x-forwarded-for') {
        // Joined as Node joins repeats, then the caller's address appended (below): one field, as on the full path.
        if (values[i] !== '') forwardedFor = forwardedFor === '' ? values[i] : `${forwardedFor}, ${values[i]}`;
        continue;
      }
      if (lower === 'x-forwarded-host') hasForwardedHost = true;
      else if (lower === 'x-forwarded-proto') hasForwardedProto = true;
      text += `${names[i]}: ${values[i]}\r\n`;
    }
    text += `X-Call-Id: ${this.callId}\r\nX-Start-Time: ${this.startNs}\r\n`;
    if (caller.remoteAddress) text += `X-Forwarded-For: ${forwardedFor === '' ? caller.remoteAddress : `${forwardedFor}, ${caller.remoteAddress}`}\r\n`;
    else if (forwardedFor !== '') text += `X-Forwarded-For: ${forwardedFor}\r\n`;
    if (!hasForwardedHost && host) text += `X-Forwarded-Host: ${host}\r\n`;
    if (!hasForwardedProto) text += 'X-Forwarded-Proto: http\r\n';
    return `${text}\r\n`;
  }

  // --- UpstreamOwner ---
  onUpstreamData(chunk: Buffer): void {
    if (this.phase === Phase.Body) return this.forwardBody(chunk, 0);
    if (this.phase === Phase.Done) return;
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    this.readHead(data);
  }

  onUpstreamGone(err: Error | undefined): void {
    this.upstream = undefined;
    if (this.phase === Phase.Done) return;
    if (this.phase === Phase.Body) {
      // A reply read to the close ends here; any other reply was cut short.
      if (this.isReadToClose && err === undefined) return this.finish();
      this.anomaly('truncated');
      this.caller.destroy();
      return this.finish();
    }
    if (!this.isSent && !this.hasRetried) {
      // The connection died (or was dropped for stray bytes) before the request went out: nothing
      // reached the function, so any method may go on a new one.
      this.hasRetried = true;
      const fresh = this.lane.pool.lease(this.target.route, this);
      if (fresh) return this.send(fresh);
    }
    if (this.pending === undefined && !this.hasRetried && this.wasReused && IDEMPOTENT.has(this.head.method)) {
      // The function closed an idle connection just as this call took it: one retry on a new one.
      this.hasRetried = true;
      const fresh = this.lane.pool.lease(this.target.route, this);
      if (fresh) return this.send(fresh);
    }
    this.fail(new FaasqError('E_FUNCTION_UNREACHABLE', `function "${this.target.fn}" is unreachable`, { cause: err }));
  }

  /** Parses the reply head (skipping 1xx interim ones) and starts the body. */
  private readHead(data: Buffer): void {
    for (;;) {
      const end = data.indexOf(CRLF2);
      if (end === -1) {
        if (data.length > MAX_RESPONSE_HEAD_BYTES) return this.fail(this.badReply('its reply head is too large', 'head_too_large'));
        if (hasBareLineEnd(data)) return this.fail(this.badReply('its reply is not valid HTTP/1.1', 'bad_head'));
        this.pending = data;
        return;
      }
      if (end > MAX_RESPONSE_HEAD_BYTES) return this.fail(this.badReply('its reply head is too large', 'head_too_large'));
      const reply = parseResponseHead(data.toString('latin1', 0, end));
      if (!reply) return this.fail(this.badReply('its reply is not valid HTTP/1.1', 'bad_head'));
      const rest = end + 4;
      if (reply.status >= 200) return this.startBody(reply, data, rest);
      if (reply.status === 101) return this.fail(this.badReply('it switched protocols', 'switched_protocols'));
      data = data.subarray(rest); // 100 Continue, 103 Early Hints: not forwarded
    }
  }

  private badReply(why: string, reason: AnomalyReason): FaasqError {
    this.anomaly(reason);
    return new FaasqError('E_FUNCTION_UNREACHABLE', `function "${this.target.fn}" failed: ${why}`);
  }

  private startBody(reply: ResponseHead, data: Buffer, offset: number): void {
    this.reply = reply;
    this.status = reply.status;
    const hasNoBody = this.head.method === 'HEAD' || reply.status === 204 || reply.status === 304;
    if (hasNoBody) this.remaining = 0;
    else if (reply.isChunked) this.scanner = new ChunkedScanner();
    else if (reply.hasTransferEncoding || reply.contentLength === -1) this.isReadToClose = true;
    else this.remaining = reply.contentLength;
    this.isReusable = reply.minorVersion === 1 ? !reply.connection.includes('close') : reply.connection.includes('keep-alive');
    this.isClosing = this.isReadToClose || this.caller.isCloseRequested || !this.lane.isAccepting();
    this.phase = Phase.Body;
    this.forwardBody(data, offset, this.replyHead(reply));
  }

  /** The reply head for the caller: the function's fields minus hop-by-hop ones (framing kept), plus the call headers. */
  private replyHead(reply: ResponseHead): string {
    let text = `HTTP/1.1 ${reply.status} ${reply.reason}\r\n`;
    let hasDate = false;
    const { names, lowerNames, values, connection } = reply;
    for (let i = 0; i < names.length; i += 1) {
      const lower = lowerNames[i];
      if (lower === 'transfer-encoding' || lower === 'content-length') {
        text += `${names[i]}: ${values[i]}\r\n`;
        continue;
      }
      if (HOP_BY_HOP.has(lower) || OWN_HEADERS.has(lower) || (connection.length > 0 && connection.includes(lower))) continue;
      if (lower === 'date') hasDate = true;
      text += `${names[i]}: ${values[i]}\r\n`;
    }
    const seconds = ((performance.now() - this.startedAt) / 1000).toFixed(6);
    text += `X-Duration-Seconds: ${seconds}\r\nX-Call-Id: ${this.callId}\r\nX-Start-Time: ${this.startNs}\r\n`;
    if (!hasDate) text += `Date: ${this.lane.date.now()}\r\n`;
    if (this.isClosing) text += 'Connection: close\r\n';
    return `${text}\r\n`;
  }

  /** Passes body bytes (after `head`, the reply head, on the first call) to the caller until the reply's framing says it is over. */
  private forwardBody(chunk: Buffer, offset: number, head?: string): void {
    let end = chunk.length;
    let isOver = false;
    if (this.scanner) {
      let at: number;
      try {
        at = this.scanner.scan(chunk, offset);
      } catch {
        this.anomaly('bad_chunk');
        this.upstream?.discard();
        this.upstream = undefined;
        this.caller.destroy();
        return this.finish();
      }
      if (at !== -1) {
        end = at;
        isOver = true;
      }
    } else if (this.remaining >= 0) {
      end = Math.min(chunk.length, offset + this.remaining);
      this.remaining -= end - offset;
      isOver = this.remaining === 0;
    }
    let isFlowing = true;
    if (head !== undefined && end - offset <= MAX_JOINED_BODY_BYTES) {
      isFlowing = this.caller.write(end > offset ? head + chunk.toString('latin1', offset, end) : head, 'latin1');
    } else {
      if (head !== undefined) this.caller.write(head, 'latin1');
      if (end > offset) isFlowing = this.caller.write(offset === 0 && end === chunk.length ? chunk : chunk.subarray(offset, end));
    }
    if (!isFlowing && !isOver) this.upstream?.pause();
    if (!isOver) return;
    // Bytes past the reply's end mean the function is out of step with its own framing.
    if (end < chunk.length) this.anomaly('extra_bytes');
    if (end < chunk.length || !this.reply || !this.isReusable) this.upstream?.discard();
    else this.upstream?.release(fieldOf(this.reply, 'keep-alive'));
    this.upstream = undefined;
    this.finish();
  }

  /** The caller's socket drained: read on from the function. */
  onCallerDrain(): void {
    this.upstream?.resume();
  }

  /** The gateway's or the function's timeout (DeadlineOwner). */
  onDeadline(): void {
    this.deadline = undefined;
    this.timer = undefined;
    if (this.phase === Phase.Done) return;
    this.upstream?.discard();
    this.upstream = undefined;
    if (this.phase === Phase.Body) {
      this.caller.destroy();
      return this.finish();
    }
    this.fail(new FaasqError('E_FUNCTION_TIMEOUT', `function ${this.target.fn}.${this.target.namespace} did not answer within ${this.timeoutMs}ms`));
  }

  /** The caller left before the reply was complete. */
  onCallerGone(): void {
    if (this.phase === Phase.Done) return;
    this.upstream?.discard();
    this.upstream = undefined;
    this.status = 499; // nginx's "client closed request"
    this.finish();
  }

  /** An error reply, before any of the function's reply went out. */
  private fail(err: FaasqError): void {
    this.upstream?.discard();
    this.upstream = undefined;
    const reply = errorReply(err, joinedFieldOf(this.head, 'accept'));
    this.status = reply.status;
    this.isClosing = this.caller.isCloseRequested || !this.lane.isAccepting();
    let text = `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? ''}\r\n`;
    for (const name in reply.headers) text += `${name}: ${reply.headers[name]}\r\n`;
    text += `Content-Type: ${reply.contentType}\r\nContent-Length: ${Buffer.byteLength(reply.body)}\r\nX-Call-Id: ${this.callId}\r\nX-Start-Time: ${this.startNs}\r\nDate: ${this.lane.date.now()}\r\n`;
    if (this.isClosing) text += 'Connection: close\r\n';
    text += '\r\n';
    // The message may hold any character: the head goes out as latin1 bytes, the body as UTF-8.
    this.caller.write(this.head.method === 'HEAD' ? Buffer.from(text, 'latin1') : Buffer.concat([Buffer.from(text, 'latin1'), Buffer.from(reply.body, 'utf8')]));
    this.finish();
  }

  /** Releases everything the call held, writes its log line, and hands the connection back. */
  private finish(): void {
    if (this.phase === Phase.Done) return;
    this.phase = Phase.Done;
    const { lane, target } = this;
    if (this.deadline) this.deadlines?.remove(this.deadline);
    if (this.timer) clearTimeout(this.timer);
    target.route.release();
    const now = performance.now();
    const durationMs = now - this.startedAt;
    target.limiter?.release(durationMs);
    lane.events.emit('invocation.completed', { fn: target.fn, namespace: target.namespace, status: this.status, durationMs, callId: this.callId });
    // The line's fields are only built when it is written (a gateway at level warn skips it).
    if (lane.logger.isLevelEnabled('info')) lane.logger.info({ function: target.fn, namespace: target.namespace, status: this.status, durationMs: Math.round(durationMs * 1000) / 1000, callId: this.callId, method: this.head.method }, 'invocation');
    if (this.status !== 499) this.caller.onCallDone(this.isClosing);
  }
}
