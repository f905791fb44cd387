// The sync benchmark's floor: the cheapest honest Node.js reverse proxy for its workload (node:http
// server, undici's core dispatch API, small bodies read whole, no call ids, metrics, limits or logs),
// so faasq's gateway can be compared with what any Node proxy costs on the same machine. With
// --processes 2 a second process accepts on the same listening socket, to show what a multi-process
// gateway could gain here.
// Run: node bench/functions/bare-proxy.mjs <port> <upstream origin> [--processes 1|2]
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const [portArg, upstream] = process.argv.slice(2);
const isChild = process.argv.includes('--child');
const processIndex = process.argv.indexOf('--processes');
const processCount = processIndex > 0 ? Number(process.argv[processIndex + 1]) : 1;

// Never forwarded in either direction (hop-by-hop), plus what undici sets itself.
const NOT_FORWARDED = new Set([
  'connection', 'proxy-connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
  'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade', 'host', 'expect',
]);

// Same pool shape as faasq's replica pool, so the hop to the function is configured alike.
const pool = new Pool(upstream, { pipelining: 1, connections: 128, keepAliveTimeout: 30_000 });

/** undici's core (unwrapped) handler: the upstream reply goes straight into the caller's response. */
class ReplyHandler {
  constructor(res) {
    this.res = res;
    this.resume = null;
  }

  onConnect() {}

  onHeaders(statusCode, rawHeaders, resume) {
    if (statusCode < 200) return true;
    this.resume = resume;
    const headers = [];
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i].toString('latin1');
      if (NOT_FORWARDED.has(name.toLowerCase())) continue;
      headers.push(name, rawHeaders[i + 1].toString('latin1'));
    }
    // A flat [name, value, ...] list: Node writes it without building a header object.
    this.res.writeHead(statusCode, headers);
    return true;
  }

  onData(chunk) {
    if (this.res.write(chunk)) return true;
    // Backpressure from a slow caller: undici waits until the caller's socket drains.
    this.res.once('drain', this.resume);
    return false;
  }

  onComplete() {
    this.res.end();
  }

  onError() {
    if (this.res.headersSent) this.res.destroy();
    else {
      this.res.writeHead(502, { 'content-length': 0 });
      this.res.end();
    }
  }
}

function forward(req, res, body) {
  const raw = req.rawHeaders;
  const headers = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!NOT_FORWARDED.has(raw[i].toLowerCase())) headers.push(raw[i], raw[i + 1]);
  }
  pool.dispatch({ path: req.url, method: req.method, headers, body }, new ReplyHandler(res));
}

function onRequest(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => forward(req, res, chunks.length === 0 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
}

const server = http.createServer({ keepAlive: true }, onRequest);

if (isChild) {
  // The primary hands over its listening socket; this process accepts on it too.
  process.on('message', (message, handle) => {
    if (message === 'server') handle.on('connection', (socket) => server.emit('connection', socket));
  });
  // Exits with the primary (its IPC channel closes when the primary dies).
  process.on('disconnect', () => process.exit(0));
} else {
  server.listen(Number(portArg), '127.0.0.1', () => {
    const children = [];
    for (let i = 1; i < processCount; i++) {
      const child = fork(fileURLToPath(import.meta.url), [portArg, upstream, '--child'], { stdio: 'inherit' });
      child.send('server', server);
      children.push(child);
    }
    process.on('SIGTERM', () => {
      for (const child of children) child.kill('SIGTERM');
      process.exit(0);
    });
  });
}
