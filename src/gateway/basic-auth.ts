// HTTP basic auth for faasq's two kinds of caller: admins (/system/*, /ui/; OpenFaaS: 401 with
// WWW-Authenticate: Basic realm="Restricted") and invokers (/function/*, /async-function/* when
// FAASQ_INVOKE_AUTH is on). Credentials are parsed strictly (canonical base64 only), and both sides
// are hashed before a constant-time compare, so neither length nor content leaks by timing.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaasqError } from '../shared/errors.js';
import { sendError } from './reply.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string | undefined>, store: unknown, searchParams: Record<string, string>) => unknown;

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** Who a credential belongs to: the admin (everything) or an invoker (invocations and their call records). */
export type Principal = 'admin' | 'invoke';

/** Answers whose credential an Authorization header value carries, or undefined. */
export type CredentialCheck = (authorization: string | undefined) => Principal | undefined;

const SCHEME = /^basic +/i;
/** token68 as base64 with its padding: anything else (junk, spaces, base64url, missing padding) is refused. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function digest(text: string | Buffer): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The `user:password` bytes of a Basic credential, or undefined unless the value is the scheme, spaces
 * and canonical base64 (the one encoding of its bytes: unused bits zero) of text with a colon.
 * Buffer.from(…, 'base64') alone skips junk characters, so "YWRt!!!aW46cHc=" would pass for admin.
 */
export function decodeBasic(authorization: string | undefined): Buffer | undefined {
  if (authorization === undefined) return undefined;
  const scheme = SCHEME.exec(authorization);
  if (!scheme) return undefined;
  const encoded = authorization.slice(scheme[0].length);
  if (encoded === '' || !BASE64.test(encoded)) return undefined;
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.toString('base64') !== encoded || !bytes.includes(0x3a)) return undefined;
  return bytes;
}

/** Checks an Authorization value against the admin and (when set) the invoke credentials, in constant time. */
export function createCredentialCheck(admin: Credentials, invoke?: Credentials): CredentialCheck {
  const adminDigest = digest(`${admin.user}:${admin.password}`);
  const invokeDigest = invoke ? digest(`${invoke.user}:${invoke.password}`) : undefined;
  return (authorization) => {
    const bytes = decodeBasic(authorization);
    if (!bytes) return undefined;
    const given = digest(bytes);
    const isAdmin = timingSafeEqual(given, adminDigest);
    const isInvoke = invokeDigest !== undefined && timingSafeEqual(given, invokeDigest);
    return isAdmin ? 'admin' : isInvoke ? 'invoke' : undefined;
  };
}

/** Checks an Authorization header value against one set of credentials in constant time. */
export function createBasicAuthCheck(credentials: Credentials): (authorization: string | undefined) => boolean {
  const check = createCredentialCheck(credentials);
  return (authorization) => check(authorization) !== undefined;
}

/** Wraps a find-my-way handler so it runs only for callers whose credential `isAllowed` accepts. */
export function createGuard(isAllowed: (authorization: string | undefined) => boolean): (handler: RouteHandler) => RouteHandler {
  return (handler) => (req, res, params, store, searchParams) => {
    if (!isAllowed(req.headers.authorization)) {
      // Drain what the caller sent so the connection can be reused.
      req.resume();
      sendError(req, res, new FaasqError('E_UNAUTHORIZED', 'invalid credentials', { headers: { 'WWW-Authenticate': 'Basic realm="Restricted"' } }));
      return;
    }
    return handler(req, res, params, store, searchParams);
  };
}

/** Wraps a find-my-way handler so it runs only for callers with the admin credentials. */
export function createProtect(credentials: Credentials): (handler: RouteHandler) => RouteHandler {
  return createGuard(createBasicAuthCheck(credentials));
}
