// fork-mode fixture for the chaos soak: one process per call (classic watchdog), appends
// "start <call id> <ms>" and "end <call id> <ms>" to the file in env LEDGER, echoes stdin to stdout.
import { appendFileSync } from 'node:fs';

const ledger = process.env.LEDGER;
const callId = process.env.Http_X_Call_Id ?? 'none';
if (ledger) appendFileSync(ledger, `start ${callId} ${Date.now()}\n`);
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  if (ledger) appendFileSync(ledger, `end ${callId} ${Date.now()}\n`);
  process.stdout.write(Buffer.concat(chunks));
});
