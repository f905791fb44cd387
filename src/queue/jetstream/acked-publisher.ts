// JetStream publishes whose acks come back on one shared inbox subscription, as the Go client's
// PublishAsync does. js.publish() is a request: a fresh reply subscription entry, a timer and a
// "cancelled" RequestError built on every completion, a fifth of the accept path's CPU. Here a
// publish is a core publish with a reply subject `<inbox>.<token>`; one subscription resolves the
// waiting promise by token, one interval times out the overdue ones. Acks are parsed as the
// JetStream API defines them ({stream, seq, duplicate} or {error}), and errors are the client's
// own classes, so jetstream-errors.ts translates them as before. A "duplicate" without a sequence
// is no confirmation (UnstoredDuplicateError).
import { JetStreamApiError, type ApiError } from '@nats-io/jetstream';
import { createInbox, errors as natsErrors, headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { UnstoredDuplicateError } from './jetstream-errors.js';

export interface AckedPublishOptions {
  /** Nats-Msg-Id: the stream drops a second message with it within its duplicate window. */
  readonly msgID?: string;
  /** Nats-Expected-Stream: refused unless the subject lands in this stream. */
  readonly expectStream?: string;
  /** Nats-Expected-Last-Subject-Sequence: compare-and-set on the subject (0: none may exist). */
  readonly expectLastSubjectSequence?: number;
  readonly timeoutMs: number;
}

export interface PubAck {
  readonly seq: number;
  readonly isDuplicate: boolean;
}

export interface AckedPublisher {
  publish(subject: string, data: Uint8Array, options: AckedPublishOptions): Promise<PubAck>;
  /** Fails every waiting publish; later ones fail at once. */
  close(): void;
}

interface Waiting {
  readonly resolve: (ack: PubAck) => void;
  readonly reject: (err: Error) => void;
  readonly subject: string;
  readonly deadline: number;
}

/** How often overdue acks are looked for; a timeout fires up to this much late. */
const SWEEP_INTERVAL_MS = 100;

export function createAckedPublisher(nc: NatsConnection): AckedPublisher {
  const inbox = createInbox();
  const waiting = new Map<string, Waiting>();
  const decoder = new TextDecoder();
  let next = 0;
  let isClosed = false;

  const settle = (msg: Msg | undefined): void => {
    if (!msg) return;
    const token = msg.subject.slice(inbox.length + 1);
    const entry = waiting.get(token);
    if (!entry) return;
    waiting.delete(token);
    // A 503 status with no body: no stream (or no leader) listens on the subject.
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      entry.reject(new natsErrors.NoRespondersError(entry.subject));
      return;
    }
    let ack: { seq?: number; duplicate?: boolean; error?: ApiError };
    try {
      ack = JSON.parse(decoder.decode(msg.data)) as typeof ack;
    } catch (err) {
      entry.reject(new Error(`unreadable JetStream publish ack on ${entry.subject}`, { cause: err }));
      return;
    }
    if (ack.error) entry.reject(new JetStreamApiError(ack.error));
    else if (ack.duplicate === true && !((ack.seq ?? 0) > 0)) entry.reject(new UnstoredDuplicateError(entry.subject));
    else entry.resolve({ seq: ack.seq ?? 0, isDuplicate: ack.duplicate === true });
  };

  const sub: Subscription = nc.subscribe(`${inbox}.*`, { callback: (_err, msg) => settle(msg) });
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [token, entry] of waiting) {
      if (entry.deadline > now) continue;
      waiting.delete(token);
      entry.reject(new natsErrors.TimeoutError());
    }
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  return {
    publish(subject, data, options) {
      if (isClosed || nc.isClosed()) return Promise.reject(new natsErrors.ClosedConnectionError());
      const token = (next++).toString(36);
      const h = natsHeaders();
      if (options.msgID !== undefined) h.set('Nats-Msg-Id', options.msgID);
      if (options.expectStream !== undefined) h.set('Nats-Expected-Stream', options.expectStream);
      if (options.expectLastSubjectSequence !== undefined) h.set('Nats-Expected-Last-Subject-Sequence', String(options.expectLastSubjectSequence));
      return new Promise<PubAck>((resolve, reject) => {
        waiting.set(token, { resolve, reject, subject, deadline: Date.now() + options.timeoutMs });
        try {
          nc.publish(subject, data, { reply: `${inbox}.${token}`, headers: h });
        } catch (err) {
          waiting.delete(token);
          reject(err);
        }
      });
    },
    close() {
      if (isClosed) return;
      isClosed = true;
      clearInterval(sweeper);
      sub.unsubscribe();
      for (const entry of waiting.values()) entry.reject(new natsErrors.ClosedConnectionError());
      waiting.clear();
    },
  };
}
