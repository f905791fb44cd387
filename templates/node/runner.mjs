// Runs handler.mjs as an HTTP server on $PORT for faasq's http mode (like the OpenFaaS
// of-watchdog http mode): one long-lived process, one handler call per request.
import http from 'node:http';
import handler from './handler.mjs';

const port = Number(process.env.PORT ?? process.env.port ?? 8080);

const server = http.createServer(async (req, res) => {
  if (req.url === '/_/health') {
    res.end('OK');
    return;
  }
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const result = (await handler({
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: Buffer.concat(chunks),
    })) ?? {};
    const body = result.body ?? '';
    const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const headers = { ...(result.headers ?? {}) };
    if (typeof body === 'object' && !Buffer.isBuffer(body) && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    res.writeHead(result.status ?? 200, headers);
    res.end(payload);
  } catch (err) {
    console.error(err);
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`${err instanceof Error ? err.message : String(err)}\n`);
  }
});

server.listen(port, '127.0.0.1', () => console.log(`listening on ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
