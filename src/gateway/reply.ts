// The one place where errors become HTTP replies: status from the error table, a short
// plain-text body (JSON when the client asks for it), and the error's own headers (Retry-After).
import type { ServerResponse, IncomingMessage } from 'node:http';
import { toFaasqError } from '../shared/errors.js';
import { lingerAfterRefusal } from './linger-after-refusal.js';

/** An error as an HTTP reply: status, the error's own headers, content type and body. */
export interface ErrorReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly contentType: string;
  readonly body: string;
}

/** The reply for `err`, in JSON when `accept` asks for it, else plain text. */
export function errorReply(err: unknown, accept: string | undefined): ErrorReply {
  const e = toFaasqError(err);
  const wantsJson = (accept ?? '').includes('application/json') && !(accept ?? '').includes('text/plain');
  const body = wantsJson ? JSON.stringify({ error: e.code, message: e.message, ...e.detail }) + '\n' : `${e.message}\n`;
  const hasChallenge = Object.keys(e.headers).some((name) => name.toLowerCase() === 'www-authenticate');
  const headers = e.status === 401 && !hasChallenge ? { ...e.headers, 'WWW-Authenticate': 'Basic realm="Restricted"' } : e.headers;
  return { status: e.status, headers, contentType: wantsJson ? 'application/json' : 'text/plain; charset=utf-8', body };
}

export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy(toFaasqError(err));
    return;
  }
  // Answered before the body was read whole: the caller may still be sending it.
  if (!req.complete) lingerAfterRefusal(req, res);
  const reply = errorReply(err, req.headers.accept);
  res.statusCode = reply.status;
  for (const [k, v] of Object.entries(reply.headers)) res.setHeader(k, v);
  res.setHeader('Content-Type', reply.contentType);
  res.setHeader('Content-Length', Buffer.byteLength(reply.body));
  res.end(reply.body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (!res.hasHeader('content-type')) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
