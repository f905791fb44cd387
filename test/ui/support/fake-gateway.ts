// A small real HTTP server that serves the dashboard's files from src/ui behind basic auth and
// answers the API routes the page uses from in-memory state. It lets the page be driven in a
// browser with exact, hostile or broken data that the real gateway would rarely produce.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export const UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src/ui');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export interface FakeState {
  functions: Array<Record<string, unknown>>;
  queues: Array<Record<string, unknown>>;
  deadLetters: Map<string, Array<Record<string, unknown>>>;
  calls: Map<string, { record: Record<string, unknown>; result?: { status: number; body: string } }>;
  /** Every API request seen, "METHOD /path". */
  requests: string[];
  replayBodies: unknown[];
  /** When set, /system/queues answers 500 with this text. */
  queuesError?: string;
}

export interface FakeGateway {
  readonly url: string;
  readonly state: FakeState;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

const json = (res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) =>
  send(res, status, JSON.stringify(value), { 'content-type': 'application/json', ...headers });

async function readAll(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeGateway(options: { user: string; password: string; state: Omit<FakeState, 'requests' | 'replayBodies' | 'calls'> & { calls?: FakeState['calls'] } }): Promise<FakeGateway> {
  const state: FakeState = { calls: new Map(), ...options.state, requests: [], replayBodies: [] };
  const expected = 'Basic ' + Buffer.from(`${options.user}:${options.password}`).toString('base64');

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: Error) => send(res, 500, err.message));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    const isProtected = p.startsWith('/ui') || p.startsWith('/system/');
    if (isProtected && req.headers.authorization !== expected) {
      send(res, 401, 'unauthorized', { 'www-authenticate': 'Basic realm="Restricted"' });
      return;
    }
    if (p.startsWith('/ui/')) {
      const rel = p === '/ui/' ? 'index.html' : p.slice('/ui/'.length);
      if (rel.includes('..') || rel.includes('/')) return send(res, 404, 'not found');
      const body = await readFile(path.join(UI_DIR, rel)).catch(() => undefined);
      if (!body) return send(res, 404, 'not found');
      res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(rel)] ?? 'application/octet-stream', 'content-length': body.length });
      res.end(body);
      return;
    }
    state.requests.push(`${req.method} ${p}`);
    const body = await readAll(req);
    if (p === '/system/functions') return json(res, 200, state.functions);
    if (p === '/system/queues') return state.queuesError ? send(res, 500, state.queuesError) : json(res, 200, state.queues);
    let m = /^\/system\/queues\/([^/]+)\/dead-letters(\/replay)?$/.exec(p);
    if (m) {
      const queue = decodeURIComponent(m[1]);
      const list = state.deadLetters.get(queue) ?? [];
      if (!m[2]) return json(res, 200, list);
      const parsed = JSON.parse(body || '{}') as { callIds?: string[] };
      state.replayBodies.push(parsed);
      const chosen = parsed.callIds ? list.filter((d) => parsed.callIds!.includes(String(d.callId))) : list;
      state.deadLetters.set(queue, list.filter((d) => !chosen.includes(d)));
      const q = state.queues.find((x) => x.name === queue);
      if (q) q.deadLetters = state.deadLetters.get(queue)!.length;
      return json(res, 200, { replayed: chosen.length });
    }
    m = /^\/function\/([^/]+)/.exec(p);
    if (m) {
      return send(res, 200, body, { 'x-call-id': randomUUID(), 'x-duration-seconds': '0.012', 'content-type': req.headers['content-type'] ?? 'text/plain' });
    }
    m = /^\/async-function\/([^/]+)(\/result)?$/.exec(p);
    if (m && req.method === 'POST') {
      const callId = randomUUID();
      state.calls.set(callId, { record: { callId, function: m[1], state: 'queued', attempts: 0, acceptedAt: new Date().toISOString(), hasResult: false, headers: req.headers } });
      return send(res, 202, '', { 'x-call-id': callId, location: `/async-function/${callId}` });
    }
    if (m) {
      const call = state.calls.get(decodeURIComponent(m[1]));
      if (!call) return json(res, 404, { error: 'E_CALL_NOT_FOUND', message: 'no such call' });
      if (!m[2]) return json(res, 200, call.record);
      if (!call.result) return json(res, 404, { error: 'E_RESULT_NOT_READY', message: 'not finished' });
      return send(res, call.result.status, call.result.body, { 'x-function-status': String(call.result.status), 'content-type': 'text/plain' });
    }
    send(res, 404, 'not found');
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
