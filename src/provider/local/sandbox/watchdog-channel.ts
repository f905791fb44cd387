// faasq's end of the IPC channel to an http-mode replica's watchdog. faasq asks for a connection;
// the watchdog connects to the function's server inside the replica's network namespace and sends
// the connected socket back, so faasq speaks HTTP to the function itself, with no process copying
// bytes between them. The same channel asks the watchdog to SIGTERM its function at stop.
//
// The function runs as the watchdog's uid and may take the watchdog over (ptrace, /proc/PID/mem),
// so everything arriving here is hostile. Node's own IPC reader buffers a message line without
// limit and trusts its internal messages, so each read is checked before Node sees it
// (guardIpcReads): a line over MAX_LINE_BYTES, anything but the two replies below, a handle that
// is not a TCP socket or comes without its message, or a reply nobody asked for kills the replica
// (docs/security.md, "Connection hand-off").
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import net from 'node:net';

/**
 * The channel's descriptor in the replica's first process and, through bwrap and setpriv, in the
 * watchdog (NODE_CHANNEL_FD). Not 3 or 4: the outbound network's wrapper gives bwrap those for
 * --info-fd and --block-fd (outbound-network.ts), and closes this one for its helpers.
 */
export const CHANNEL_FD = 5;
/** Longest line the watchdog may send; its real replies are under 100 bytes. */
export const MAX_LINE_BYTES = 1024;
/** A dial not answered by then fails (as a connect timeout would). */
const DIAL_TIMEOUT_MS = 10_000;
/** Most dials awaiting an answer; more fail at once (the pools cap connections well below). */
const MAX_PENDING_DIALS = 1024;

type Violation = (why: string) => void;

interface PipeHandle {
  pendingHandle: { constructor: { name: string }; close?: () => void } | null;
  onread: (arrayBuffer: ArrayBuffer | undefined) => unknown;
}

/** Node 20's IPC pipe class; its `onread` is set by child_process's setupChannel. */
function pipeClass(): { prototype: object } | undefined {
  try {
    // process.binding is deprecated in docs only; the class is needed to see the channel's reads.
    return (process as unknown as { binding(name: string): { Pipe?: { prototype: object } } }).binding('pipe_wrap').Pipe;
  } catch {
    return undefined;
  }
}

/** Whether this Node lets faasq check the channel's reads; without it replicas keep the watchdog's relay. */
export function canGuardChannel(): boolean {
  return pipeClass() !== undefined;
}

/**
 * spawn() with stdio[CHANNEL_FD] an IPC channel whose every read passes `check` first. Node's
 * setupChannel marks the channel (pendingHandle) just before it installs its reader; that reader is
 * wrapped. Returns undefined when the channel cannot be guarded (another Node): no channel then.
 */
function spawnGuarded(file: string, args: readonly string[], options: SpawnOptions, onViolation: Violation): ChildProcess | undefined {
  const Pipe = pipeClass();
  if (!Pipe) return undefined;
  let guarded: PipeHandle | undefined;
  const guard = (channel: PipeHandle, reader: PipeHandle['onread']): PipeHandle['onread'] => {
    guarded = channel;
    return guardReads(channel, reader, onViolation);
  };
  const install = (): void => {
    Object.defineProperty(Pipe.prototype, 'onread', {
      configurable: true,
      set(this: PipeHandle, reader: PipeHandle['onread']) {
        delete (Pipe.prototype as { onread?: unknown }).onread;
        const isChannel = guarded === undefined && Object.hasOwn(this, 'pendingHandle');
        this.onread = isChannel ? guard(this, reader) : reader;
        install();
      },
    });
  };
  install();
  let child: ChildProcess;
  try {
    child = spawn(file, [...args], options);
  } finally {
    delete (Pipe.prototype as { onread?: unknown }).onread;
  }
  if (!guarded) {
    child.kill('SIGKILL');
    return undefined;
  }
  return child;
}

