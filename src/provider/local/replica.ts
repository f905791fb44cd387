// One replica's process: the in-replica watchdog (in its sandbox, or bare in fork mode) reached
// on a Unix socket or, in http mode in its own network namespace, through sockets it hands over
// on an IPC channel (sandbox/watchdog-channel.ts); or an http-mode server on its own port. Probed until it answers HTTP, then
// served through its own keep-alive undici Pool and re-probed every healthIntervalMs. It reports
// its exit once and removes its runtime folder and cgroup; restarting is the supervisor's job
// (replica-runtime.ts), so this file knows nothing about backoff.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { QuietPool, type Pooling } from './quiet-pool.js';
import { FaasqError } from '../../shared/errors.js';
import type { DirectRoute } from '../provider.js';
import { lineSplitter } from './log-ring.js';
import { WatchdogChannel, type ReplicaLaunch } from './sandbox/index.js';

/** `unhealthy`: was ready, then refused connections or answered 503 on /_/health; not routed to. */
export type ReplicaState = 'starting' | 'ready' | 'unhealthy' | 'stopping' | 'exited';

export interface ReplicaOptions {
  readonly instance: string;
  /** What to spawn, where it answers, its cgroup (launchReplica()). */
  readonly launch: ReplicaLaunch;
  /** The function's command, for messages. */
  readonly commandFile: string;
  /** The function's exec timeout, handed to the express lane with the replica's address. */
  readonly execTimeoutMs: number;
  readonly readyTimeoutMs: number;
  /** Interval of liveness probes once ready; 0 disables them. */
  readonly healthIntervalMs: number;
  readonly onLine: (instance: string, text: string) => void;
  /** Stray-byte reports and the reuse rest for this replica's connections. */
  readonly pooling: Pooling;
  readonly onReady: (replica: Replica) => void;
  /** Called once when the process is gone (or never started), unless stop() was called. */
  readonly onExit: (replica: Replica, reason: string) => void;
}

const PROBE_INTERVAL_MS = 50;
const PROBE_TIMEOUT_MS = 1000;

export class Replica {
  state: ReplicaState = 'starting';
  inflight = 0;
  pid: number | undefined;
  readonly pool: QuietPool;
  /** This replica's address for the express lane; release() ends a call route() counted. */
  readonly route: DirectRoute;
  private child: ChildProcess | undefined;
  /** The watchdog's IPC channel (connection hand-off), when the replica has one. */
  private channel: WatchdogChannel | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** The kernel killed a process of this replica at its memory limit (see checkOom()). */
  isOomKilled = false;
  /** The kill was logged and counted (once per replica). */
  isOomReported = false;
  private oomSeen = 0;

  constructor(private readonly options: ReplicaOptions) {
    const { address } = options.launch;
    const timing = { connections: 128, keepAliveTimeout: 30_000, ...options.pooling };
    const release = (): void => {
      this.inflight -= 1;
    };
    if ('socketPath' in address && address.handOff) {
      // Each connection is opened inside the replica and handed over: no socket path, no port.
      const dial = (): Promise<Socket> => this.channel?.dial() ?? Promise.reject(Object.assign(new Error('the replica has not started'), { code: 'ECONNREFUSED' }));
      const { authority } = address.handOff;
      this.pool = new QuietPool(`http://${authority}`, { ...timing, dial });
      this.route = { host: '', port: 0, dial, authority, pathPrefix: '', execTimeoutMs: options.execTimeoutMs, release };
      return;
    }
    const isSocket = 'socketPath' in address;
    const port = isSocket ? 0 : address.port;
    const where = isSocket ? { socketPath: address.socketPath } : {};
    this.pool = new QuietPool(isSocket ? 'http://localhost' : `http://127.0.0.1:${port}`, { ...timing, ...where });
    this.route = {
      host: isSocket ? 'localhost' : '127.0.0.1',
      port,
      ...(isSocket ? { socketPath: address.socketPath } : {}),
      authority: isSocket ? 'localhost' : `127.0.0.1:${port}`,
      pathPrefix: '',
      execTimeoutMs: options.execTimeoutMs,
      release,
    };
  }

  get instance(): string {
    return this.options.instance;
  }

  /**
   * True once the kernel has killed a process of this replica at its cgroup memory limit. The
   * counter only grows, so each kill is reported once (returns true the first time it is seen).
   */
  checkOom(): boolean {
    const kills = this.options.launch.cgroup?.oomKills() ?? 0;
    if (kills <= this.oomSeen) return false;
    this.oomSeen = kills;
    this.isOomKilled = true;
    return true;
  }

  /** Ends the process at once (SIGKILL); the supervisor sees the exit and restarts with backoff. */
  kill(): void {
    this.child?.kill('SIGKILL');
  }

