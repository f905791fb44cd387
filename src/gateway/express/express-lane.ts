// The express lane: the gateway's sync hot path on raw sockets. It takes the HTTP server's
// connections first and serves the requests it fully understands (a strict HTTP/1.1 head, a
// `/function/` target, a small body already read, a function reachable directly) with its own
// parser and a pooled connection to the function, at about half the CPU of Node's http server
// plus undici (bench/RESULTS.md). Any other request hands the connection, unread bytes included,
// to Node's server for the rest of its life: async calls, large or chunked bodies, the system
// API, upgrades, malformed input and every error that needs the full path all go there.
import type http from 'node:http';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { FaasqError } from '../../shared/errors.js';
import { ExpressCall, NO_ROUTE, type CallTarget, type CallerConnection } from './express-call.js';
import { NotDirectError, targetOf, type HandOffReason, type PendingTarget } from './call-target.js';
import { hasBareLineEnd, parseRequestHead, type RequestHead } from './http1-head.js';
import { LaneContext, type LaneDeps } from './lane-context.js';

export interface ExpressLane {
  /** Draining: idle connections close now, busy ones after their reply. */
  close(): void;
  /** Cuts every connection the lane still holds (the grace period is over). */
  destroyAll(): void;
}

const CRLF2 = Buffer.from('\r\n\r\n');
/** Request bodies up to this size are served on the lane (read whole, as the Node path does). */
export const MAX_LANE_BODY_BYTES = 64 * 1024;
const SWEEP_INTERVAL_MS = 1000;
/** How long a request may take to arrive whole before the connection goes to Node's server (checked each sweep). */
const ASSEMBLY_MS = 2000;

/**
 * Puts the lane in front of `server`: connections reach it first, and the ones it gives up on reach
 * the server's own connection handling, exactly as if they had just been accepted.
 */
export function installExpressLane(server: http.Server, deps: LaneDeps): ExpressLane {
  const nodeListeners = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  const lane = new LaneContext(deps);
  const connections = new Set<LaneConnection>();
  let isClosing = false;
  const handOff = (socket: net.Socket): void => {
    for (const listener of nodeListeners) listener.call(server, socket);
  };
  server.on('connection', (socket: net.Socket) => {
    if (isClosing) {
      deps.events.emit('gateway.handoff', { reason: 'closing' });
      return handOff(socket);
    }
    connections.add(new LaneConnection(socket, lane, handOff, (conn) => connections.delete(conn)));
  });
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const conn of connections) {
      conn.closeIfIdle(now - server.keepAliveTimeout);
      conn.handOffIfStalled(now - ASSEMBLY_MS);
    }
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();
  return {
    close() {
      isClosing = true;
      clearInterval(sweeper);
      for (const conn of connections) conn.closeIfIdle(Infinity);
      lane.close();
    },
    destroyAll() {
      for (const conn of connections) conn.socket.destroy();
    },
  };
}

class LaneConnection implements CallerConnection {
  readonly remoteAddress: string | undefined;
  isCloseRequested = false;
  private buffered: Buffer | undefined;
  private call: ExpressCall | undefined;
  private idleSince = performance.now();
  /** When the request at the head of `buffered` started arriving incomplete (0: none is). */
  private partialSince = 0;
  private isEnded = false;
  private isDone = false;
  /** Set while the request at the head of `buffered` waits for an admission slot or a ready replica. */
  private waiting: AbortController | undefined;

  constructor(
    readonly socket: net.Socket,
    private readonly lane: LaneContext,
    private readonly handOffTo: (socket: net.Socket) => void,
    private readonly forget: (conn: LaneConnection) => void,
  ) {
    this.remoteAddress = socket.remoteAddress;
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.on('end', this.onEnd);
    socket.on('error', this.onGone);
    socket.on('close', this.onGone);
  }

  // --- CallerConnection ---
  write(data: string | Buffer, encoding?: BufferEncoding): boolean {
    return encoding ? this.socket.write(data, encoding) : this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }

  onCallDone(isClosing: boolean): void {
    this.call = undefined;
    this.idleSince = performance.now();
    if (isClosing) {
      this.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    this.next();
  }

  /** Closes the connection when no call is running and it has been idle since before `idleBefore`. */
  closeIfIdle(idleBefore: number): void {
    if (!this.call && !this.waiting && !this.buffered && this.idleSince < idleBefore) {
      this.isDone = true;
      this.socket.destroy();
    }
  }

  /** No more requests: the connection ends (it stays tracked until closed, for destroyAll). */
  private end(): void {
    this.isDone = true;
    this.buffered = undefined;
    this.socket.end();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.isDone) return;
    this.buffered = this.buffered ? Buffer.concat([this.buffered, chunk]) : chunk;
    if (!this.call && !this.waiting) this.next();
    // Requests pipelined behind a running call wait; past a bound, stop reading until it is done.
    else if (this.buffered.length > this.lane.deps.gateway.maxHeaderBytes + MAX_LANE_BODY_BYTES) this.socket.pause();
  };

  private readonly onDrain = (): void => {
    this.call?.onCallerDrain();
  };

  private readonly onEnd = (): void => {
    this.isEnded = true;
    if (this.waiting) {
      this.end();
      return this.stopWaiting();
    }
    if (!this.call) return this.next();
    // The caller hung up with its call still running: cut the call, as Node's server does.
    this.call.onCallerGone();
    this.call = undefined;
    this.end();
  };

  private readonly onGone = (): void => {
    this.isDone = true;
    this.forget(this);
    this.stopWaiting();
    this.call?.onCallerGone();
    this.call = undefined;
  };

  /** Serves buffered requests one at a time; hands the connection over at the first it cannot. */
  private next(): void {
    while (!this.call && !this.waiting && !this.isDone) {
      const buf = this.buffered;
      if (!buf) {
        if (this.isEnded) this.end();
        return;
      }
      const { maxHeaderBytes, maxBodyBytes } = this.lane.deps.gateway;
      const headEnd = buf.indexOf(CRLF2);
      // A head over the limit is Node's business: it answers 431.
      if (headEnd > maxHeaderBytes || (headEnd === -1 && buf.length > maxHeaderBytes)) return this.handOff('incomplete');
      // A head that cannot become valid (a bare LF or CR) goes to Node now, which refuses it at once.
      if (headEnd === -1) return hasBareLineEnd(buf) ? this.handOff('unparsed') : this.awaitRest();
      const head = parseRequestHead(buf.toString('latin1', 0, headEnd));
      if (!head) return this.handOff('unparsed');
      const bodyBytes = Math.max(head.contentLength, 0);
      // Over FAASQ_MAX_BODY too: the full path answers its 413.
      if (bodyBytes > MAX_LANE_BODY_BYTES || (maxBodyBytes > 0 && bodyBytes > maxBodyBytes)) return this.handOff('body');
      const total = headEnd + 4 + bodyBytes;
      if (buf.length < total) return this.awaitRest();
      this.partialSince = 0;
      const refusal = this.start(head, buf, headEnd + 4, total);
      if (refusal) return this.handOff(refusal);
    }
  }

  /**
   * A request still arriving (a head or body split over several reads, as over any real network)
   * is waited for; one that takes longer than ASSEMBLY_MS is handed to Node's server, whose
   * header and request timeouts then apply. A caller that ended mid-request gets nothing more.
   */
  private awaitRest(): void {
    if (this.isEnded) return this.end();
    if (this.partialSince === 0) this.partialSince = performance.now();
  }

  /** Hands the connection over when a request has been arriving since before `startedBefore`. */
  handOffIfStalled(startedBefore: number): void {
    if (this.partialSince !== 0 && this.partialSince < startedBefore && !this.call && !this.waiting && !this.isDone) this.handOff('incomplete');
  }