/**
 * Checks whole lines as they complete, and the partial line's length, before handing the read to
 * Node's reader; a bad read is never handed on, and later reads are dropped (the replica is being
 * killed; its end of file still reaches Node, which then closes the channel).
 */
function guardReads(channel: PipeHandle, reader: PipeHandle['onread'], onViolation: Violation): PipeHandle['onread'] {
  let partial: Buffer[] = [];
  let partialBytes = 0;
  let isBroken = false;
  const refuse = (why: string): undefined => {
    isBroken = true;
    partial = [];
    const handle = channel.pendingHandle;
    channel.pendingHandle = null;
    handle?.close?.();
    onViolation(why);
    return undefined;
  };
  return function onread(this: unknown, arrayBuffer: ArrayBuffer | undefined): unknown {
    if (arrayBuffer === undefined) return reader.call(this, arrayBuffer);
    if (isBroken) return refuse('more data after a refused message');
    // Node 20 hands the read as an ArrayBuffer of exactly the bytes read.
    const bytes = Buffer.from(arrayBuffer);
    const handle = channel.pendingHandle;
    let handleLines = 0;
    let start = 0;
    for (let end = bytes.indexOf(0x0a); end !== -1; end = bytes.indexOf(0x0a, start)) {
      const length = partialBytes + end - start;
      if (length > MAX_LINE_BYTES) return refuse(`a message over ${MAX_LINE_BYTES} bytes`);
      const line = Buffer.concat([...partial, bytes.subarray(start, end)]).toString('utf8');
      partial = [];
      partialBytes = 0;
      start = end + 1;
      const kind = lineKind(line);
      if (kind === undefined) return refuse('a malformed or unexpected message');
      if (kind === 'handle') handleLines += 1;
    }
    if (start < bytes.length) {
      partialBytes += bytes.length - start;
      if (partialBytes > MAX_LINE_BYTES) return refuse(`a message over ${MAX_LINE_BYTES} bytes`);
      partial.push(Buffer.from(bytes.subarray(start)));
    }
    if (handle !== null && (handleLines !== 1 || handle.constructor.name !== 'TCP')) return refuse(`a handle that is not one connected TCP socket (${handle.constructor.name})`);
    if (handle === null && handleLines > 0) return refuse('a socket message without its socket');
    return reader.call(this, arrayBuffer);
  };
}

/** 'handle': a socket's message; 'plain': a failed dial; undefined: anything else. */
function lineKind(line: string): 'handle' | 'plain' | undefined {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isRecord(message)) return undefined;
  if ('cmd' in message) {
    if (!hasKeys(message, ['cmd', 'type', 'msg']) || message.cmd !== 'NODE_HANDLE' || message.type !== 'net.Socket') return undefined;
    return isRecord(message.msg) && hasKeys(message.msg, ['t', 'id']) && message.msg.t === 'dialed' && Number.isSafeInteger(message.msg.id) ? 'handle' : undefined;
  }
  if (hasKeys(message, ['t', 'id', 'code']) && message.t === 'dial-failed' && Number.isSafeInteger(message.id) && typeof message.code === 'string') return 'plain';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(value);
  return own.length === keys.length && keys.every((key) => own.includes(key));
}

