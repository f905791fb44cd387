// What every express-lane call shares: the gateway's settings and services, the connection pool
// to functions, one deadline queue per timeout in use, and the cached Date header.
import { execTimeoutFor, type DirectRoute } from '../../provider/index.js';
import { DeadlineQueue } from '../../shared/deadline-queue.js';
import type { EventBus } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import type { SyncInvokeDeps } from '../sync-invoke.js';
import { HttpDate } from './http-date.js';
import { UpstreamPool } from './upstream-pool.js';

/** The lane needs what the full sync path needs, minus the async hand-off (async calls go to that path). */
export type LaneDeps = Pick<SyncInvokeDeps, 'gateway' | 'provider' | 'events' | 'logger' | 'limits' | 'isAccepting' | 'isAuthorized' | 'isGatewayCredential' | 'isAllowedHost' | 'newCallId' | 'anomalies'>;

/** Distinct timeouts that get a shared deadline queue; calls with other values use a timer each. */
const MAX_DEADLINE_QUEUES = 16;

export class LaneContext {
  readonly pool: UpstreamPool;
  readonly date = new HttpDate();
  readonly events: EventBus;
  readonly logger: Logger;
  readonly isAccepting: () => boolean;
  readonly newCallId: () => string;
  private readonly deadlines = new Map<number, DeadlineQueue>();

  constructor(readonly deps: LaneDeps) {
    this.events = deps.events;
    this.logger = deps.logger;
    this.isAccepting = deps.isAccepting;
    this.newCallId = deps.newCallId;
    this.pool = new UpstreamPool((fnLabel) => deps.anomalies.report(fnLabel, 'express', 'idle_bytes'), deps.gateway.upstreamQuietMs);
  }

  /** The call's whole time limit: the gateway's upstream timeout, or the function's if shorter (0: none). */
  timeoutFor(route: DirectRoute, xTimeout: string | undefined): number {
    const gatewayMs = this.deps.gateway.upstreamTimeoutMs;
    const execMs = execTimeoutFor(xTimeout, route.execTimeoutMs);
    if (execMs <= 0) return gatewayMs;
    return gatewayMs > 0 ? Math.min(gatewayMs, execMs) : execMs;
  }

  /** The shared deadline queue for `timeoutMs`, or undefined (no timeout, or too many distinct ones). */
  deadlinesFor(timeoutMs: number): DeadlineQueue | undefined {
    if (timeoutMs <= 0) return undefined;
    let queue = this.deadlines.get(timeoutMs);
    if (!queue && this.deadlines.size < MAX_DEADLINE_QUEUES) {
      queue = new DeadlineQueue(timeoutMs);
      this.deadlines.set(timeoutMs, queue);
    }
    return queue;
  }

  close(): void {
    this.pool.close();
  }
}
