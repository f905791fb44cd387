// An attempt's `running` record, written only once the call has run for worker.runningRecordDelayMs.
// That record is one queue write per call; a call that finishes sooner goes straight from queued
// (or retrying) to its final record, which then carries the attempt's fields itself. With a delay
// of 0 the record is written before the function is called.
import type { CallRecord } from '../queue/index.js';
import type { Deadline, DeadlineOwner, DeadlineQueue } from '../shared/index.js';

/** What became of the `running` record by the time the attempt ended. */
export type RunningRecordOutcome =
  /** Never written: the next write of the attempt carries its fields. */
  | { readonly kind: 'skipped' }
  | { readonly kind: 'written'; readonly record: CallRecord }
  /** The record had left the resumable states (cancelled, usually). */
  | { readonly kind: 'refused' }
  /** The write failed; whether it landed is unknown. */
  | { readonly kind: 'failed'; readonly error: unknown };

const SKIPPED: RunningRecordOutcome = { kind: 'skipped' };

export class RunningRecord implements DeadlineOwner {
  private deadline: Deadline | undefined;
  private writing: Promise<RunningRecordOutcome> | undefined;

  constructor(
    private readonly timers: DeadlineQueue,
    private readonly write: () => Promise<CallRecord | undefined>,
  ) {}

  /** Writes the record once the shared delay has passed, unless the attempt has ended by then. */
  schedule(): void {
    this.deadline = this.timers.add(this);
  }

  onDeadline(): void {
    this.deadline = undefined;
    void this.start();
  }

  /** Writes the record now (once). */
  start(): Promise<RunningRecordOutcome> {
    this.writing ??= this.write().then(
      (record): RunningRecordOutcome => (record ? { kind: 'written', record } : { kind: 'refused' }),
      (error: unknown): RunningRecordOutcome => ({ kind: 'failed', error }),
    );
    return this.writing;
  }

  /** The attempt has ended: a write not yet started never will be; one under way is awaited. */
  settle(): Promise<RunningRecordOutcome> {
    if (this.deadline) {
      this.timers.remove(this.deadline);
      this.deadline = undefined;
    }
    return this.writing ?? Promise.resolve(SKIPPED);
  }
}
