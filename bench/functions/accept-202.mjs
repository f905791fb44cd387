// Baseline for the accept benchmark: a bare Node HTTP server that reads the body and answers 202,
// storing nothing — the ceiling for any HTTP intake on this machine.
import http from 'node:http';

const port = Number(process.argv[2] ?? 8089);
http
  .createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(202, { 'x-call-id': 'baseline' });
      res.end();
    });
  })
  .listen(port, '127.0.0.1');
