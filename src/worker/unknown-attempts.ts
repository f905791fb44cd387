// Attempts whose outcome no record tells: a delivery the engine hands out again after its worker
// stopped. A first delivery runs before anything is written (the `running` record waits for
// worker.runningRecordDelayMs), so a worker killed within that delay leaves no trace; every later
// delivery writes `running` before it runs. So when a redelivery finds a record that:
// - says `running`: the attempt it counts was cut off (its worker died mid-run);
// - counts no attempt and no hand-back (`nextAttemptAt` unset): the first delivery may have run.
// Either attempt is counted in `attempts` and listed in `unknownAttempts`, so the record counts
// every run the function may have had. A first delivery a live worker hands back without running
// it (the function at its async concurrency limit, or the worker closing) sets `nextAttemptAt`
// first, so it is not taken for one; one handed back while the record could not be written may be
// (the count then errs high, never low).
import type { CallRecord } from '../queue/index.js';

/** The latest ones kept: a call that keeps killing its worker must not grow its record without bound. */
const MAX_LISTED = 16;

export interface AttemptCount {
  /** Attempts before this delivery's, the unknown ones included. */
  readonly attempts: number;
  /** The record's unknownAttempts with those this delivery revealed. */
  readonly unknownAttempts?: number[];
}

/** `runningRecordDelayMs` 0: every attempt writes `running` before it runs, so none runs untraced. */
export function countUnknownAttempts(record: CallRecord, deliveryCount: number, runningRecordDelayMs: number): AttemptCount {
  const listed = record.unknownAttempts;
  if (deliveryCount <= 1) return { attempts: record.attempts, unknownAttempts: listed };
  if (record.state === 'running' && record.attempts > 0) {
    if (listed?.includes(record.attempts)) return { attempts: record.attempts, unknownAttempts: listed };
    return { attempts: record.attempts, unknownAttempts: withAttempt(listed, record.attempts) };
  }
  if (runningRecordDelayMs > 0 && record.attempts === 0 && record.nextAttemptAt === undefined && (record.state === 'queued' || record.state === 'retrying')) {
    return { attempts: 1, unknownAttempts: withAttempt(listed, 1) };
  }
  return { attempts: record.attempts, unknownAttempts: listed };
}

/** `list` with `attempt` added (the latest MAX_LISTED kept). */
export function withAttempt(list: readonly number[] | undefined, attempt: number): number[] {
  return [...(list ?? []), attempt].slice(-MAX_LISTED);
}

/** Whether the record says a first delivery was handed back unrun (see the top of this file). */
export function needsHandBackMark(record: CallRecord, deliveryCount: number, runningRecordDelayMs: number): boolean {
  return runningRecordDelayMs > 0 && deliveryCount <= 1 && record.attempts === 0 && record.nextAttemptAt === undefined;
}
