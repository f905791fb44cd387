// Calls accepted with a notBefore ahead wait on the queue's delayed subjects (nats-server 2.10 has
// no scheduled messages). Every process consuming the queue runs a mover on the shared "delayed"
// consumer: a call not yet due is naked with the time left; a due one is published to its
// priority subject (msgID <callId>~due~<seq>, so a crash between publish and ack cannot double it) and
// then acked. The moved call starts its life on the priority consumer with deliveryCount 1.
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { Logger } from '../../shared/index.js';
import { decodeMessage } from './codec.js';
import type { JetStreamNames } from './names.js';
import { assertStored } from './jetstream-errors.js';

const RESTART_DELAY_MS = 1000;
const BATCH = 64;

export interface DelayMoverDeps {
  readonly js: JetStreamClient;
  readonly names: JetStreamNames;
  readonly queue: string;
  readonly publishTimeoutMs: number;
  readonly logger: Logger;
  ready(): Promise<void>;
}

export function startDelayMover(deps: DelayMoverDeps): { close(): Promise<void> } {
  const { js, names, queue, logger } = deps;
  const stream = names.queueStream(queue);
  let isClosed = false;
  let messages: ConsumerMessages | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let loop: Promise<void> | undefined;

  const handle = async (msg: JsMsg): Promise<void> => {
    let message;
    try {
      message = decodeMessage(msg.data);
    } catch (err) {
      logger.error({ err, stream, seq: msg.seq }, 'undecodable delayed message terminated');
      msg.term();
      return;
    }
    const waitMs = (message.notBefore ?? 0) - Date.now();
    if (waitMs > 0) {
      msg.nak(waitMs);
      return;
    }
    try {
      const subject = names.prioritySubject(queue, message.priority, message.callId);
      assertStored(await js.publish(subject, msg.data, {
        // With a "~", which no caller's X-Call-Id may hold: a call id chosen as "<id>.due.<seq>" once
        // took this msgID first, and the server dropped the move as its duplicate (the call was lost).
        msgID: `${message.callId}~due~${msg.seq}`,
        expect: { streamName: stream },
        timeout: deps.publishTimeoutMs,
      }), subject);
      await msg.ackAck({ timeout: deps.publishTimeoutMs });
    } catch (err) {
      // Left unacked: it comes back after the lease and is moved then (the msgID dedupes).
      logger.warn({ err, callId: message.callId }, 'moving a due call failed; will retry');
    }
  };

  const run = async (): Promise<void> => {
    await deps.ready();
    const consumer = await js.consumers.get(stream, names.delayedDurable);
    if (isClosed) return;
    messages = await consumer.consume({ max_messages: BATCH, expires: 5000, idle_heartbeat: 1000 });
    try {
      for await (const msg of messages) {
        if (isClosed) break;
        await handle(msg);
      }
    } finally {
      await messages.close();
    }
  };

  const launch = (): void => {
    loop = run()
      .catch((err: unknown) => {
        if (!isClosed) logger.warn({ err, queue }, 'delay mover stopped; restarting');
      })
      .finally(() => {
        if (isClosed) return;
        restartTimer = setTimeout(launch, RESTART_DELAY_MS);
      });
  };
  launch();

  return {
    async close() {
      if (isClosed) return;
      isClosed = true;
      clearTimeout(restartTimer);
      await messages?.close().catch(() => undefined);
      await loop;
    },
  };
}
