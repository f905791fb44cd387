// http-mode fixture for scale-out tests: appends "start <call id> <ms>" and "end <call id> <ms>" lines to
// the file in env LEDGER (one appendFileSync each, so lines from several replicas never tear),
// waits env SLEEP_MS (or ?ms=) in between, answers env STATUS (default 200) with the body.
import { appendFileSync } from 'node:fs';
import http from 'node:http';

const ledger = process.env.LEDGER;
const status = Number(process.env.STATUS ?? 200);
const server = http.createServer((req, res) => {
  if (req.url === '/_/health') return res.end('OK');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const callId = req.headers['x-call-id'] ?? 'none';
    if (ledger) appendFileSync(ledger, `start ${callId} ${Date.now()}\n`);
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? process.env.SLEEP_MS ?? 0);
    setTimeout(() => {
      if (ledger) appendFileSync(ledger, `end ${callId} ${Date.now()}\n`);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(Buffer.concat(chunks));
    }, ms);
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
// Tests kill faasq with kill -9: a replica whose parent died exits instead of lingering.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 500).unref();
