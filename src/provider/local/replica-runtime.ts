// The replica supervisor for fork and http mode: keeps N replicas running (each the in-replica
// watchdog in its sandbox, or an http-mode server of its own when there is no sandbox), restarts
// crashed ones with exponential backoff, and balances requests to the least busy ready replica
// (round-robin among equals). Fork-mode watchdogs report their errors in an `x-faasq-error`
// header, turned into faasq errors here; a replica killed at its memory limit fails its call
// with E_FUNCTION_MEMORY_LIMIT, is counted and restarted. With no ready replica a request
// waits up to readyTimeoutMs, then fails E_FUNCTION_NOT_READY (503, retryable) — also when the
// function keeps crashing, so callers see one "not ready" signal and the worker retries it. When
// every replica's last process exited before it was ever ready (a bad fprocess, a missing binary
// behind `sh -c`), waiting cannot help: that same 503 comes at once, naming the exit.
import { FaasqError } from '../../shared/errors.js';
import type { DirectRoute, InvocationRequest, InvocationResponse, ResponseSink } from '../provider.js';
import type { Pooling } from './quiet-pool.js';
import { proxyRequest, requestTimeoutMs } from './http-proxy.js';
import { dispatchRequest } from './http-dispatch.js';
import { Replica } from './replica.js';
import { restartDelayMs, type FunctionRuntime, type RuntimeLimits } from './runtime.js';
import { launchReplica, type LaunchContext, type LaunchPlan } from './sandbox/index.js';
import { WatchdogSink, watchdogResponse, type ReplicaErrors } from './watchdog-errors.js';

/**
 * How long past a fork-mode function's exec timeout the gateway still waits: the replica's watchdog
 * kills the process at the timeout and answers 504 saying so, so the gateway's clock is a backstop.
 */
const FORK_BACKSTOP_MS = 1000;

export interface ReplicaRuntimeOptions {
  readonly name: string;
  readonly namespace: string;
  readonly plan: LaunchPlan;
  readonly launch: LaunchContext;
  readonly replicas: number;
  readonly limits: RuntimeLimits;
  readonly log: (instance: string, text: string) => void;
  /** A replica's process was killed by the kernel at the function's memory limit. */
  readonly onOomKill: (instance: string) => void;
  /** Stray-byte reports and the reuse rest for the replicas' connection pools (quiet-pool.ts). */
  readonly pooling: Pooling;
}

interface Slot {
  readonly index: number;
  replica: Replica | undefined;
  failures: number;
  readyAt: number;
  restartTimer: NodeJS.Timeout | undefined;
  /** Why the slot's last process exited before it was ready; cleared once one is ready. */
  startFailure: string | undefined;
}

export class ReplicaRuntime implements FunctionRuntime {
  private readonly slots: Slot[] = [];
  private readonly waiters = new Set<() => void>();
  private rr = 0;
  private isStopped = false;

  constructor(private readonly options: ReplicaRuntimeOptions) {}

  async start(): Promise<void> {
    await this.scale(this.options.replicas);
    // A fork-mode replica is only faasq's watchdog, ready in a blink: deploy waits for it, so a
    // deployed fork function is available at once, as it was when nothing stood between calls.
    if (this.isFork) await this.settled(Date.now() + this.options.limits.readyTimeoutMs);
  }

