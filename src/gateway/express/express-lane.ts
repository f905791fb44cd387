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
import { parseFunctionRef } from '../../shared/names.js';
import { ExpressCall, type CallTarget, type CallerConnection } from './express-call.js';
import { fieldOf, parseRequestHead, type RequestHead } from './http1-head.js';
import { LaneContext, type LaneDeps } from './lane-context.js';

export interface ExpressLane {
  /** Draining: idle connections close now, busy ones after their reply. */
  close(): void;
  /** Cuts every connection the lane still holds (the grace period is over). */
  destroyAll(): void;
}

const PREFIX = '/function/';
const CRLF2 = Buffer.from('\r\n\r\n');
/** Request bodies up to this size are served on the lane (read whole, as the Node path does). */
export const MAX_LANE_BODY_BYTES = 64 * 1024;
/** Request fields that need the full path. */
const NEEDS_NODE = new Set(['transfer-encoding', 'upgrade', 'expect', 'x-invoke-mode']);
/**
 * Request fields Node's server keeps only the first of when repeated (the rest of its list is
 * hop-by-hop), plus X-Call-Id, whose repeats Node would join into one odd call id.
 */
const SINGLE_FIELDS = new Set(['host', 'content-type', 'user-agent', 'referer', 'authorization', 'from', 'if-modified-since', 'if-unmodified-since', 'max-forwards', 'x-call-id']);
const SWEEP_INTERVAL_MS = 1000;

/**
 * Why a connection left the lane (the `reason` label of faasq_express_lane_handoffs_total):
 * incomplete: head or body not all in the bytes read (or a head over the limit); unparsed: not a
 * strict HTTP/1.1 head; body: over 64 KiB; route: not /function/, a bad or unknown name; fields:
 * async, Transfer-Encoding, Upgrade, Expect, repeated single fields, Connection options, no Host;
 * auth: credentials missing or wrong; busy: concurrency limit reached, or the function's connection
 * cap; indirect: no direct address (fork mode, https, no ready replica, remote provider); closing.
 */
