import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Replica } from '../../src/provider/local/replica.js';
import { isFaasqError } from '../../src/shared/index.js';
import { FIXTURES_DIR } from '../support/provider-fixtures.js';

const noop = (): void => undefined;

test('provider - a replica whose spawn fails with ENOENT rejects E_DEPLOY_FAILED "command not found"', async () => {
  const replica = new Replica({
    instance: 'gone-0',
    launch: { file: '/definitely/not/here/faasq-cmd', args: [], cwd: FIXTURES_DIR, env: {}, address: { port: 1 }, cgroup: undefined, cleanup: async () => undefined },
    commandFile: '/definitely/not/here/faasq-cmd',
    execTimeoutMs: 0,
    readyTimeoutMs: 1000,
    healthIntervalMs: 0,
    pooling: { quietMs: 5 },
    onLine: noop,
    onReady: noop,
    onExit: () => assert.fail('onExit must not be called for a process that never started'),
  });
  await assert.rejects(replica.start(), (err) => isFaasqError(err, 'E_DEPLOY_FAILED') && /command not found: \/definitely\/not\/here\/faasq-cmd/.test(err.message));
  assert.equal(replica.state, 'exited');
  // stop() of a process that never started returns at once.
  await replica.stop(100);
});
