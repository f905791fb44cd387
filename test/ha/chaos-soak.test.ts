// The chaos soak in the suite: bench/chaos-soak.ts for ~100 s at a rate two shared cores carry,
// a fault every 20 s (kill -9 of a faasq, kill -9 of the stream leader, SIGSTOP of a nats-server,
// SIGTERM of a faasq), then the embedded queue for ~45 s (kill -9 and SIGTERM of `faasq up`).
// The long runs and their numbers are in bench/RESULTS.md ("Chaos soak").
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSoak, runChaosSoak, type SoakReport } from '../../bench/chaos-soak.js';
import { natsSkipReason } from '../support/nats-server.js';

/** The accept deadline (FAASQ_ACCEPT_TIMEOUT's default): no accept may take longer, faults or not. */
const ACCEPT_TIMEOUT_MS = 15_000;

function assertTargets(report: SoakReport): void {
  assert.equal(report.lost, 0, `lost: ${report.lostTokens.join(', ')}`);
  assert.equal(report.notFinal, 0);
  assert.equal(report.refusedButRan, 0, 'a 503 said nothing was sent, yet the call ran');
  // Every extra run and callback copy is counted on the call's record (attempts, callback.attempts).
  assert.equal(report.unexplainedDuplicates, 0, JSON.stringify(report.duplicates.filter((d) => !d.isExplained)));
  assert.ok(report.acceptMaxMs <= ACCEPT_TIMEOUT_MS + 5000, `slowest accept ${report.acceptMaxMs} ms`);
}

describe('chaos soak - NATS 2.10 cluster, R3, two faasq up, faults every 20 s', { skip: natsSkipReason(), timeout: 600_000 }, () => {
  let report: SoakReport;
  before(async () => {
    report = await runChaosSoak({ durationS: 100, rate: 8, faultEveryS: 20, mode: '2.10', progress: (line) => process.stderr.write(`chaos: ${line}\n`) });
    process.stderr.write(`${formatSoak(report)}\n`);
  }, { timeout: 600_000 });

  test('chaos soak - nothing accepted is lost, no refusal lies, every duplicate is explained', () => {
    assert.ok(report.faults.length >= 4, `faults: ${JSON.stringify(report.faults)}`);
    assert.ok(report.accepted > 0);
    assertTargets(report);
  });

  test('chaos soak - a cluster that keeps its quorum refuses no accept', () => {
    assert.equal(report.refusedDuringQuorum, 0, JSON.stringify(report.refusals));
  });
});

describe('chaos soak - embedded queue, kill -9 and SIGTERM of faasq up', { timeout: 300_000 }, () => {
  let report: SoakReport;
  before(async () => {
    report = await runChaosSoak({ durationS: 45, rate: 8, faultEveryS: 15, mode: 'embedded', progress: (line) => process.stderr.write(`chaos: ${line}\n`) });
    process.stderr.write(`${formatSoak(report)}\n`);
  }, { timeout: 300_000 });

  test('chaos soak - embedded: nothing accepted is lost, no refusal lies, every duplicate is explained', () => {
    assert.ok(report.faults.length >= 2, `faults: ${JSON.stringify(report.faults)}`);
    assertTargets(report);
  });
});