  /** Resolves once the process is spawned; rejects E_DEPLOY_FAILED when it cannot be (ENOENT, EACCES). */
  start(): Promise<void> {
    const { file, args, cwd, env } = this.options.launch;
    const command = { file: this.options.commandFile };
    return new Promise((resolve, reject) => {
      // stdin is a pipe faasq never writes: its end tells the watchdog faasq is gone (even by kill -9).
      const options = { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] as ('pipe' | 'ipc')[], detached: false };
      const { address } = this.options.launch;
      let child: ChildProcess;
      if ('socketPath' in address && address.handOff) {
        const spawned = WatchdogChannel.spawn(file, args, options, address.handOff.port, (why) => {
          this.options.onLine(this.options.instance, `faasq: the watchdog broke its channel's protocol (${why}); replica killed`);
          this.child?.kill('SIGKILL');
        });
        if (!spawned) {
          void this.options.launch.cleanup();
          reject(new FaasqError('E_DEPLOY_FAILED', 'this Node cannot guard the IPC channel a sandboxed http-mode replica needs'));
          return;
        }
        child = spawned.child;
        this.channel = spawned.channel;
      } else {
        child = spawn(file, [...args], options);
      }
      this.child = child;
      let hasSpawned = false;
      this.exited = new Promise<void>((done) => child.once('close', () => done())).then(() => this.options.launch.cleanup());
      const out = lineSplitter((text) => this.options.onLine(this.options.instance, text));
      const err = lineSplitter((text) => this.options.onLine(this.options.instance, text));
      child.stdout?.on('data', (chunk: Buffer) => out.write(chunk));
      child.stderr?.on('data', (chunk: Buffer) => err.write(chunk));
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (hasSpawned) return;
        this.state = 'exited';
        void this.pool.destroy();
        void this.options.launch.cleanup();
        const why = error.code === 'ENOENT' ? `command not found: ${command.file}` : `cannot start ${command.file}: ${error.code ?? error.message}`;
        reject(new FaasqError('E_DEPLOY_FAILED', why, { cause: error }));
      });
      child.once('spawn', () => {
        hasSpawned = true;
        this.pid = child.pid;
        resolve();
        this.probe(Date.now() + this.options.readyTimeoutMs);
      });
      child.once('close', (code, signal) => {
        out.end();
        err.end();
        this.clearProbe();
        void this.pool.destroy();
        if (this.state === 'stopping' || this.state === 'exited') {
          this.state = 'exited';
          return;
        }
        this.state = 'exited';
        this.options.onExit(this, signal ? `killed by ${signal}` : `exit code ${code}`);
      });
    });
  }

  /** Any HTTP answer other than 503 on /_/health counts as ready (of-watchdog's health path). */
  private probe(deadline: number): void {
    if (this.state !== 'starting') return;
    if (Date.now() > deadline) {
      this.options.onLine(this.options.instance, `faasq: not ready within ${this.options.readyTimeoutMs}ms; stopping`);
      this.child?.kill('SIGKILL');
      return;
    }
    this.pool
      .request({ path: '/_/health', method: 'GET', headersTimeout: PROBE_TIMEOUT_MS, bodyTimeout: PROBE_TIMEOUT_MS })
      .then(async (res) => {
        await res.body.dump();
        if (this.state !== 'starting') return;
        if (res.statusCode === 503) return this.scheduleProbe(deadline);
        this.state = 'ready';
        this.options.onReady(this);
        this.scheduleHealthCheck();
      })
      .catch(() => this.scheduleProbe(deadline));
  }

  /**
   * Liveness once ready: a refused connection or a 503 takes the replica out of rotation until it
   * answers again. A slow probe does not: a busy single-threaded function must not be dropped.
   */
  private scheduleHealthCheck(): void {
    const intervalMs = this.options.healthIntervalMs;
    if (intervalMs <= 0) return;
    this.healthTimer = setTimeout(() => {
      if (this.state !== 'ready' && this.state !== 'unhealthy') return;
      this.pool
        .request({ path: '/_/health', method: 'GET', headersTimeout: Math.max(intervalMs, PROBE_TIMEOUT_MS), bodyTimeout: PROBE_TIMEOUT_MS })
        .then(async (res) => {
          await res.body.dump();
          this.setHealthy(res.statusCode !== 503);
        })
        .catch((err: { code?: string }) => {
          if (err?.code !== 'UND_ERR_HEADERS_TIMEOUT' && err?.code !== 'UND_ERR_BODY_TIMEOUT') this.setHealthy(false);
        })
        .finally(() => this.scheduleHealthCheck());
    }, intervalMs);
  }

  private setHealthy(isHealthy: boolean): void {
    if (this.state === 'ready' && !isHealthy) {
      this.state = 'unhealthy';
      this.options.onLine(this.options.instance, 'faasq: health check failed; out of rotation');
    } else if (this.state === 'unhealthy' && isHealthy) {
      this.state = 'ready';
      this.options.onReady(this);
    }
  }

  private scheduleProbe(deadline: number): void {
    if (this.state !== 'starting') return;
    this.probeTimer = setTimeout(() => this.probe(deadline), PROBE_INTERVAL_MS);
  }

  private clearProbe(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.probeTimer = undefined;
    this.healthTimer = undefined;
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. Idempotent. */
  async stop(graceMs: number): Promise<void> {
    if (this.state !== 'exited') this.state = 'stopping';
    this.clearProbe();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      // bubblewrap does not pass SIGTERM on: the watchdog is asked to send it to its function.
      if (!this.channel?.stop()) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await this.pool.destroy().catch(() => undefined);
  }
}
