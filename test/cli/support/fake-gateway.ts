// A tiny real HTTP server standing in for the gateway in CLI tests: canned replies per route,
// optional basic auth on /system/*, and a record of every request the CLI sent.
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface FakeReply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
  readonly body?: string;
}

type Handler = FakeReply | ((req: RecordedRequest) => FakeReply);

export interface FakeGateway {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Sets the reply for METHOD path (exact path, query ignored); unknown routes answer 404. */
  on(method: string, path: string, handler: Handler): void;
  /** Requests to one route, in order. */
  sent(method: string, path: string): RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeGateway(options: { auth?: { user: string; password: string } } = {}): Promise<FakeGateway> {
  const routes = new Map<string, Handler>();
  const requests: RecordedRequest[] = [];
  const expectedAuth = options.auth ? 'Basic ' + Buffer.from(`${options.auth.user}:${options.auth.password}`).toString('base64') : undefined;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      if (expectedAuth && url.pathname.startsWith('/system/') && req.headers.authorization !== expectedAuth) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="Restricted"', 'content-type': 'text/plain' });
        return void res.end('invalid credentials\n');
      }
      const handler = routes.get(`${recorded.method} ${recorded.path}`);
      const reply = typeof handler === 'function' ? handler(recorded) : handler ?? { status: 404, body: 'not found\n' };
      const headers: Record<string, string> = { ...reply.headers };
      let body = reply.body ?? '';
      if (reply.json !== undefined) {
        body = JSON.stringify(reply.json);
        headers['content-type'] ??= 'application/json';
      }
      res.writeHead(reply.status ?? 200, headers);
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    on(method, path, handler) {
      routes.set(`${method} ${path}`, handler);
    },
    sent(method, path) {
      return requests.filter((r) => r.method === method && r.path === path);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
