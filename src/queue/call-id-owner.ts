// An X-Call-Id is an idempotency key for one function: resubmitting it for another function is a
// mistake the caller must hear about (409), never a silent "duplicate" that answers with the first
// function's call while the second one never runs. Every backend checks it where it finds the
// existing call, so the rule holds on memory, embedded and JetStream alike.
import { FaasqError } from '../shared/errors.js';

interface CallOwner {
  readonly callId: string;
  readonly function: string;
  readonly namespace: string;
}

/** Throws E_CONFLICT when `existing` (the call already under this id) belongs to another function than `incoming`. */
export function assertSameFunction(existing: CallOwner, incoming: CallOwner): void {
  if (existing.function === incoming.function && existing.namespace === incoming.namespace) return;
  const owner = `${existing.function}.${existing.namespace}`;
  throw new FaasqError('E_CONFLICT', `call id "${existing.callId}" is already used by function ${owner}; choose another X-Call-Id`, {
    detail: { callId: existing.callId, function: owner },
  });
}