interface PendingDial {
  resolve(socket: net.Socket): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class WatchdogChannel {
  private readonly pending = new Map<number, PendingDial>();
  private nextId = 1;
  private isClosed = false;
  /** Bound once, so it can key a connection pool. */
  readonly dial = (): Promise<net.Socket> => this.open();

  private constructor(
    private readonly child: ChildProcess,
    /** The function's server port inside the replica: a handed socket must be connected to it. */
    private readonly upstreamPort: number,
    private readonly onViolation: Violation,
  ) {
    child.on('message', (message: unknown, handle: unknown) => this.onMessage(message, handle));
    child.once('disconnect', () => this.close());
    child.once('exit', () => this.close());
  }

  /**
   * Spawns the replica's first process with the channel on fd CHANNEL_FD. `onViolation` runs once when the
   * watchdog breaks the protocol (the caller kills the replica). Undefined when this Node's
   * channel cannot be guarded.
   */
  static spawn(file: string, args: readonly string[], options: SpawnOptions, upstreamPort: number, onViolation: Violation): { child: ChildProcess; channel: WatchdogChannel } | undefined {
    let channel: WatchdogChannel | undefined;
    let early: string | undefined;
    const violation: Violation = (why) => {
      if (channel) channel.refuse(why);
      else early ??= why;
    };
    const stdio = [...(options.stdio as unknown[]).slice(0, 3)];
    while (stdio.length < CHANNEL_FD) stdio.push('ignore');
    stdio.push('ipc');
    const child = spawnGuarded(file, args, { ...options, stdio: stdio as SpawnOptions['stdio'] }, violation);
    if (!child) return undefined;
    channel = new WatchdogChannel(child, upstreamPort, onViolation);
    if (early !== undefined) channel.refuse(early);
    return { child, channel };
  }

  /** Asks the watchdog to SIGTERM its function (which then exits, and the watchdog with it); false when the channel is gone. */
  stop(): boolean {
    if (this.isClosed || !this.child.connected) return false;
    this.child.send({ t: 'stop' }, (err) => {
      if (err) this.child.kill('SIGKILL');
    });
    return true;
  }

  private open(): Promise<net.Socket> {
    if (this.isClosed || !this.child.connected) return Promise.reject(unreachable('the replica is gone'));
    if (this.pending.size >= MAX_PENDING_DIALS) return Promise.reject(unreachable('too many connections being opened'));
    const id = this.nextId;
    this.nextId += 1;
    return new Promise<net.Socket>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(Object.assign(new Error(`connect timeout after ${DIAL_TIMEOUT_MS}ms`), { code: 'ETIMEDOUT' }));
      }, DIAL_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ t: 'dial', id }, (err) => {
        if (!err) return;
        const dial = this.take(id);
        dial?.reject(unreachable(err.message));
      });
    });
  }

  private take(id: number): PendingDial | undefined {
    const dial = this.pending.get(id);
    if (!dial) return undefined;
    this.pending.delete(id);
    clearTimeout(dial.timer);
    return dial;
  }

  /** Messages already passed the read guard's shape check; here their ids and the socket itself. */
  private onMessage(message: unknown, handle: unknown): void {
    const reply = message as { t: string; id: number; code?: string };
    const dial = this.take(reply.id);
    if (reply.t === 'dialed') {
      const socket = handle instanceof net.Socket ? handle : undefined;
      // A socket from net.connect inside the replica: TCP, connected, to the function's port.
      const isConnectedTcp = socket !== undefined && (socket.remoteFamily === 'IPv4' || socket.remoteFamily === 'IPv6') && socket.remotePort === this.upstreamPort;
      if (!dial || !isConnectedTcp) {
        (handle as { destroy?: () => void } | undefined)?.destroy?.();
        this.refuse(!dial ? 'a socket nobody asked for' : 'a socket not connected to the function\'s port');
        return;
      }
      return dial.resolve(socket);
    }
    if (!dial) return this.refuse('an answer to no dial');
    dial.reject(Object.assign(new Error(`the function refused the connection (${String(reply.code).slice(0, 32)})`), { code: 'ECONNREFUSED' }));
  }

  private refuse(why: string): void {
    if (this.isClosed) return;
    this.close();
    this.onViolation(why);
  }

  private close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const id of [...this.pending.keys()]) this.take(id)?.reject(unreachable('the replica is gone'));
  }
}

function unreachable(why: string): Error {
  return Object.assign(new Error(`cannot reach the replica: ${why}`), { code: 'ECONNREFUSED' });
}