export type HandOffReason = 'incomplete' | 'unparsed' | 'body' | 'route' | 'fields' | 'auth' | 'busy' | 'indirect' | 'closing';

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
    const idleBefore = performance.now() - server.keepAliveTimeout;
    for (const conn of connections) conn.closeIfIdle(idleBefore);
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
  private isEnded = false;
  private isDone = false;

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
    if (!this.call && !this.buffered && this.idleSince < idleBefore) {
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
    if (!this.call) this.next();
    // Requests pipelined behind a running call wait; past a bound, stop reading until it is done.
    else if (this.buffered.length > this.lane.deps.gateway.maxHeaderBytes + MAX_LANE_BODY_BYTES) this.socket.pause();
  };

  private readonly onDrain = (): void => {
    this.call?.onCallerDrain();
  };

  private readonly onEnd = (): void => {
    this.isEnded = true;
    if (!this.call) return this.next();
    // The caller hung up with its call still running: cut the call, as Node's server does.
    this.call.onCallerGone();
    this.call = undefined;
    this.end();
  };

  private readonly onGone = (): void => {
    this.isDone = true;
    this.forget(this);
    this.call?.onCallerGone();
    this.call = undefined;
  };

  /** Serves buffered requests one at a time; hands the connection over at the first it cannot. */
  private next(): void {
    while (!this.call && !this.isDone) {
      const buf = this.buffered;
      if (!buf) {
        if (this.isEnded) this.end();
        return;
      }
      const headEnd = buf.indexOf(CRLF2);
      if (headEnd === -1 || headEnd > this.lane.deps.gateway.maxHeaderBytes) {
        // A head still arriving (or too large) is Node's business: it has the timeouts and the 431.
        if (this.isEnded && headEnd === -1) this.end();
        else this.handOff('incomplete');
        return;
      }
      const head = parseRequestHead(buf.toString('latin1', 0, headEnd));
      if (!head) return this.handOff('unparsed');
      const bodyBytes = Math.max(head.contentLength, 0);
      if (bodyBytes > MAX_LANE_BODY_BYTES) return this.handOff('body');
      const total = headEnd + 4 + bodyBytes;
      if (buf.length < total) return this.handOff('incomplete');
      const refusal = this.start(head, buf, headEnd + 4, total);
      if (refusal) return this.handOff(refusal);
    }
  }

  /** Starts the call when the lane can serve it, else says why not and leaves everything as it was. */
  private start(head: RequestHead, buf: Buffer, bodyStart: number, total: number): HandOffReason | undefined {
    const target = this.targetOf(head);
    if (typeof target === 'string') return target;
    const body = total > bodyStart ? buf.subarray(bodyStart, total) : undefined;
    const call = new ExpressCall(this.lane, this, head, body, target);
    const upstream = this.lane.pool.lease(target.route.host, target.route.port, call);
    if (!upstream) {
      target.route.release();
      target.limiter?.release();
      return 'busy';
    }
    this.buffered = buf.length > total ? buf.subarray(total) : undefined;
    this.isCloseRequested = head.connection.includes('close');
    this.call = call;
    call.start(upstream);
    return undefined;
  }

  /** Where the request goes, with its replica and admission slot taken; or why it is not for this lane. */
  private targetOf(head: RequestHead): CallTarget | HandOffReason {
    const { target } = head;
    if (!target.startsWith(PREFIX)) return 'route';
    if (!this.lane.isAccepting()) return 'closing';
    const { lowerNames } = head;
    for (let i = 0; i < lowerNames.length; i += 1) {
      const name = lowerNames[i];
      if (NEEDS_NODE.has(name)) return 'fields';
      // A repeated field Node keeps only once (its first): the full path decides, so both paths agree.
      if (SINGLE_FIELDS.has(name) && lowerNames.indexOf(name) !== i) return 'fields';
    }
    // HTTP/1.1 needs a Host: Node's server answers 400 without one.
    if (!lowerNames.includes('host')) return 'fields';
    for (const token of head.connection) if (token !== 'close' && token !== 'keep-alive') return 'fields';
    // Wrong or missing credentials get their 401 from the full path.
    const { isAuthorized } = this.lane.deps;
    if (isAuthorized && !isAuthorized(fieldOf(head, 'authorization'))) return 'auth';
    const queryAt = target.indexOf('?', PREFIX.length);
    const pathEnd = queryAt === -1 ? target.length : queryAt;
    let slashAt = target.indexOf('/', PREFIX.length);
    if (slashAt === -1 || slashAt > pathEnd) slashAt = pathEnd;
    let ref: { name: string; namespace: string };
    try {
      ref = parseFunctionRef(target.slice(PREFIX.length, slashAt));
    } catch {
      return 'route';
    }
    const { provider, limits } = this.lane.deps;
    const spec = provider.getSpec(ref.name, ref.namespace);
    if (!spec) return 'route';
    if (!provider.route) return 'indirect';
    const limiter = limits.limiterFor(`${ref.namespace}/${ref.name}`, spec);
    // A full limiter means waiting in its queue: the Node path does that.
    if (limiter && !limiter.tryAcquire()) return 'busy';
    const route = provider.route(ref.name, ref.namespace);
    if (!route) {
      limiter?.release();
      return 'indirect';
    }
    const path = slashAt < pathEnd ? target.slice(slashAt, pathEnd) : '/';
    // An empty query ("/f?") reaches the function without its "?", as on the full path.
    const hasQuery = queryAt !== -1 && queryAt < target.length - 1;
    return { fn: ref.name, namespace: ref.namespace, pathAndQuery: hasQuery ? path + target.slice(queryAt) : path, route, limiter };
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
    socket.pause();
    if (this.buffered) socket.unshift(this.buffered);
    this.buffered = undefined;
    this.handOffTo(socket);
    socket.resume();
  }
}
