// The async accept path (hot): validate, read the body, store the call durably, answer 202.
// Never a 202 before queue.enqueue() resolved, and no refusal before it gave up: a queue that is
// reconnecting (to another NATS server) is waited for up to FAASQ_ACCEPT_TIMEOUT by the backend.
// Kept lean: headers are parsed only when present and nothing is awaited besides the body and the queue.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config/index.js';
import type { Provider } from '../../provider/index.js';
import { DEFAULT_QUEUE, type CallMessage, type Queue } from '../../queue/index.js';
import { FaasqError, forwardableHeaders, isFaasqError, createCallIdGenerator, nowNs, parseFunctionRef, readBody, type EventBus, type Logger } from '../../shared/index.js';
import { normaliseFunctionPath } from '../function-path.js';
import type { MemoryBudget } from '../memory-budget.js';
import { sendError } from '../reply.js';
import { annotationMaxAgeMs, annotationPriority, parseCallId, parseDurationHeader, parseNotBefore, parsePriority } from './async-headers.js';
import { createCallbackUrlCheck } from '../../callback/index.js';
import { ANNOTATIONS } from '../../shared/annotations.js';

export const ANNOTATION_QUEUE = ANNOTATIONS.queue.name;

export interface EnqueueDeps {
  readonly config: Config;
  readonly provider: Pick<Provider, 'getSpec'>;
  readonly queue: Queue;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly isAccepting: () => boolean;
  /** True for faasq's own credentials: an Authorization header that is one is not stored with the call. */
  readonly isGatewayCredential?: (authorization: string | undefined) => boolean;
  /** Gateway-wide cap on request bytes held in memory (FAASQ_MAX_BUFFERED). */
  readonly budget?: MemoryBudget;
}

/** Accepts one async call for function `fnRaw` (`name` or `name.namespace`); `path` starts with "/". */
export type Enqueue = (req: IncomingMessage, res: ServerResponse, fnRaw: string, path: string) => Promise<void>;

