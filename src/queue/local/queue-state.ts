// Per-queue bookkeeping the local engine keeps in memory: counters (rebuilt from the store at
// start), live leases and consumers. Nothing here grows with the number of queued calls.
import { MAX_PRIORITY } from '../queue.js';
import type { Delivery } from '../queue.js';
import type { StoredMessage } from './call-rows.js';

export interface ConsumerState {
  readonly queue: QueueState;
  readonly maxInflight: number;
  readonly handler: (delivery: Delivery) => void;
  /** Deliveries handed to this consumer and not yet settled or expired. */
  active: number;
  isClosed: boolean;
}

export interface Lease {
  readonly callId: string;
  readonly queue: QueueState;
  readonly consumer: ConsumerState;
  readonly deliveryCount: number;
  timer?: NodeJS.Timeout;
  /** True while the lease holds one of its consumer's maxInflight slots. */
  hasSlot: boolean;
  isSettled: boolean;
  /** Cancelled while leased: its message is gone, settling it writes nothing. */
  isCancelled: boolean;
  /** The stored message row as delivered; still the stored one unless the lease expired meanwhile. */
  readonly row: StoredMessage;
  hasExpired: boolean;
}

export interface QueueState {
  readonly name: string;
  /** Unfinished calls per priority (index = priority). */
  readonly depthByPriority: number[];
  deadLetters: number;
  /** callId → lease, for leased calls and calls whose settlement is being written. */
  readonly leases: Map<string, Lease>;
  readonly consumers: Set<ConsumerState>;
  wakeTimer?: NodeJS.Timeout;
  wakeAt: number;
  isPumpScheduled: boolean;
}

export function newQueueState(name: string): QueueState {
  return {
    name,
    depthByPriority: new Array<number>(MAX_PRIORITY + 1).fill(0),
    deadLetters: 0,
    leases: new Map(),
    consumers: new Set(),
    wakeAt: Infinity,
    isPumpScheduled: false,
  };
}

export function depthOf(state: QueueState): number {
  let sum = 0;
  for (const n of state.depthByPriority) sum += n;
  return sum;
}
