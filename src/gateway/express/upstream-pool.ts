// Keep-alive connections from the express lane to functions, per host:port (TCP), per Unix
// socket path, or per dialer (a sandboxed replica, whose provider hands over a socket connected
// inside the replica; the lane does not know how). A connection is
// leased to one call at a time (no pipelining) and its socket events go to that call; an idle one
// that the function closes, or that outlives the function's keep-alive timeout, is dropped, so a
// call rarely finds a dead socket (and the lane retries idempotent calls once when it does).
// A function's bytes must reach only the call they answer: a byte that arrives while no call holds
// the connection destroys it, and a released connection rests `quietMs` (gateway.upstreamQuietMs)
// before another call may take it (oldest first; a new connection is opened meanwhile, up to the
// cap), so a late second reply is caught idle instead of read as the next call's answer
// (docs/security.md, "Function replies").
import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** What a leased connection reports to the call holding it. */
export interface UpstreamOwner {
  /** `name.namespace` of the function called, named when the connection misbehaves later. */
  readonly fnLabel: string;
  onUpstreamData(chunk: Buffer): void;
  /** The socket ended, closed or failed while leased. */
  onUpstreamGone(err: Error | undefined): void;
}

/** Most connections per function address; a call past it takes the full path, whose undici pool (128 connections) queues it. */
export const MAX_CONNECTIONS_PER_ORIGIN = 512;
/** An idle connection is dropped this long before the function's advertised keep-alive timeout. */
const KEEP_ALIVE_MARGIN_MS = 1000;
/** Idle lifetime when the function advertises none (Node servers close after 5 s). */
const DEFAULT_IDLE_MS = 4000;
const SWEEP_INTERVAL_MS = 1000;
/** A connection not established by then fails the call as unreachable (502), as undici's connect timeout does. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Where a function answers: a dialer when set, else socketPath when set, else host:port. */
export interface UpstreamAddress {
  readonly host: string;
  readonly port: number;
  readonly socketPath?: string;
  readonly dial?: () => Promise<net.Socket>;
}

/** Reports a connection dropped because the function sent bytes no call asked for. */
export type StrayReporter = (fnLabel: string) => void;

export class UpstreamConnection {
  owner: UpstreamOwner | undefined;
  /** Served at least one call before: a failure without any reply may be a keep-alive race. */
  isReused = false;
  idleUntil = 0;
  /** When the last call released it (performance.now()). */
  releasedAt = 0;
  /** The function of the last call it served. */
  fnLabel = '';
  private isGone = false;
  private socket: net.Socket | undefined;
  /** What a call wrote before a dialed socket arrived. */
  private unsent: string | undefined;

  constructor(
    connecting: net.Socket | Promise<net.Socket>,
    private readonly origin: Origin,
  ) {
    if (connecting instanceof net.Socket) {
      this.attach(connecting);
      return;
    }
    connecting.then(
      (socket) => {
        if (this.isGone) return void socket.destroy();
        this.attach(socket);
        if (this.unsent !== undefined) socket.write(this.unsent, 'latin1');
        this.unsent = undefined;
      },
      (err: Error) => this.gone(err),
    );
  }

  private attach(socket: net.Socket): void {
    const { origin } = this;
    this.socket = socket;
    socket.setNoDelay(true);
    if (socket.connecting) {
      socket.setTimeout(CONNECT_TIMEOUT_MS, () => socket.destroy(Object.assign(new Error(`connect timeout after ${CONNECT_TIMEOUT_MS}ms`), { code: 'ETIMEDOUT' })));
      socket.once('connect', () => socket.setTimeout(0));
    }
    socket.on('data', (chunk: Buffer) => {
      if (this.owner) return this.owner.onUpstreamData(chunk);
      // Bytes nobody asked for: the connection is out of step, and must serve no one again.
      if (!this.isGone) origin.onStray(this.fnLabel);
      this.gone(undefined);
    });
    socket.on('error', (err: Error) => this.gone(err));
    socket.on('end', () => this.gone(undefined));
    socket.on('close', () => this.gone(undefined));
    // A dialed socket comes paused (nothing read before a call holds it).
    if (socket.isPaused()) socket.resume();
  }

  /** Sends request bytes (held until a dialed socket arrives). */
  write(text: string): void {
    if (this.socket) this.socket.write(text, 'latin1');
    else this.unsent = (this.unsent ?? '') + text;
  }

  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  /** Closes the connection; its socket's close event then forgets it (at once when none is attached yet). */
  destroy(): void {
    if (this.socket) this.socket.destroy();
    else this.gone(undefined);
  }

  get isAlive(): boolean {
    return !this.isGone;
  }

