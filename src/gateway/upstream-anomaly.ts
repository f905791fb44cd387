// A function that breaks HTTP framing towards the gateway (bytes on an idle connection, a bad
// head, bad chunks, a reply cut short) has its connection destroyed; this is where that is told:
// one event per occurrence (counted by reason in faasq_function_connection_anomalies_total) and
// one warn line per function, so a misbehaving function cannot flood the log.
import type { EventBus } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';

/**
 * Why a function's connection was destroyed (the `reason` label): idle_bytes: bytes while no call
 * was outstanding; extra_bytes: bytes past the end of a reply; bad_head: a reply head that is not
 * strict HTTP/1.x, or ambiguous framing; head_too_large; bad_chunk: malformed chunked framing;
 * switched_protocols: an unasked 101; truncated: the connection closed mid-body.
 */
export type AnomalyReason = 'idle_bytes' | 'extra_bytes' | 'bad_head' | 'head_too_large' | 'bad_chunk' | 'switched_protocols' | 'truncated';

/** Which sync path saw it. */
export type AnomalyPath = 'express' | 'full';

/** Functions remembered as already logged; past this the memory starts over (a log line again per function). */
const MAX_LOGGED_FUNCTIONS = 10_000;

/**
 * Reports anomalies as events, and writes the warn line for the first one of each function,
 * whoever emitted it (the lane and full path here, the local provider's pools for idle bytes).
 */
export class UpstreamAnomalies {
  private readonly logged = new Set<string>();
  private readonly off: () => void;

  constructor(
    private readonly events: EventBus,
    logger: Logger,
  ) {
    this.off = events.on('upstream.anomaly', (e) => {
      if (this.logged.has(e.fn)) return;
      if (this.logged.size >= MAX_LOGGED_FUNCTIONS) this.logged.clear();
      this.logged.add(e.fn);
      logger.warn({ function: e.fn, path: e.path, reason: e.reason }, 'function broke HTTP framing: connection dropped (logged once per function)');
    });
  }

  /** `fnLabel` is `name.namespace` ('' when unknown). */
  report(fnLabel: string, path: AnomalyPath, reason: AnomalyReason): void {
    this.events.emit('upstream.anomaly', { fn: fnLabel, path, reason });
  }

  close(): void {
    this.off();
  }
}
