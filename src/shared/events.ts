// Typed events that the gateway, worker and provider emit; metrics and the call-lifecycle log
// subscribe to them, so those components never import prom-client or each other.
import { EventEmitter } from 'node:events';

export interface FaasqEvents {
  /** A sync invocation finished (any status); durationMs from request start to response end. */
  'invocation.started': { fn: string; namespace: string };
  'invocation.completed': { fn: string; namespace: string; status: number; durationMs: number; callId: string };
  'call.accepted': { callId: string; fn: string; namespace: string; queue: string; priority: number; acceptMs: number; isDuplicate: boolean };
  'call.rejected': { fn: string; queue?: string; code: string; namespace?: string };
  'call.started': { callId: string; fn: string; queue: string; attempt: number; queuedMs: number; namespace: string };
  'call.attempt_failed': { callId: string; fn: string; queue: string; attempt: number; status?: number; error?: string; durationMs: number; namespace: string; /** status when the function gave one, else 502 (transport) / 504 (timeout), as the invocation metrics count it */ reportedStatus: number };
  'call.retried': { callId: string; fn: string; queue: string; attempt: number; delayMs: number; namespace: string };
  'call.succeeded': { callId: string; fn: string; queue: string; attempt: number; status: number; durationMs: number; namespace: string };
  'call.failed': { callId: string; fn: string; queue: string; attempt: number; status?: number; durationMs: number; namespace: string };
  'call.dead_lettered': { callId: string; fn: string; queue: string; attempt: number; status?: number; error?: string; reason: 'attempts' | 'max_age'; namespace: string };
  /** by 'request': the cancel API accepted it (counted once); 'worker': a running attempt was stopped by it. */
  'call.cancelled': { callId: string; fn: string; queue: string; namespace: string; by: 'request' | 'worker' };
  'callback.delivered': { callId: string; fn: string; url: string; status: number; attempt: number; namespace: string; queue: string };
  'callback.failed': { callId: string; fn: string; url: string; status?: number; error?: string; attempt: number; isFinal: boolean; namespace: string; queue: string };
  'worker.inflight': { queue: string; fn: string; delta: number; namespace: string };
  /** The gateway's express lane gave a connection to the full path (reasons: express-lane.ts). */
  'gateway.handoff': { reason: string };
  /** The kernel killed a replica's process at the function's limits.memory (the replica restarts). */
  'function.oom_killed': { fn: string; namespace: string; instance: string };
  /** A function's connection was destroyed for breaking HTTP framing (reasons: gateway/upstream-anomaly.ts); fn is name.namespace. */
  'upstream.anomaly': { fn: string; path: 'express' | 'full'; reason: string };
  /** A worker in this process started consuming these queues (undefined: every queue). */
  'worker.started': { queues?: readonly string[] };
}

export type EventName = keyof FaasqEvents;

export class EventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  emit<K extends EventName>(name: K, payload: FaasqEvents[K]): void {
    this.emitter.emit(name, payload);
  }

  on<K extends EventName>(name: K, listener: (payload: FaasqEvents[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}
