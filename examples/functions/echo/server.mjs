// echo: an http-mode function that streams the request body back with its content type.
import http from 'node:http';

const server = http.createServer((req, res) => {
  if (req.url === '/_/health') return res.end('OK');
  res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
  req.pipe(res);
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
