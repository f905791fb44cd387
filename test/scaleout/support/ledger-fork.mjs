// fork-mode fixture for the chaos soak: one process per call (classic watchdog), appends
// "start <call id>" and "end <call id>" to the file in env LEDGER, echoes stdin to stdout.
import { appendFileSync } from 'node:fs';

const ledger = process.env.LEDGER;
const callId = process.env.Http_X_Call_Id ?? 'none';
if (ledger) appendFileSync(ledger, `start ${callId}\n`);
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', () => {
  if (ledger) appendFileSync(ledger, `end ${callId}\n`);
  process.stdout.write(Buffer.concat(chunks));
});
