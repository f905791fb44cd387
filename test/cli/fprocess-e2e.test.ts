// End to end through `faasq up`: quoted fprocess commands run, and functions that cannot start or
// write too much answer fast with a status and a plain-text body saying why (never a hang).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { startFaasq, type FaasqProcess } from './support/faasq-process.js';

const FAST_MS = 3000;

describe('cli - faasq up running awkward fprocess commands', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let up: FaasqProcess | undefined;
  let url = '';

  before(async () => {
    tmp = await makeTempDir('faasq-cli-fprocess-');
    const script = path.join(tmp.dir, 'vanishing.sh');
    await writeFile(script, '#!/bin/sh\ncat\n', { mode: 0o755 });
    await writeFile(path.join(tmp.dir, 'stack.yml'), [
      'version: "1.0"',
      'functions:',
      '  quoted:',
      `    fprocess: 'sh -c "tr a-z A-Z; echo \\"  done\\""'`,
      '  vanishing:',
      `    fprocess: ${script}`,
      '  no-binary:',
      `    fprocess: 'sh -c "exec /no/such/faasq-binary"'`,
      '    environment:',
      '      mode: http',
      '  chatty:',
      '    fprocess: yes',
      '',
    ].join('\n'));
    up = startFaasq(['up', '--port', '0', '--queue', 'memory', '--data-dir', path.join(tmp.dir, 'data'), '--log-level', 'warn'], {
      cwd: tmp.dir,
      env: { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'fprocess-pw', FAASQ_MAX_FORK_OUTPUT: '64KiB', FAASQ_READY_TIMEOUT: '20s' },
    });
    url = (await up.waitForLine(/listening on (http:\/\/\S+)/))[1];
    await rm(script);
  });

  after(async () => {
    await up?.stop();
    await tmp.cleanup();
  });

  const call = async (name: string, body = 'hi'): Promise<{ status: number; text: string; ms: number }> => {
    const started = Date.now();
    const res = await fetch(`${url}/function/${name}`, { method: 'POST', body, signal: AbortSignal.timeout(15_000) });
    return { status: res.status, text: await res.text(), ms: Date.now() - started };
  };

  test('cli - a quoted sh -c fprocess answers 200 with its output', async () => {
    const res = await call('quoted', 'shout');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, 'SHOUT  done\n');
  });

  test('cli - a fork-mode command that is gone answers 502 at once, naming the command', async () => {
    const res = await call('vanishing');
    assert.equal(res.status, 502);
    assert.ok(res.ms < FAST_MS, `took ${res.ms}ms`);
    assert.ok(res.text.includes('vanishing.sh') && res.text.includes('ENOENT'), res.text);
  });

  test('cli - an http-mode process that dies before it is ready answers 503 at once, not after the ready timeout', async () => {
    const res = await call('no-binary');
    assert.equal(res.status, 503);
    assert.ok(res.ms < FAST_MS, `took ${res.ms}ms (ready timeout 20s)`);
    assert.ok(res.text.includes('exit code 127'), res.text);
  });

  test('cli - fork-mode output over FAASQ_MAX_FORK_OUTPUT answers 502 and the process is killed', async () => {
    const res = await call('chatty');
    assert.equal(res.status, 502);
    assert.ok(res.text.includes('65536 bytes'), res.text);
  });
});
