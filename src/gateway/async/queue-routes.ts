// The /system/queues API (protected): per-queue stats with this process's ingestion and processing
// rates, and the dead-letter store — list, inspect, replay back onto the queue, purge. Message
// bodies are shown base64-encoded.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createQueueRates } from '../../metrics/index.js';
import type { DeadLetter, Queue, QueueStats } from '../../queue/index.js';
import { FaasqError, readBody, redactUrl, type EventBus } from '../../shared/index.js';
import { sendError, sendJson } from '../reply.js';

const MAX_ADMIN_BODY_BYTES = 1024 * 1024;
const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 10_000;

export function createQueueRoutes(queue: Queue, events?: EventBus) {
  // Lives as long as the gateway's EventBus; it holds no timers.
  const rates = events ? createQueueRates(events) : undefined;
  const withRates = (s: QueueStats) => (rates ? { ...s, ...rates.snapshot(s.name) } : s);
  async function findStats(name: string) {
    const stats = (await queue.stats()).find((s) => s.name === name);
    if (!stats) throw new FaasqError('E_NOT_FOUND', `queue "${name}" not found`, { detail: { queue: name } });
    return stats;
  }
  return {
    async list(req: IncomingMessage, res: ServerResponse): Promise<void> {
      try {
        sendJson(res, 200, (await queue.stats()).map(withRates));
      } catch (err) {
        sendError(req, res, err);
      }
    },

    async get(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
      try {
        sendJson(res, 200, withRates(await findStats(name)));
      } catch (err) {
        sendError(req, res, err);
      }
    },

    async listDeadLetters(req: IncomingMessage, res: ServerResponse, name: string, search: Record<string, string>): Promise<void> {
      try {
        await findStats(name);
        const limit = parseLimit(search.limit);
        const letters = await queue.listDeadLetters({ queue: name, function: search.function || undefined, limit });
        sendJson(res, 200, letters.map(toJson));
      } catch (err) {
        sendError(req, res, err);
      }
    },

    async getDeadLetter(req: IncomingMessage, res: ServerResponse, callId: string): Promise<void> {
      try {
        const letter = await queue.getDeadLetter(callId);
        if (!letter) throw new FaasqError('E_DEAD_LETTER_NOT_FOUND', `no dead letter for call ${callId}`, { detail: { callId } });
        sendJson(res, 200, toJson(letter));
      } catch (err) {
        sendError(req, res, err);
      }
    },

    async replay(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
      try {
        const ids = await readCallIds(req);
        await findStats(name);
        sendJson(res, 200, { replayed: await queue.replayDeadLetters(ids, { queue: name }) });
      } catch (err) {
        sendError(req, res, err);
      }
    },

    async purge(req: IncomingMessage, res: ServerResponse, name: string): Promise<void> {
      try {
        const ids = await readCallIds(req);
        await findStats(name);
        sendJson(res, 200, { purged: await queue.purgeDeadLetters(ids, { queue: name }) });
      } catch (err) {
        sendError(req, res, err);
      }
    },
  };
}

/**
 * A dead letter as the admin API shows it: the body base64-encoded, and the callback URL (the field
 * and the stored X-Callback-Url header) without user information and with its query values redacted,
 * as call records show it (call-routes.ts). The stored letter keeps it whole: a replay calls it back.
 */
function toJson(letter: DeadLetter): unknown {
  const { message, ...rest } = letter;
  let headers = message.headers;
  for (const name in headers) {
    if (name.toLowerCase() !== 'x-callback-url') continue;
    const value = headers[name];
    headers = { ...headers, [name]: Array.isArray(value) ? value.map(redactUrl) : redactUrl(value) };
  }
  const callbackUrl = message.callbackUrl === undefined ? undefined : redactUrl(message.callbackUrl);
  return { ...rest, message: { ...message, headers, callbackUrl, body: message.body.toString('base64'), bodyEncoding: 'base64' } };
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIST_LIMIT;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new FaasqError('E_BAD_REQUEST', `invalid limit "${raw}": expected a whole number >= 1`);
  return Math.min(MAX_LIST_LIMIT, Number(raw));
}

/** Body `{ "callIds": [...] }`, optional; no body or no callIds means "all in this queue". */
async function readCallIds(req: IncomingMessage): Promise<string[] | undefined> {
  const raw = await readBody(req, MAX_ADMIN_BODY_BYTES);
  if (raw.length === 0) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new FaasqError('E_INVALID_JSON', 'request body is not valid JSON');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new FaasqError('E_INVALID_JSON', 'request body must be a JSON object like {"callIds": ["..."]}');
  const ids = (doc as { callIds?: unknown }).callIds;
  if (ids === undefined) return undefined;
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw new FaasqError('E_INVALID_FIELD', '"callIds" must be an array of strings', { detail: { field: 'callIds' } });
  return ids;
}