  /** Back to the idle stack after an exchange that ended cleanly; `keepAlive` is the reply's Keep-Alive header. */
  release(keepAlive: string | undefined): void {
    if (!this.isGone) this.origin.giveBack(this, idleMsOf(keepAlive));
  }

  /** Drops the connection without telling its owner (the owner is the one giving up). */
  discard(): void {
    this.owner = undefined;
    this.gone(undefined);
  }

  private gone(err: Error | undefined): void {
    if (this.isGone) return;
    this.isGone = true;
    this.socket?.destroy();
    this.origin.forget(this);
    const owner = this.owner;
    this.owner = undefined;
    owner?.onUpstreamGone(err);
  }
}

class Origin {
  readonly idle: UpstreamConnection[] = [];
  count = 0;

  constructor(
    private readonly address: UpstreamAddress,
    /** Called when the origin's last connection is gone (replicas come and go on new ports). */
    private readonly onEmpty: (origin: Origin) => void,
    readonly onStray: StrayReporter,
    private readonly quietMs: number,
  ) {}

  /**
   * The idle connection released longest ago once it has rested `quietMs`, else a new one;
   * at the cap, the oldest idle one even if it has not rested (the caller's validation tick still
   * catches bytes already read), or undefined when none is idle.
   */
  lease(owner: UpstreamOwner): UpstreamConnection | undefined {
    const now = performance.now();
    const { idle } = this;
    // One past its idle lifetime but not yet swept may be closing on the function's side right now.
    while (idle.length > 0 && (!idle[0].isAlive || idle[0].idleUntil <= now)) (idle.shift() as UpstreamConnection).destroy();
    let conn: UpstreamConnection | undefined;
    if (idle.length > 0 && (now - idle[0].releasedAt >= this.quietMs || this.count >= MAX_CONNECTIONS_PER_ORIGIN)) conn = idle.shift();
    if (!conn) {
      if (this.count >= MAX_CONNECTIONS_PER_ORIGIN) return undefined;
      this.count += 1;
      const { host, port, socketPath, dial } = this.address;
      conn = new UpstreamConnection(dial ? dial() : socketPath === undefined ? net.connect(port, host) : net.connect(socketPath), this);
    }
    conn.owner = owner;
    conn.fnLabel = owner.fnLabel;
    return conn;
  }

  giveBack(conn: UpstreamConnection, idleMs: number): void {
    conn.owner = undefined;
    conn.isReused = true;
    conn.releasedAt = performance.now();
    conn.idleUntil = conn.releasedAt + idleMs;
    this.idle.push(conn);
  }

  forget(conn: UpstreamConnection): void {
    this.count -= 1;
    const at = this.idle.indexOf(conn);
    if (at !== -1) this.idle.splice(at, 1);
    if (this.count === 0) this.onEmpty(this);
  }

  sweep(now: number): void {
    // The oldest idle connections sit at the bottom of the stack.
    while (this.idle.length > 0 && this.idle[0].idleUntil <= now) (this.idle.shift() as UpstreamConnection).destroy();
  }

  destroyAll(): void {
    for (const conn of this.idle.splice(0)) conn.destroy();
  }
}

export class UpstreamPool {
  /** Keyed by dialer, socket path or host:port. */
  private readonly origins = new Map<unknown, Origin>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly onStray: StrayReporter,
    private readonly quietMs: number,
  ) {
    this.sweeper = setInterval(() => {
      const now = performance.now();
      for (const origin of this.origins.values()) origin.sweep(now);
    }, SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** A connection to `address` now leased to `owner`, or undefined when the origin is at its cap. */
  lease(address: UpstreamAddress, owner: UpstreamOwner): UpstreamConnection | undefined {
    const key = address.dial ?? address.socketPath ?? `${address.host}:${address.port}`;
    let origin = this.origins.get(key);
    if (!origin) {
      origin = new Origin(address, (empty) => {
        if (this.origins.get(key) === empty) this.origins.delete(key);
      }, this.onStray, this.quietMs);
      this.origins.set(key, origin);
    }
    return origin.lease(owner);
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const origin of this.origins.values()) origin.destroyAll();
    this.origins.clear();
  }
}

/** How long an idle connection may be kept, from a `Keep-Alive: timeout=N` reply header. */
export function idleMsOf(keepAlive: string | undefined): number {
  const match = keepAlive === undefined ? null : /(?:^|[,;\s])timeout=(\d+)/i.exec(keepAlive);
  if (!match) return DEFAULT_IDLE_MS;
  return Math.max(0, Number(match[1]) * 1000 - KEEP_ALIVE_MARGIN_MS);
}
