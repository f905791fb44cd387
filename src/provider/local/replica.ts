// One http-mode process: spawned with PORT set, probed until it answers HTTP, then served
// through its own keep-alive undici Pool and re-probed every healthIntervalMs. It reports its
// exit once; restarting is the supervisor's job (http-runtime.ts), so this file knows nothing
// about backoff.
import { spawn, type ChildProcess } from 'node:child_process';
import { Pool } from 'undici';
import { FaasqError } from '../../shared/errors.js';
import type { DirectRoute } from '../provider.js';
import type { Command } from './command.js';
import { lineSplitter } from './log-ring.js';

/** `unhealthy`: was ready, then refused connections or answered 503 on /_/health; not routed to. */
export type ReplicaState = 'starting' | 'ready' | 'unhealthy' | 'stopping' | 'exited';

export interface ReplicaOptions {
  readonly instance: string;
  readonly command: Command;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly port: number;
  /** The function's exec timeout, handed to the express lane with the replica's address. */
  readonly execTimeoutMs: number;
  readonly readyTimeoutMs: number;
  /** Interval of liveness probes once ready; 0 disables them. */
  readonly healthIntervalMs: number;
  readonly onLine: (instance: string, text: string) => void;
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
  readonly pool: Pool;
  /** This replica's address for the express lane; release() ends a call route() counted. */
  readonly route: DirectRoute;
  private child: ChildProcess | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly options: ReplicaOptions) {
    this.pool = new Pool(`http://127.0.0.1:${options.port}`, { pipelining: 1, connections: 128, keepAliveTimeout: 30_000 });
    this.route = {
      host: '127.0.0.1',
      port: options.port,
      authority: `127.0.0.1:${options.port}`,
      pathPrefix: '',
      execTimeoutMs: options.execTimeoutMs,
      release: () => {
        this.inflight -= 1;
      },
    };
  }

  get instance(): string {
    return this.options.instance;
  }

  /** Resolves once the process is spawned; rejects E_DEPLOY_FAILED when it cannot be (ENOENT, EACCES). */
  start(): Promise<void> {
    const { command, cwd, env } = this.options;
    return new Promise((resolve, reject) => {
      const child = spawn(command.file, [...command.args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
      this.child = child;
      let hasSpawned = false;
      this.exited = new Promise((done) => child.once('close', () => done()));
      const out = lineSplitter((text) => this.options.onLine(this.options.instance, text));
      const err = lineSplitter((text) => this.options.onLine(this.options.instance, text));
      child.stdout?.on('data', (chunk: Buffer) => out.write(chunk));
      child.stderr?.on('data', (chunk: Buffer) => err.write(chunk));
      child.once('error', (error: NodeJS.ErrnoException) => {
        if (hasSpawned) return;
        this.state = 'exited';
        void this.pool.destroy();
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
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    await this.pool.destroy().catch(() => undefined);
  }
}
