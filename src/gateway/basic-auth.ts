// HTTP basic auth for /system/* and /ui/ (OpenFaaS: 401 with WWW-Authenticate: Basic realm="Restricted").
// Both sides are hashed before a constant-time compare, so neither length nor content leaks by timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaasqError } from '../shared/errors.js';
import { sendError } from './reply.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string | undefined>, store: unknown, searchParams: Record<string, string>) => unknown;

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Checks an Authorization header value against the credentials in constant time. */
export function createBasicAuthCheck(credentials: Credentials): (authorization: string | undefined) => boolean {
  const expected = digest(`${credentials.user}:${credentials.password}`);
  return (authorization) => {
    if (!authorization || authorization.length < 7 || authorization.slice(0, 6).toLowerCase() !== 'basic ') return false;
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    return timingSafeEqual(digest(decoded), expected);
  };
}

/** Wraps a find-my-way handler so it runs only for callers with valid basic-auth credentials. */
export function createProtect(credentials: Credentials): (handler: RouteHandler) => RouteHandler {
  const isAuthorized = createBasicAuthCheck(credentials);
  return (handler) => (req, res, params, store, searchParams) => {
    if (!isAuthorized(req.headers.authorization)) {
      // Drain what the caller sent so the connection can be reused.
      req.resume();
      sendError(req, res, new FaasqError('E_UNAUTHORIZED', 'invalid credentials', { headers: { 'WWW-Authenticate': 'Basic realm="Restricted"' } }));
      return;
    }
    return handler(req, res, params, store, searchParams);
  };
}