  /**
   * Starts the call (or its wait for a ready replica) when the lane can serve it, else says why not
   * and leaves everything as it was.
   */
  private start(head: RequestHead, buf: Buffer, bodyStart: number, total: number): HandOffReason | undefined {
    const target = targetOf(this.lane, head);
    if (typeof target === 'string') return target;
    if ('waiting' in target) {
      this.awaitRoute(head, buf, bodyStart, total, target);
      return undefined;
    }
    return this.begin(head, buf, bodyStart, total, target);
  }

  /** Creates the call, takes a connection to the function and sends the request. */
  private begin(head: RequestHead, buf: Buffer, bodyStart: number, total: number, target: CallTarget): HandOffReason | undefined {
    const call = new ExpressCall(this.lane, this, head, total > bodyStart ? buf.subarray(bodyStart, total) : undefined, target);
    const upstream = this.lane.pool.lease(target.route, call);
    if (!upstream) {
      target.route.release();
      target.limiter?.release();
      return 'busy';
    }
    this.adopt(call, head, buf, total).start(upstream);
    return undefined;
  }

  /** Makes `call` the connection's running call and drops its request from the buffer. */
  private adopt(call: ExpressCall, head: RequestHead, buf: Buffer, total: number): ExpressCall {
    this.buffered = buf.length > total ? buf.subarray(total) : undefined;
    this.isCloseRequested = head.connection.includes('close');
    this.call = call;
    return call;
  }

  /**
   * The request waits on the lane, for a free admission slot or a replica (one restarting, or still
   * starting), instead of leaving it: a connection handed over would stay on the full path for
   * good. Errors (the limiter's 429, no replica ready in time) are answered here.
   */
  private awaitRoute(head: RequestHead, buf: Buffer, bodyStart: number, total: number, pending: PendingTarget): void {
    const { waiting, controller, ...base } = pending;
    this.waiting = controller;
    waiting.then(
      (route) => {
        if (this.waiting !== controller) {
          route.release();
          return base.limiter?.release();
        }
        this.waiting = undefined;
        // Requests pipelined during the wait were appended: the request still heads the buffer.
        const refusal = this.begin(head, this.buffered ?? buf, bodyStart, total, { ...base, route });
        if (refusal) this.handOff(refusal);
      },
      (err: unknown) => {
        // A failed wait already gave the admission slot back (call-target.ts).
        if (this.waiting !== controller) return;
        this.waiting = undefined;
        if (err instanceof NotDirectError) return this.handOff('indirect');
        const current = this.buffered ?? buf;
        const call = new ExpressCall(this.lane, this, head, total > bodyStart ? current.subarray(bodyStart, total) : undefined, { ...base, limiter: undefined, route: NO_ROUTE });
        this.adopt(call, head, current, total).reject(err);
      },
    );
  }

  private stopWaiting(): void {
    const controller = this.waiting;
    this.waiting = undefined;
    controller?.abort(new FaasqError('E_BAD_REQUEST', 'client closed the connection'));
  }

  /** Gives the socket, with the bytes read and not served, to Node's server for good. */
  private handOff(reason: HandOffReason): void {
    const { socket } = this;
    this.lane.events.emit('gateway.handoff', { reason });
    this.isDone = true;
    this.forget(this);
    socket.off('data', this.onData);
    socket.off('drain', this.onDrain);
    socket.off('end', this.onEnd);
    socket.off('error', this.onGone);
    socket.off('close', this.onGone);
    // Resumed (when the lane paused it) before the bytes go back, never after: unshift() schedules
    // their delivery first, Node's server may pause the socket there for a body it cannot pass on
    // yet, and a resume() queued behind that would restart reading under the pause, so a large
    // body would be read in whole into the request (bench/hostile-sizes.ts).
    if (socket.isPaused()) socket.resume();
    if (this.buffered) socket.unshift(this.buffered);
    this.buffered = undefined;
    this.handOffTo(socket);
  }
}

