// An http-mode function that streams each request body straight back, holding none of it: with
// it, what the gateway holds for a large body is all there is to measure.
import http from 'node:http';

const port = Number(process.env.PORT ?? process.argv[2] ?? 8081);
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    req.pipe(res);
  })
  .listen(port, '127.0.0.1');
