// What the provider needs from a running function, whatever runs it (forked processes,
// long-lived http-mode replicas, or an HTTP upstream).
import type { Config } from '../../config/config.js';
import type { DirectRoute, InvocationRequest, InvocationResponse, ResponseSink } from '../provider.js';

export interface FunctionRuntime {
  /** Starts the desired replicas; rejects E_DEPLOY_FAILED when they cannot be started at all. */
  start(): Promise<void>;
  scale(replicas: number): Promise<void>;
  invoke(request: InvocationRequest, startedAt: number): Promise<InvocationResponse>;
  /** The sync hot path; runtimes without it are served through invoke() (stream-adapter.ts). */
  stream?(request: InvocationRequest, startedAt: number, sink: ResponseSink): void;
  /** A ready replica the express lane may call directly (see Provider.route), or undefined. */
  route?(): DirectRoute | undefined;
  /** A ready replica once there is one (see Provider.waitForRoute). */
  waitForRoute?(signal: AbortSignal): Promise<DirectRoute>;
  /** Calls can be routed directly (route() may answer once a replica is ready). */
  isDirect?(): boolean;
  replicas(): number;
  availableReplicas(): number;
  /** Stops every process (SIGTERM, then SIGKILL after the grace period) and releases connections. */
  stop(): Promise<void>;
}

/** The provider settings a runtime obeys: its slice of Config. */
export type RuntimeLimits = Pick<Config['provider'], 'execTimeoutMs' | 'readyTimeoutMs' | 'healthIntervalMs' | 'restartMinMs' | 'restartMaxMs' | 'shutdownGraceMs' | 'maxForkOutputBytes'>;

/** Exponential restart delay: min, 2*min, 4*min, ... capped at max. Pure, so it is tested alone. */
export function restartDelayMs(failures: number, minMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  return Math.min(maxMs, minMs * 2 ** exponent);
}
