// Finds a queued call's message by its id. A call accepted with a generated id has no KV record
// until a worker first writes one, so its queued message is its record: the message's subject
// ends in the call id, and a direct `last_by_subj` get with a wildcard for the priority (checked
// on nats-server 2.10) finds it, ready or delayed.
// "Not queued" is an answer only when the stream said so (no message, or no such stream); a
// lookup that failed (timeout, no responders, a frozen leader) rejects. Read as "not queued", it
// once made the worker take a call it still held for cancelled and ack it: the call was lost.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { CallMessage } from '../queue.js';
import { decodeMessage } from './codec.js';
import { isStreamNotFoundError } from './jetstream-errors.js';
import type { JetStreamNames } from './names.js';

/** The call's message in one queue's stream, or undefined when the stream says it is not there; rejects when it could not tell. */
export async function findQueuedIn(jsm: JetStreamManager, names: JetStreamNames, queueName: string, callId: string): Promise<CallMessage | undefined> {
  const stream = names.queueStream(queueName);
  // getMessage() itself answers null for "no message found" (10037); a missing stream is absent too.
  const lookup = (filter: string) => jsm.streams.getMessage(stream, { last_by_subj: filter }).catch((err: unknown) => {
    if (isStreamNotFoundError(err)) return null;
    throw err;
  });
  const found = await Promise.all(names.callFilters(queueName, callId).map(lookup));
  const stored = found.find((m) => m !== null && m !== undefined);
  return stored ? decodeMessage(stored.data) : undefined;
}

/** The call's message in any queue (GET and cancel of a call with no stored record yet); rejects when a queue could not be read. */
export async function findQueued(jsm: JetStreamManager, names: JetStreamNames, callId: string, listQueues: () => Promise<string[]>): Promise<CallMessage | undefined> {
  for (const name of await listQueues()) {
    const message = await findQueuedIn(jsm, names, name, callId);
    if (message) return message;
  }
  return undefined;
}
