// slow: an http-mode function that answers after ?ms= milliseconds (default 1000).
import http from 'node:http';

const server = http.createServer((req, res) => {
  if (req.url === '/_/health') return res.end('OK');
  const ms = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? 1000);
  setTimeout(() => res.end(`slept ${ms}ms\n`), ms);
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
