// Routes on one call by id: its record, its stored result, and cancel. A generated call id is an
// unguessable capability (a random UUID), so these follow the invocation routes' auth setting:
// open by default, basic auth when invocation auth is on (docs/async.md).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FINAL_STATES, type CallRecord, type Queue } from '../../queue/index.js';
import { FaasqError, HOP_BY_HOP, redactUrl, type EventBus, type Logger } from '../../shared/index.js';
import { sendError, sendJson } from '../reply.js';

/**
 * events and logger: a cancel is logged and counted here, where it is requested, once. canRead:
 * true for an invoke or admin credential; a private record (made by an authenticated caller) is
 * shown only to one, whatever the routes' own auth setting.
 */
export function createCallRoutes(queue: Queue, deps?: { events: EventBus; logger: Logger; canRead?: (authorization: string | undefined) => boolean }) {
  /** The record, or the error to answer: not found, or private to credential holders. */
  async function readable(req: IncomingMessage, callId: string): Promise<CallRecord> {
    const record = await queue.getRecord(callId);
    if (!record) throw notFound(callId);
    if (record.isPrivate && !(deps?.canRead?.(req.headers.authorization) ?? false)) {
      throw new FaasqError('E_UNAUTHORIZED', `call ${callId} was made with credentials; reading it needs them`, { headers: { 'WWW-Authenticate': 'Basic realm="Restricted"' } });
    }
    return record;
  }
  return {
    async getRecord(req: IncomingMessage, res: ServerResponse, callId: string): Promise<void> {
      try {
        const record = await readable(req, callId);
        sendJson(res, 200, shown(record), { 'X-Call-Id': callId });
      } catch (err) {
        sendError(req, res, err);
      }
    },

    async getResult(req: IncomingMessage, res: ServerResponse, callId: string): Promise<void> {
      try {
        const record = await readable(req, callId);
        const result = record.hasResult || FINAL_STATES.includes(record.state) ? await queue.getResult(callId) : undefined;
        if (!result) {
          throw new FaasqError('E_RESULT_NOT_READY', `call ${callId} has no result (state ${record.state})`, {
            headers: { 'X-Call-Id': callId, 'X-Call-State': record.state },
            detail: { callId, state: record.state },
          });
        }
        res.statusCode = result.status;
        for (const [name, value] of Object.entries(result.headers)) {
          const lower = name.toLowerCase();
          if (HOP_BY_HOP.has(lower) || lower === 'content-length') continue;
          res.setHeader(name, value);
        }
        res.setHeader('X-Call-Id', callId);
        res.setHeader('X-Function-Status', String(result.status));
        if (result.isTruncated) res.setHeader('X-Result-Truncated', 'true');
        res.setHeader('Content-Length', result.body.length);
        res.end(result.body);
      } catch (err) {
        sendError(req, res, err);
      }
    },

    async cancel(req: IncomingMessage, res: ServerResponse, callId: string): Promise<void> {
      try {
        const record = await readable(req, callId);
        if (FINAL_STATES.includes(record.state)) throw finished(callId, record.state);
        const cancelled = await queue.cancel(callId);
        if (!cancelled || cancelled.state !== 'cancelled') {
          // It finished between our read and the cancel.
          const now = cancelled ?? (await queue.getRecord(callId));
          throw finished(callId, now?.state ?? 'unknown');
        }
        sendJson(res, 202, shown(cancelled), { 'X-Call-Id': callId });
        deps?.events.emit('call.cancelled', { callId, fn: cancelled.function, namespace: cancelled.namespace, queue: cancelled.queue, by: 'request' });
        deps?.logger.info({ callId, function: cancelled.function, namespace: cancelled.namespace, queue: cancelled.queue, attempt: cancelled.attempts, previousState: record.state }, 'call cancelled');
      } catch (err) {
        sendError(req, res, err);
      }
    },
  };
}

/**
 * A record as an open answer shows it: the callback URL without user information and with its query
 * values redacted (records stored before the worker redacted them, or by an older version, included).
 */
function shown(record: CallRecord): CallRecord {
  if (!record.callback) return record;
  return { ...record, callback: { ...record.callback, url: redactUrl(record.callback.url) } };
}

function notFound(callId: string): FaasqError {
  return new FaasqError('E_CALL_NOT_FOUND', `call ${callId} not found`, { detail: { callId } });
}

function finished(callId: string, state: string): FaasqError {
  return new FaasqError('E_CALL_FINISHED', `call ${callId} already finished (state ${state})`, { detail: { callId, state } });
}
