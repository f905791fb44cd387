// One timer for many calls that share the same delay (the sync path's upstream timeout, the
// worker's deferred `running` record). Calls join in start order, so they also reach their
// deadlines in that order: a linked list and a timer armed for its head replace a Timeout object
// and a setTimeout/clearTimeout pair per request (~0.4 µs per pair in a microbenchmark; under
// load the gain is within run-to-run noise, see bench/RESULTS.md).
import { performance } from 'node:perf_hooks';

/** The longest delay setTimeout honours (2^31 - 1 ms, ~24.8 days). */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

export interface DeadlineOwner {
  /** Called once when the owner's deadline passes while it is still queued. */
  onDeadline(): void;
}

/** A place in the queue; pass it to remove(). */
export class Deadline {
  prev: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  isQueued = true;

  constructor(
    readonly owner: DeadlineOwner,
    readonly at: number,
  ) {}
}

export class DeadlineQueue {
  private head: Deadline | undefined;
  private tail: Deadline | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Queues `owner` to be told when timeoutMs have passed, unless removed before. */
  add(owner: DeadlineOwner): Deadline {
    const entry = new Deadline(owner, performance.now() + this.timeoutMs);
    if (this.tail) {
      this.tail.next = entry;
      entry.prev = this.tail;
    } else {
      this.head = entry;
    }
    this.tail = entry;
    if (!this.timer) this.arm(this.timeoutMs);
    return entry;
  }

  remove(entry: Deadline): void {
    if (!entry.isQueued) return;
    entry.isQueued = false;
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    // An armed timer whose head went away just finds nothing due and re-arms for the new head.
  }

  private arm(delayMs: number): void {
    // Unref'd: in-flight calls keep the process alive through their sockets, an idle queue must not.
    // Node fires longer delays after 1 ms; a capped wait that finds nothing due simply re-arms.
    this.timer = setTimeout(this.fire, Math.min(delayMs, MAX_TIMER_DELAY_MS));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    // Bounded by the queue's length: every pass removes the head.
    while (this.head && this.head.at <= now) {
      const due = this.head;
      this.remove(due);
      due.owner.onDeadline();
    }
    // Node may fire a fraction of a millisecond before the head is due: wait at least 1 ms more.
    if (this.head) this.arm(Math.max(1, Math.ceil(this.head.at - now)));
  };
}
