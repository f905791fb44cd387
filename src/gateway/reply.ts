// The one place where errors become HTTP replies: status from the error table, a short
// plain-text body (JSON when the client asks for it), and the error's own headers (Retry-After).
import type { ServerResponse, IncomingMessage } from 'node:http';
import { toFaasqError } from '../shared/errors.js';

export function sendError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  const e = toFaasqError(err);
  if (res.headersSent) {
    res.destroy(e);
    return;
  }
  const wantsJson = (req.headers.accept ?? '').includes('application/json') && !(req.headers.accept ?? '').includes('text/plain');
  const body = wantsJson ? JSON.stringify({ error: e.code, message: e.message, ...e.detail }) + '\n' : `${e.message}\n`;
  res.statusCode = e.status;
  for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  if (e.status === 401 && !res.hasHeader('www-authenticate')) res.setHeader('WWW-Authenticate', 'Basic realm="Restricted"');
  res.setHeader('Content-Type', wantsJson ? 'application/json' : 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
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
