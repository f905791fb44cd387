// A function server for differential tests: the same behaviours as function-server.ts (/meta,
// /echo, /status?code=N, /redirect, /bytes?n=N) but it records each request with its raw field
// lines (repeated fields apart, in order) and its whole body, which `seen` there cannot show.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** The request target as received (path and query). */
  readonly url: string;
  /** Field lines as received: [name, value] pairs in order. */
  readonly fields: [string, string][];
  /** Body bytes; complete once `isComplete`. */
  body: Buffer;
  isComplete: boolean;
}

export interface RecordingFunction {
  readonly url: string;
  /** Requests seen, oldest first. */
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startRecordingFunction(): Promise<RecordingFunction> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const fields: [string, string][] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) fields.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    const record: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', fields, body: Buffer.alloc(0), isComplete: false };
    requests.push(record);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      record.body = Buffer.concat(chunks);
      record.isComplete = true;
      reply(req, res, record);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Answers once the body is in: the body is needed whole by /echo and /meta anyway. */
function reply(req: http.IncomingMessage, res: http.ServerResponse, record: RecordedRequest): void {
  const url = new URL(record.url, 'http://fn');
  switch (url.pathname) {
    case '/echo':
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream', 'x-fn': 'echo' });
      res.end(record.body);
      return;
    case '/redirect':
      res.writeHead(302, { location: '/elsewhere' });
      res.end('moved');
      return;
    case '/status':
      res.writeHead(Number(url.searchParams.get('code') ?? '200'), { 'content-type': 'text/plain' });
      res.end('status');
      return;
    case '/bytes': {
      const n = Number(url.searchParams.get('n') ?? '0');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
      res.end(Buffer.alloc(n, 'x'));
      return;
    }
    default:
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: record.method, url: record.url, fields: record.fields, body: record.body.toString('base64') }));
  }
}
