// Adapts async route handlers to find-my-way: a rejected promise becomes an error reply (through
// reply.ts, the one place errors turn into HTTP) instead of an unhandled rejection.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaasqError } from '../shared/errors.js';
import { DEFAULT_NAMESPACE } from '../shared/names.js';
import type { RouteHandler } from './basic-auth.js';
import { sendError } from './reply.js';

export type AsyncRouteHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string | undefined>, query: Record<string, string>) => Promise<void>;

export function route(handler: AsyncRouteHandler): RouteHandler {
  return (req, res, params, _store, searchParams) => {
    handler(req, res, params, searchParams ?? {}).catch((err: unknown) => {
      if (!req.complete) req.resume();
      sendError(req, res, err);
    });
  };
}

const NAMESPACE_PATTERN = /^[a-zA-Z0-9]([-a-zA-Z_0-9]{0,62})$/;

/** A namespace from a query string or body: the default when absent, 400 when malformed. */
export function namespaceOf(value: unknown, field = 'namespace'): string {
  if (value === undefined || value === null || value === '') return DEFAULT_NAMESPACE;
  if (typeof value !== 'string' || !NAMESPACE_PATTERN.test(value)) {
    throw new FaasqError('E_INVALID_FIELD', `invalid ${field} ${JSON.stringify(value)}: use letters, digits, '-' and '_'`, { detail: { field } });
  }
  return value;
}
