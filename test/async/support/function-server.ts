// A real HTTP "function" server on 127.0.0.1 with per-function scripted handlers, and a tiny
// Invoker in front of it (undici), so worker tests control status codes, delays and broken
// connections exactly while still going over real sockets.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import type { InvocationRequest, InvocationResponse, Invoker } from '../../../src/provider/index.js';
import { FaasqError } from '../../../src/shared/index.js';

export interface SeenRequest {
  readonly fn: string;
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  readonly at: number;
}

export type FunctionHandler = (req: IncomingMessage, res: ServerResponse, body: string, seen: SeenRequest) => void;

export interface FunctionServer {
  readonly invoker: Invoker;
  readonly seen: SeenRequest[];
  handle(fn: string, handler: FunctionHandler): void;
  /** How many requests a function has received so far. */
  count(fn: string, callId?: string): number;
  close(): Promise<void>;
}

export async function startFunctionServer(): Promise<FunctionServer> {
  const handlers = new Map<string, FunctionHandler>();
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const fn = (req.url ?? '/').split('/')[1].split('?')[0];
      const entry: SeenRequest = { fn, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      seen.push(entry);
      const handler = handlers.get(fn);
      if (!handler) {
        res.statusCode = 404;
        res.end('no handler');
        return;
      }
      handler(req, res, entry.body, entry);
    });
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const invoker: Invoker = {
    async invoke(fn: string, _ns: string, r: InvocationRequest): Promise<InvocationResponse> {
      if (!handlers.has(fn)) throw new FaasqError('E_FUNCTION_NOT_FOUND', `function ${fn} not found`);
      try {
        const res = await request(`${base}/${fn}${r.path}${r.query ? `?${r.query}` : ''}`, {
          method: r.method as 'POST',
          headers: r.headers as Record<string, string>,
          body: Buffer.isBuffer(r.body) || r.body === null ? r.body : Readable.from(r.body),
          signal: r.signal,
        });
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = v;
        return { status: res.statusCode, headers, body: res.body };
      } catch (err) {
        throw new FaasqError('E_FUNCTION_UNREACHABLE', `cannot reach ${fn}: ${(err as Error).message}`, { cause: err });
      }
    },
  };

  return {
    invoker,
    seen,
    handle: (fn, handler) => void handlers.set(fn, handler),
    count: (fn, callId) => seen.filter((s) => s.fn === fn && (callId === undefined || s.headers['x-call-id'] === callId)).length,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
