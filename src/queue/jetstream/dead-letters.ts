// Dead letters on JetStream: one limits-retention stream, subject <prefix>.dlq.<queue>.<callId>
// (one message per subject), read by sequence with next_by_subj so listing never loads it all.
import type { JetStreamClient, JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import type { CallMessage, CallRecord, DeadLetter, DeadLetterFilter } from '../queue.js';
import { decodeDeadLetter, encodeDeadLetter, encodeMessage } from './codec.js';
import { decodeToken, type JetStreamNames } from './names.js';
import { assertStored } from './jetstream-errors.js';

const DEFAULT_LIST_LIMIT = 1000;

export interface DeadLetterDeps {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: JetStreamNames;
  readonly publishTimeoutMs: number;
  /** Where a call goes when it is queued again (a delayed subject while notBefore is ahead). */
  subjectFor(message: CallMessage): string;
  ensureQueue(queue: string): Promise<void>;
  /** Puts the record back to queued with attempts reset (recreating it when it expired). */
  requeueRecord(message: CallMessage): Promise<CallRecord>;
}

export interface DeadLetterStore {
  add(deadLetter: DeadLetter, msgId: string): Promise<void>;
  list(filter?: DeadLetterFilter): Promise<DeadLetter[]>;
  get(callId: string): Promise<DeadLetter | undefined>;
  replay(ids: readonly string[] | undefined, filter?: DeadLetterFilter): Promise<number>;
  purge(ids: readonly string[] | undefined, filter?: DeadLetterFilter): Promise<number>;
  /** Dead letters per queue. */
  countByQueue(): Promise<Map<string, number>>;
}

function matchesFunction(deadLetter: DeadLetter, fn: string | undefined): boolean {
  return fn === undefined || deadLetter.function === fn || `${deadLetter.function}.${deadLetter.namespace}` === fn;
}

export function createDeadLetterStore(deps: DeadLetterDeps): DeadLetterStore {
  const { js, jsm, names } = deps;
  const stream = names.deadLetterStream;

  const nextBySubject = (seq: number, subject: string) =>
    // MSG.GET has taken next_by_subj since 2.9; the client's type only names seq and last_by_subj.
    jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as unknown as MsgRequest);

  async function scan(filter: DeadLetterFilter | undefined, limit: number): Promise<{ seq: number; deadLetter: DeadLetter }[]> {
    const subject = names.deadLetterFilter(filter?.queue);
    const { state } = await jsm.streams.info(stream);
    const out: { seq: number; deadLetter: DeadLetter }[] = [];
    let seq = state.first_seq;
    while (seq <= state.last_seq && out.length < limit) {
      const stored = await nextBySubject(seq, subject);
      if (!stored || stored.seq > state.last_seq) break;
      seq = stored.seq + 1;
      const deadLetter = decodeDeadLetter(stored.data);
      if (matchesFunction(deadLetter, filter?.function)) out.push({ seq: stored.seq, deadLetter });
    }
    return out;
  }

  async function find(callId: string): Promise<{ seq: number; deadLetter: DeadLetter } | undefined> {
    const stored = await nextBySubject(0, names.deadLetterFilter(undefined, callId));
    return stored ? { seq: stored.seq, deadLetter: decodeDeadLetter(stored.data) } : undefined;
  }

  async function targets(ids: readonly string[] | undefined, filter: DeadLetterFilter | undefined): Promise<{ seq: number; deadLetter: DeadLetter }[]> {
    if (ids === undefined) return scan(filter, filter?.limit ?? Number.MAX_SAFE_INTEGER);
    const found = await Promise.all(ids.map(find));
    return found.filter((f): f is { seq: number; deadLetter: DeadLetter } => f !== undefined && (filter?.queue === undefined || f.deadLetter.queue === filter.queue) && matchesFunction(f.deadLetter, filter?.function));
  }

  const purgeOne = async (deadLetter: DeadLetter): Promise<number> =>
    (await jsm.streams.purge(stream, { filter: names.deadLetterSubject(deadLetter.queue, deadLetter.callId) })).purged;

  return {
    async add(deadLetter, msgId) {
      const subject = names.deadLetterSubject(deadLetter.queue, deadLetter.callId);
      assertStored(await js.publish(subject, encodeDeadLetter(deadLetter), {
        msgID: msgId,
        expect: { streamName: stream },
        timeout: deps.publishTimeoutMs,
      }), subject);
    },
    async list(filter) {
      return (await scan(filter, filter?.limit ?? DEFAULT_LIST_LIMIT)).map((f) => f.deadLetter);
    },
    async get(callId) {
      return (await find(callId))?.deadLetter;
    },
    async replay(ids, filter) {
      let count = 0;
      for (const { seq, deadLetter } of await targets(ids, filter)) {
        const { message } = deadLetter;
        await deps.ensureQueue(message.queue);
        await deps.requeueRecord(message);
        const subject = deps.subjectFor(message);
        assertStored(await js.publish(subject, encodeMessage(message), {
          // Not the call id: a replay inside the 2-minute duplicate window must not be dropped. With
          // a "~", which no caller's X-Call-Id may hold, so no caller's call can take it first.
          msgID: `${message.callId}~replay~${seq}`,
          expect: { streamName: names.queueStream(message.queue) },
          timeout: deps.publishTimeoutMs,
        }), subject);
        await purgeOne(deadLetter);
        count++;
      }
      return count;
    },
    async purge(ids, filter) {
      if (ids === undefined && filter?.function === undefined && filter?.limit === undefined) {
        return (await jsm.streams.purge(stream, { filter: names.deadLetterFilter(filter?.queue) })).purged;
      }
      let count = 0;
      for (const { deadLetter } of await targets(ids, filter)) count += (await purgeOne(deadLetter)) > 0 ? 1 : 0;
      return count;
    },
    async countByQueue() {
      const info = await jsm.streams.info(stream, { subjects_filter: names.deadLetterFilter(undefined) });
      const counts = new Map<string, number>();
      for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
        const queue = decodeToken(subject.split('.').at(-2) ?? '');
        counts.set(queue, (counts.get(queue) ?? 0) + n);
      }
      return counts;
    },
  };
}
