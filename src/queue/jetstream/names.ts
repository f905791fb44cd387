// Every stream, subject, consumer and bucket name the JetStream backend uses, derived from one
// prefix so several faasq installations (or tests) can share a NATS account without colliding.
import { MAX_PRIORITY, MIN_PRIORITY } from '../queue.js';

/** Subject tokens and KV keys allow few characters: keep [A-Za-z0-9-], escape the rest as _XX (UTF-8 bytes). */
const SAFE_TOKEN = /^[A-Za-z0-9-]*$/;

export function encodeToken(value: string): string {
  // Call ids (UUIDs) and most queue names need no escaping: one regex test on the hot path.
  if (SAFE_TOKEN.test(value)) return value;
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(ch) ? ch : `_${byte.toString(16).padStart(2, '0').toUpperCase()}`;
  }
  return out;
}

export function decodeToken(token: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '_') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(token.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export const PRIORITIES: readonly number[] = Array.from({ length: MAX_PRIORITY - MIN_PRIORITY + 1 }, (_, i) => MAX_PRIORITY - i);

export interface JetStreamNames {
  readonly prefix: string;
  /** Work-queue stream of one queue. */
  queueStream(queue: string): string;
  /** The queue a work stream name belongs to, or undefined for other streams. */
  queueOfStream(stream: string): string | undefined;
  /** Subjects of one queue's stream: one subject space per priority, the call id as the last token. */
  queueSubjects(queue: string): string[];
  prioritySubject(queue: string, priority: number, callId: string): string;
  priorityFilter(queue: string, priority: number): string;
  /** Calls accepted with a notBefore ahead wait here, one subject space for the queue. */
  delayedSubject(queue: string, priority: number, callId: string): string;
  delayedFilter(queue: string): string;
  /** Filters matching one call's message in a queue, ready (any priority) or delayed. */
  callFilters(queue: string, callId: string): string[];
  /** The priority a delayed subject carries. */
  priorityOfDelayedSubject(subject: string): number;
  durable(priority: number): string;
  readonly delayedDurable: string;
  readonly deadLetterStream: string;
  deadLetterSubject(queue: string, callId: string): string;
  /** Wildcards allowed: '*' for any queue, '*' for any call. */
  deadLetterFilter(queue: string | undefined, callId?: string): string;
  readonly recordsBucket: string;
  readonly resultsBucket: string;
  key(callId: string): string;
  readonly cancelSubject: string;
}

export function createNames(prefix = 'faasq'): JetStreamNames {
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(prefix)) throw new Error(`invalid JetStream name prefix "${prefix}"`);
  const subj = prefix.toLowerCase();
  const up = prefix.toUpperCase().replaceAll('-', '_');
  const queueStreamPrefix = `${up}_Q_`;
  return {
    prefix,
    queueStream: (queue) => `${queueStreamPrefix}${encodeToken(queue)}`,
    queueOfStream: (stream) => (stream.startsWith(queueStreamPrefix) ? decodeToken(stream.slice(queueStreamPrefix.length)) : undefined),
    queueSubjects: (queue) => [...PRIORITIES.map((p) => `${subj}.q.${encodeToken(queue)}.p${p}.*`), `${subj}.q.${encodeToken(queue)}.d.>`],
    prioritySubject: (queue, priority, callId) => `${subj}.q.${encodeToken(queue)}.p${priority}.${encodeToken(callId)}`,
    priorityFilter: (queue, priority) => `${subj}.q.${encodeToken(queue)}.p${priority}.*`,
    delayedSubject: (queue, priority, callId) => `${subj}.q.${encodeToken(queue)}.d.${priority}.${encodeToken(callId)}`,
    delayedFilter: (queue) => `${subj}.q.${encodeToken(queue)}.d.>`,
    callFilters: (queue, callId) => [`${subj}.q.${encodeToken(queue)}.*.${encodeToken(callId)}`, `${subj}.q.${encodeToken(queue)}.d.*.${encodeToken(callId)}`],
    priorityOfDelayedSubject: (subject) => Number(subject.split('.').at(-2)),
    durable: (priority) => `p${priority}`,
    delayedDurable: 'delayed',
    deadLetterStream: `${up}_DLQ`,
    deadLetterSubject: (queue, callId) => `${subj}.dlq.${encodeToken(queue)}.${encodeToken(callId)}`,
    deadLetterFilter: (queue, callId) => `${subj}.dlq.${queue === undefined ? '*' : encodeToken(queue)}.${callId === undefined ? '*' : encodeToken(callId)}`,
    recordsBucket: `${up}_records`,
    resultsBucket: `${up}_results`,
    key: (callId) => encodeToken(callId),
    cancelSubject: `${subj}.cancel`,
  };
}
