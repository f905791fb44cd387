// The benchmark's trivial function: an http-mode server that answers each request with its body.
import http from 'node:http';

const port = Number(process.env.PORT ?? process.argv[2] ?? 8081);
http
  .createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(body);
    });
  })
  .listen(port, '127.0.0.1');
