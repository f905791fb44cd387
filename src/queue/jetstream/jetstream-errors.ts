// JetStream and NATS failures translated at the adapter edge: named predicates on the API's
// err_code and on the client's error classes, never on message text.
import { JetStreamApiError } from '@nats-io/jetstream';
import { errors as natsErrors } from '@nats-io/transport-node';
import { FaasqError } from '../../shared/index.js';

/** JetStream API err_codes faasq relies on (nats-server errors.json). */
export const JS_ERR = {
  streamNotFound: 10059,
  consumerNotFound: 10014,
  /** "maximum messages exceeded" / "maximum bytes exceeded" with discard new. */
  storeFailed: 10077,
  messageSizeExceedsMaximum: 10054,
  wrongLastSequence: 10071,
  wrongLastSequenceUnknown: 10164,
  noMessageFound: 10037,
  streamNameInUse: 10058,
  /** "no suitable peers for placement": the cluster is still forming, or has too few JetStream servers. */
  noPeersForPlacement: 10005,
  /** "duplicate message id is in process": the leader has this msgID proposed, not stored (nats-server >= 2.11). */
  duplicateInProcess: 10158,
} as const;

/**
 * A publish answered "duplicate" for a message id the stream leader has only proposed, not stored:
 * nats-server 2.10 answers so with sequence 0 (later versions with err_code 10158). The proposal of
 * a leader cut off by a partition or a SIGSTOP is never committed, so such an answer confirms
 * nothing: it is retried like a timeout (one accept was acknowledged this way and lost).
 */
export class UnstoredDuplicateError extends Error {
  constructor(subject: string) {
    super(`publish to ${subject}: the stream answered "duplicate" for a message it has not stored yet`);
    this.name = 'UnstoredDuplicateError';
  }
}

/** An UnstoredDuplicateError, itself or as the cause of a translated error. */
export function isUnstoredDuplicateError(err: unknown, depth = 0): boolean {
  if (depth > 4 || !(err instanceof Error)) return false;
  return err instanceof UnstoredDuplicateError || isUnstoredDuplicateError(err.cause, depth + 1);
}

/** Throws unless a publish ack confirms a stored message (a duplicate must name its sequence). */
export function assertStored(ack: { readonly seq: number; readonly duplicate?: boolean; readonly isDuplicate?: boolean }, subject: string): void {
  if ((ack.duplicate === true || ack.isDuplicate === true) && !(ack.seq > 0)) throw new UnstoredDuplicateError(subject);
}

function apiCode(err: unknown): number | undefined {
  return err instanceof JetStreamApiError ? err.code : undefined;
}

export function isQueueFullError(err: unknown): boolean {
  return apiCode(err) === JS_ERR.storeFailed;
}

export function isMessageTooLargeError(err: unknown): boolean {
  return apiCode(err) === JS_ERR.messageSizeExceedsMaximum || err instanceof natsErrors.InvalidArgumentError;
}

/** kv.create() on a live key, or kv.update() with a stale revision. */
export function isWrongLastSequenceError(err: unknown): boolean {
  const code = apiCode(err);
  return code === JS_ERR.wrongLastSequence || code === JS_ERR.wrongLastSequenceUnknown;
}

export function isStreamNotFoundError(err: unknown): boolean {
  return apiCode(err) === JS_ERR.streamNotFound;
}

export function isNotFoundError(err: unknown): boolean {
  const code = apiCode(err);
  return code === JS_ERR.streamNotFound || code === JS_ERR.consumerNotFound;
}

/**
 * Server, route or leader unreachable: the caller may retry later. During a leader election the
 * client reports "jetstream is not enabled" whose cause is a no-responders RequestError, hence the
 * walk down the cause chain.
 */
export function isUnavailableError(err: unknown, depth = 0): boolean {
  if (depth > 4 || !(err instanceof Error)) return false;
  if (
    err instanceof UnstoredDuplicateError ||
    err instanceof natsErrors.TimeoutError ||
    err instanceof natsErrors.NoRespondersError ||
    err instanceof natsErrors.ConnectionError ||
    err instanceof natsErrors.ClosedConnectionError ||
    err instanceof natsErrors.DrainingConnectionError ||
    err instanceof natsErrors.RequestError
  ) {
    return true;
  }
  if (err instanceof JetStreamApiError) return (err.status === 503 && !isQueueFullError(err)) || isNoPeersError(err) || err.code === JS_ERR.duplicateInProcess;
  return isUnavailableError(err.cause, depth + 1);
}

/**
 * Replicas that cannot be placed: while a cluster forms (its servers not all known to the meta
 * leader yet) this clears by itself, so it is retried as unavailable; a cluster with fewer
 * JetStream servers than FAASQ_STREAM_REPLICAS keeps failing, and the message says so.
 */
export function isNoPeersError(err: unknown): boolean {
  return apiCode(err) === JS_ERR.noPeersForPlacement;
}

/** The FaasqError a queue operation reports for a NATS failure. */
export function toQueueError(err: unknown, action: string): FaasqError {
  if (err instanceof FaasqError) return err;
  if (isQueueFullError(err)) {
    return new FaasqError('E_QUEUE_FULL', `queue is full (${action})`, { cause: err, headers: { 'Retry-After': '1' } });
  }
  if (isMessageTooLargeError(err)) return new FaasqError('E_BODY_TOO_LARGE', `message too large for the NATS server (${action})`, { cause: err });
  if (isNoPeersError(err)) {
    const detail = err instanceof Error ? err.message : String(err);
    return new FaasqError('E_QUEUE_UNAVAILABLE', `NATS JetStream cannot place the stream replicas (${action}: ${detail}): the cluster is still forming, or has fewer JetStream servers than FAASQ_STREAM_REPLICAS`, { cause: err, headers: { 'Retry-After': '1' } });
  }
  if (isUnavailableError(err)) {
    return new FaasqError('E_QUEUE_UNAVAILABLE', `NATS JetStream unavailable (${action})`, { cause: err, headers: { 'Retry-After': '1' } });
  }
  return new FaasqError('E_INTERNAL', `NATS JetStream error (${action}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}