export function createEnqueue(deps: EnqueueDeps): Enqueue {
  const { config, provider, queue, events } = deps;
  const checkCallbackUrl = createCallbackUrlCheck(config.gateway.callbackDenyList);
  const maxBodyBytes = config.gateway.maxAsyncBodyBytes;
  const newCallId = createCallIdGenerator();

  return async (req, res, fnRaw, path) => {
    const t0 = performance.now();
    let fn = fnRaw;
    let namespace: string | undefined;
    let queueName: string | undefined;
    let heldBytes = 0;
    try {
      if (!deps.isAccepting()) throw new FaasqError('E_SHUTTING_DOWN', 'not accepting async calls: shutting down', { headers: { 'Retry-After': '1' } });
      const ref = parseFunctionRef(fnRaw);
      fn = ref.name;
      namespace = ref.namespace;
      const spec = provider.getSpec(ref.name, ref.namespace);
      if (!spec) throw new FaasqError('E_FUNCTION_NOT_FOUND', `function "${fnRaw}" not found`);
      const fnPath = normaliseFunctionPath(path);
      const h = req.headers;
      const callIdHeader = h['x-call-id'];
      const callId = typeof callIdHeader === 'string' ? parseCallId(callIdHeader) : newCallId();
      const cbHeader = h['x-callback-url'];
      const callbackUrl = typeof cbHeader === 'string' && cbHeader !== '' ? checkCallbackUrl(cbHeader) : undefined;
      const prHeader = h['x-priority'];
      const priority = typeof prHeader === 'string' ? parsePriority(prHeader) : annotationPriority(spec.annotations) ?? 0;
      const now = Date.now();
      let notBefore: number | undefined;
      const delayHeader = h['x-delay'];
      if (typeof delayHeader === 'string') notBefore = now + parseDurationHeader('X-Delay', delayHeader);
      const nbHeader = h['x-not-before'];
      if (typeof nbHeader === 'string') notBefore = Math.max(notBefore ?? 0, parseNotBefore(nbHeader, now));
      const maxAgeHeader = h['x-max-age'];
      const maxAgeMs = typeof maxAgeHeader === 'string' ? parseDurationHeader('X-Max-Age', maxAgeHeader) : annotationMaxAgeMs(spec.annotations);
      const lengthHeader = h['content-length'];
      const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
      // The body is held whole until the call is stored: its bytes count against FAASQ_MAX_BUFFERED
      // (a chunked one at the most it may grow to). One over the limit is readBody's 413.
      if (deps.budget && (declared === undefined || declared <= maxBodyBytes)) {
        deps.budget.take(declared ?? maxBodyBytes);
        heldBytes = declared ?? maxBodyBytes;
      }
      const body = await readBody(req, maxBodyBytes, declared);
      const targetQueue = spec.annotations[ANNOTATION_QUEUE] || DEFAULT_QUEUE;
      queueName = targetQueue;
      const startTimeNs = nowNs();
      const q = req.url ? req.url.indexOf('?') : -1;
      const stored = forwardableHeaders(h);
      // The credential that let the caller in stays out of the queue (the function never sees it),
      // and the call's record and result will need a credential to read.
      const isPrivate = stored.authorization !== undefined && deps.isGatewayCredential?.(h.authorization) === true;
      if (isPrivate) delete stored.authorization;
      const message: CallMessage = {
        callId, function: ref.name, namespace: ref.namespace, queue: targetQueue, priority,
        method: req.method ?? 'POST', path: fnPath, query: q === -1 ? '' : req.url!.slice(q + 1),
        headers: stored, body, callbackUrl, enqueuedAt: now,
        notBefore: notBefore !== undefined && notBefore > now ? notBefore : undefined,
        // Max age counts from the earliest start, so a delayed call is not dead on arrival.
        expiresAt: maxAgeMs !== undefined ? Math.max(now, notBefore ?? now) + maxAgeMs : undefined,
        startTimeNs,
      };
      if (isPrivate) (message as { isPrivate?: boolean }).isPrivate = true;
      let result;
      try {
        result = await queue.enqueue(message, { hasCallerId: typeof callIdHeader === 'string' });
      } catch (err) {
        throw asQueueError(err);
      }
      const headers: Record<string, string> = {
        'X-Call-Id': result.record.callId,
        'X-Start-Time': startTimeNs,
        Location: `/async-function/${result.record.callId}`,
        // An empty body said with a length, not as a chunked stream of nothing.
        'Content-Length': '0',
      };
      if (result.isDuplicate) headers['X-Duplicate'] = 'true';
      res.writeHead(202, headers);
      res.end();
      const acceptMs = performance.now() - t0;
      events.emit('call.accepted', {
        callId: result.record.callId, fn: ref.name, namespace: ref.namespace, queue: targetQueue,
        priority: result.record.priority, acceptMs, isDuplicate: result.isDuplicate,
      });
      // The line's fields are only built when it is written (the hot path runs at level warn too).
      if (deps.logger.isLevelEnabled('info')) deps.logger.info({
        callId: result.record.callId, function: ref.name, namespace: ref.namespace, queue: targetQueue, priority: result.record.priority,
        status: 202, durationMs: Math.round(acceptMs * 1000) / 1000, isDuplicate: result.isDuplicate, hasCallback: callbackUrl !== undefined,
      }, 'call accepted');
    } catch (err) {
      // Whatever body is left is read and dropped (within bounds) by sendError's lingering close.
      const e = isFaasqError(err) ? err : asQueueError(err);
      events.emit('call.rejected', { fn, namespace, queue: queueName, code: e.code });
      deps.logger.info({ function: fn, namespace, queue: queueName, status: e.status, code: e.code, durationMs: Math.round((performance.now() - t0) * 1000) / 1000 }, 'call rejected');
      sendError(req, res, e);
    } finally {
      if (heldBytes > 0) deps.budget?.give(heldBytes);
    }
  };
}

/** Anything the queue throws that is not already a FaasqError means it could not store the call. */
function asQueueError(err: unknown): FaasqError {
  if (isFaasqError(err, 'E_QUEUE_FULL')) {
    return err.headers['Retry-After'] || err.headers['retry-after'] ? err : new FaasqError('E_QUEUE_FULL', err.message, { cause: err, headers: { ...err.headers, 'Retry-After': '1' }, detail: { ...err.detail } });
  }
  if (isFaasqError(err)) return err;
  return new FaasqError('E_QUEUE_UNAVAILABLE', 'the queue could not store the call', { cause: err, headers: { 'Retry-After': '1' } });
}
