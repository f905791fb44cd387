// flaky: an http-mode function that answers 500 FAIL_PERCENT % of the time, or always with
// the header `X-Fail: 1` — handy to watch async retries and dead letters.
import http from 'node:http';

const failPercent = Number(process.env.FAIL_PERCENT ?? 50);
const server = http.createServer((req, res) => {
  if (req.url === '/_/health') return res.end('OK');
  const shouldFail = req.headers['x-fail'] === '1' || Math.random() * 100 < failPercent;
  res.statusCode = shouldFail ? 500 : 200;
  res.end(shouldFail ? 'flaky: failed\n' : 'flaky: ok\n');
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
