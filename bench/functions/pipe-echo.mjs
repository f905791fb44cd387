// An http-mode function that streams each request body straight back, holding none of it: with
// it, what the gateway holds for a large body is all there is to measure. `?bytes=N` answers N
// zero bytes instead (written as the connection takes them), for large answers to small calls.
import http from 'node:http';

const port = Number(process.env.PORT ?? process.argv[2] ?? 8081);
const chunk = Buffer.alloc(64 * 1024);
http
  .createServer((req, res) => {
    const bytes = Number(new URL(req.url ?? '/', 'http://fn').searchParams.get('bytes') ?? NaN);
    if (!Number.isFinite(bytes)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    req.resume();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes) });
    let left = bytes;
    const pump = () => {
      while (left > 0) {
        const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= part.length;
        if (!res.write(part)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  })
  .listen(port, '127.0.0.1');