  /** Resolves when every slot is ready or its process has failed to start, or at the deadline. */
  private async settled(deadline: number): Promise<void> {
    const isSettled = (): boolean => this.slots.every((slot) => slot.replica?.state === 'ready' || slot.startFailure !== undefined);
    while (!isSettled() && !this.isStopped && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
        this.waiters.add(done);
      });
    }
  }

  async scale(replicas: number): Promise<void> {
    const adding: Promise<void>[] = [];
    while (this.slots.length < replicas) {
      const slot: Slot = { index: this.slots.length, replica: undefined, failures: 0, readyAt: 0, restartTimer: undefined, startFailure: undefined };
      this.slots.push(slot);
      // A slot whose process cannot even be spawned is dropped, so no dead slot lingers.
      adding.push(this.launch(slot).catch((err: unknown) => {
        const at = this.slots.indexOf(slot);
        if (at >= 0) this.slots.splice(at, 1);
        throw err;
      }));
    }
    const removed = this.slots.splice(replicas);
    const results = await Promise.allSettled([...adding, ...removed.map((slot) => this.stopSlot(slot))]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  replicas(): number {
    return this.slots.length;
  }

  availableReplicas(): number {
    let n = 0;
    for (const slot of this.slots) if (slot.replica?.state === 'ready') n += 1;
    return n;
  }

  async invoke(request: InvocationRequest, startedAt: number): Promise<InvocationResponse> {
    const replica = this.pick() ?? (await this.waitForReplica(request.signal));
    replica.inflight += 1;
    let res: InvocationResponse;
    try {
      res = await proxyRequest(replica.pool, '', request, this.clockMs(request), startedAt, this.options.name);
      if (this.isFork) res = await watchdogResponse(res, this.errorsOf(replica));
    } catch (err) {
      replica.inflight -= 1;
      const memory = this.errorsOf(replica).memoryError();
      if (memory) this.noteOom(replica);
      throw memory ?? err;
    }
    res.body.once('close', () => { replica.inflight -= 1; });
    return res;
  }

  private get isFork(): boolean {
    return this.options.plan.mode === 'fork';
  }

  /** The exec timeout the gateway keeps for `request` (X-Timeout may shorten it; the watchdog keeps the function's own). */
  private clockMs(request: InvocationRequest): number {
    const execMs = this.options.limits.execTimeoutMs;
    const ms = requestTimeoutMs(request, execMs);
    return this.isFork && ms > 0 && ms === execMs ? ms + FORK_BACKSTOP_MS : ms;
  }

  /** How this replica's failures read: the watchdog's reports and the memory-limit check. */
  private errorsOf(replica: Replica): ReplicaErrors {
    return {
      fn: this.options.name,
      maxOutputBytes: this.options.plan.maxOutputBytes,
      memoryError: () => {
        if (!replica.checkOom() && !replica.isOomKilled) return undefined;
        return this.memoryLimitError();
      },
    };
  }

  private memoryLimitError(): FaasqError {
    const limit = this.options.plan.limits.memoryText ?? '?';
    return new FaasqError('E_FUNCTION_MEMORY_LIMIT', `function "${this.options.name}" was killed at its memory limit (limits.memory ${limit}); its replica restarts`, { detail: { limit } });
  }

  /** Reports a memory kill once (log line, event) and restarts the replica. */
  private noteOom(replica: Replica): void {
    if (replica.isOomReported) return;
    replica.isOomReported = true;
    this.options.log(replica.instance, `faasq: killed at its memory limit (limits.memory ${this.options.plan.limits.memoryText ?? '?'}); restarting`);
    this.options.onOomKill(replica.instance);
    replica.kill();
  }

  stream(request: InvocationRequest, startedAt: number, sink: ResponseSink): void {
    const replica = this.pick();
    if (replica) return this.dispatchTo(replica, request, startedAt, sink);
    // No ready replica: the rare slow path waits like invoke() does.
    this.waitForReplica(request.signal).then(
      (ready) => this.dispatchTo(ready, request, startedAt, sink),
      (err: unknown) => sink.onError(err),
    );
  }

  route(): DirectRoute | undefined {
    if (this.isFork) return undefined;
    const replica = this.pick();
    if (!replica) return undefined;
    replica.inflight += 1;
    return replica.route;
  }

  /** Fork mode is not: its watchdog's error reports need translating on the full path. */
  isDirect(): boolean {
    return !this.isFork;
  }

  async waitForRoute(signal: AbortSignal): Promise<DirectRoute> {
    const replica = this.pick() ?? (await this.waitForReplica(signal));
    replica.inflight += 1;
    return replica.route;
  }

  private dispatchTo(replica: Replica, request: InvocationRequest, startedAt: number, sink: ResponseSink): void {
    replica.inflight += 1;
    const errors = this.errorsOf(replica);
    const watched = new WatchdogSink(sink, errors, this.isFork, () => {
      if (replica.isOomKilled) this.noteOom(replica);
    });
    dispatchRequest(replica.pool, '', request, this.clockMs(request), startedAt, this.options.name, watched, () => {
      replica.inflight -= 1;
    });
  }

  /** Lets in-flight requests finish (up to the grace period), then stops every process. */
  async stop(): Promise<void> {
    this.isStopped = true;
    for (const wake of this.waiters) wake();
    const deadline = Date.now() + this.options.limits.shutdownGraceMs;
    while (this.inflight() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((slot) => this.stopSlot(slot)));
    for (const wake of this.waiters) wake();
  }

  private inflight(): number {
    let n = 0;
    for (const slot of this.slots) n += slot.replica?.inflight ?? 0;
    return n;
  }

  private pick(): Replica | undefined {
    let best: Replica | undefined;
    const n = this.slots.length;
    for (let i = 0; i < n; i += 1) {
      const replica = this.slots[(this.rr + i) % n].replica;
      if (replica?.state === 'ready' && (!best || replica.inflight < best.inflight)) best = replica;
    }
    this.rr = n > 0 ? (this.rr + 1) % n : 0;
    return best;
  }

  private async waitForReplica(signal: AbortSignal | undefined): Promise<Replica> {
    const { readyTimeoutMs } = this.options.limits;
    if (this.slots.length === 0) throw new FaasqError('E_FUNCTION_NOT_READY', `function "${this.options.name}" is scaled to zero replicas`);
    this.throwIfNotStarting();
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.isStopped) break;
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        this.waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
      const replica = this.pick();
      if (replica) return replica;
      this.throwIfNotStarting();
    }
    signal?.throwIfAborted();
    throw new FaasqError('E_FUNCTION_NOT_READY', `function "${this.options.name}" has no ready replica after ${readyTimeoutMs}ms`, { headers: { 'Retry-After': '1' } });
  }

  /** Fails fast when no replica is ready and every slot's last process died before it was. */
  private throwIfNotStarting(): void {
    let reason: string | undefined;
    for (const slot of this.slots) {
      if (slot.startFailure === undefined || slot.replica?.state === 'ready') return;
      reason = slot.startFailure;
    }
    if (reason === undefined) return;
    const { name } = this.options;
    throw new FaasqError('E_FUNCTION_NOT_READY', `function "${name}" is not ready: its process exited before it was ready (${reason}); restarting it, see \`faasq logs ${name}\``, {
      headers: { 'Retry-After': '1' },
      detail: { reason },
    });
  }

  /** Starts a process in the slot; rejects only when spawning itself fails (command missing). */
  private async launch(slot: Slot): Promise<void> {
    const { name, plan, limits, log } = this.options;
    const launch = await launchReplica(this.options.launch, plan);
    if (this.isStopped || !this.slots.includes(slot)) {
      await launch.cleanup();
      return;
    }
    const instance = `${name}-${slot.index}`;
    const replica = new Replica({
      instance,
      launch,
      commandFile: plan.command.file,
      execTimeoutMs: limits.execTimeoutMs,
      readyTimeoutMs: limits.readyTimeoutMs,
      healthIntervalMs: limits.healthIntervalMs,
      onLine: log,
      pooling: this.options.pooling,
      onReady: () => {
        slot.readyAt = Date.now();
        slot.startFailure = undefined;
        for (const wake of [...this.waiters]) wake();
      },
      onExit: (exited, reason) => this.onExit(slot, exited, reason),
    });
    slot.replica = replica;
    await replica.start();
  }

  private onExit(slot: Slot, replica: Replica, exitReason: string): void {
    if (this.isStopped || slot.replica !== replica || !this.slots.includes(slot)) return;
    let reason = exitReason;
    if (replica.checkOom() || replica.isOomKilled) {
      reason = `killed at its memory limit (limits.memory ${this.options.plan.limits.memoryText ?? '?'})`;
      if (!replica.isOomReported) {
        replica.isOomReported = true;
        this.options.onOomKill(replica.instance);
      }
    }
    const { restartMinMs, restartMaxMs } = this.options.limits;
    // A replica that stayed up a long while earns a fresh backoff; a crash loop keeps doubling.
    if (slot.readyAt > 0 && Date.now() - slot.readyAt >= restartMaxMs) slot.failures = 0;
    slot.failures += 1;
    slot.startFailure = slot.readyAt > 0 ? undefined : reason;
    slot.readyAt = 0;
    // Requests waiting for a replica re-check: with every slot failing to start they fail now.
    for (const wake of [...this.waiters]) wake();
    const delayMs = restartDelayMs(slot.failures, restartMinMs, restartMaxMs);
    this.options.log(replica.instance, `faasq: process ${replica.pid ?? '?'} exited (${reason}); restart ${slot.failures} in ${delayMs}ms`);
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (this.isStopped || !this.slots.includes(slot)) return;
      this.launch(slot).catch((err: Error) => {
        this.options.log(replica.instance, `faasq: restart failed: ${err.message}`);
        this.onExit(slot, slot.replica as Replica, 'start failed');
      });
    }, delayMs);
  }

  private async stopSlot(slot: Slot): Promise<void> {
    if (slot.restartTimer) clearTimeout(slot.restartTimer);
    slot.restartTimer = undefined;
    await slot.replica?.stop(this.options.limits.shutdownGraceMs);
  }
}
