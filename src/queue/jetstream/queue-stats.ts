// Queue stats from JetStream's own counters: per priority consumer num_pending + num_ack_pending,
// the stream's per-subject counts for calls waiting on notBefore, and the oldest ready message.
// Retries naked with a delay look in-flight to the server; this process's own are told apart.
import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import type { QueueStats } from '../queue.js';
import { PRIORITIES, type JetStreamNames } from './names.js';

/** Retries this process naked with a delay, per queue, until they are due. */
export class RetryDelays {
  private readonly byQueue = new Map<string, Map<string, number>>();

  note(queue: string, callId: string, dueAt: number): void {
    let byCall = this.byQueue.get(queue);
    if (!byCall) this.byQueue.set(queue, (byCall = new Map<string, number>()));
    byCall.set(callId, dueAt);
  }

  count(queue: string): number {
    const byCall = this.byQueue.get(queue);
    if (!byCall) return 0;
    const now = Date.now();
    for (const [callId, dueAt] of byCall) if (dueAt <= now) byCall.delete(callId);
    return byCall.size;
  }
}

export async function readQueueStats(jsm: JetStreamManager, names: JetStreamNames, name: string, deadLetters: number, retryDelays: RetryDelays): Promise<QueueStats> {
  const stream = names.queueStream(name);
  const infos = await Promise.all(PRIORITIES.map((p) => jsm.consumers.info(stream, names.durable(p))));
  const depthByPriority: Record<number, number> = {};
  let depth = 0;
  let ackPending = 0;
  let oldest = Number.POSITIVE_INFINITY;
  await Promise.all(
    infos.map(async (info, i) => {
      const priority = PRIORITIES[i];
      const n = info.num_pending + info.num_ack_pending;
      if (n > 0) depthByPriority[priority] = n;
      depth += n;
      ackPending += info.num_ack_pending;
      if (info.num_pending === 0) return;
      // The first never-delivered message of the level (MSG.GET takes next_by_subj since 2.9).
      const next = await jsm.streams.getMessage(stream, { seq: info.delivered.stream_seq + 1, next_by_subj: names.priorityFilter(name, priority) } as unknown as MsgRequest);
      if (next) oldest = Math.min(oldest, next.time.getTime());
    }),
  );
  const waiting = await jsm.streams.info(stream, { subjects_filter: names.delayedFilter(name) });
  let waitingCount = 0;
  for (const [subject, n] of Object.entries(waiting.state.subjects ?? {})) {
    const priority = names.priorityOfDelayedSubject(subject);
    depthByPriority[priority] = (depthByPriority[priority] ?? 0) + n;
    waitingCount += n;
  }
  const retrying = Math.min(retryDelays.count(name), ackPending);
  return {
    name,
    depth: depth + waitingCount,
    depthByPriority,
    delayed: waitingCount + retrying,
    inflight: ackPending - retrying,
    oldestAgeMs: Number.isFinite(oldest) ? Math.max(0, Date.now() - oldest) : 0,
    deadLetters,
  };
}
