// One leased JetStream message as the Queue seam's Delivery: settles exactly once (later calls
// are no-ops), maps ack to a plain ack, retry to nak(delay), release to nak(), extend to working().
// The ack is not acknowledged back (no ackAck round trip): the worker acks only calls whose record
// is already final, so an ack lost with a dead server means one redelivery that the worker acks
// again without running the call. A dead-letter move still waits for its ack.
import type { JsMsg } from '@nats-io/jetstream';
import type { CallMessage, CallRecord, CallResult, Delivery, RecordGuard } from '../queue.js';
import { toQueueError } from './jetstream-errors.js';
import type { WriteBatcher } from './write-batcher.js';

export interface DeliveryContext {
  readonly ackTimeoutMs: number;
  /** Copies the message to the dead-letter stream and marks the record dead (not the ack). */
  deadLetter(message: CallMessage, msg: JsMsg, info: { status?: number; error?: string }): Promise<void>;
  /** A message naked with a delay: counted as delayed until then. */
  onDelayed(message: CallMessage, dueAt: number): void;
  /** Registers a settle in progress, so close() lets it finish before the connection goes. */
  track(settling: Promise<void>): Promise<void>;
  /** Coalesces the ack with the loop turn's other writes. */
  readonly batch: WriteBatcher;
  /** The record at the start of a delivery (derived from the message when none is stored). */
  record(message: CallMessage, deliveryCount: number): Promise<CallRecord>;
  /** Writes the final record with its result (not the ack). */
  complete(message: CallMessage, patch: Partial<CallRecord>, result: CallResult | undefined, guard: RecordGuard | undefined): Promise<CallRecord | undefined>;
}

export function createDelivery(ctx: DeliveryContext, msg: JsMsg, message: CallMessage, onSettled: () => void): Delivery {
  let isSettled = false;
  const settle = (action: string, fn: () => Promise<void> | void): Promise<void> => {
    if (isSettled) return Promise.resolve();
    isSettled = true;
    const run = async (): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        throw toQueueError(err, action);
      } finally {
        onSettled();
      }
    };
    return ctx.track(run());
  };
  const ackAck = async (): Promise<void> => {
    await msg.ackAck({ timeout: ctx.ackTimeoutMs });
  };
  return {
    message,
    deliveryCount: msg.info.deliveryCount,
    // The server counted the delivery (num_delivered) before sending it.
    countKept: () => Promise.resolve(),
    extend() {
      if (!isSettled) msg.working();
    },
    ack: () => settle('ack', () => ctx.batch(() => msg.ack())),
    retry: (delayMs) =>
      settle('retry', () => {
        const delay = Math.max(0, Math.round(delayMs));
        if (delay > 0) {
          msg.nak(delay);
          ctx.onDelayed(message, Date.now() + delay);
        } else {
          msg.nak();
        }
      }),
    deadLetter: (info) =>
      settle('dead-letter', async () => {
        await ctx.deadLetter(message, msg, info);
        await ackAck();
      }),
    release: () => settle('release', () => msg.nak()),
    record: () => ctx.record(message, msg.info.deliveryCount),
    async complete(patch, result, guard) {
      if (isSettled) return undefined;
      // Written before the delivery counts as settled: a write that fails (a leader election) leaves
      // it leased, so the worker can try again instead of running the call a second time.
      let final: CallRecord | undefined;
      try {
        final = await ctx.complete(message, patch, result, guard);
      } catch (err) {
        throw toQueueError(err, 'complete');
      }
      await settle('complete', () => ctx.batch(() => msg.ack()));
      return final;
    },
  };
}
