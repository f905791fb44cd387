// Quoted fprocess commands run in both modes, and a function whose process cannot start fails
// the call at once — 502 in fork mode, 503 in http mode — instead of hanging until a timeout.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Provider } from '../../src/provider/index.js';
import { isFaasqError } from '../../src/shared/index.js';
import { waitFor } from '../support/wait-for.js';
import { bodyOf, fixtureSpec, readAll, request, startTestProvider } from '../support/provider-fixtures.js';

/** Well under the 5s ready and exec timeouts of testConfig: "fast" means it did not wait for them. */
const FAST_MS = 2000;

describe('provider start failures', () => {
  let provider: Provider;
  let dir = '';
  let close: () => Promise<void>;

  before(async () => {
    ({ provider, dir, close } = await startTestProvider());
  });

  after(() => close());

  /** Invoking `name` fails as `isExpected` says, and fast: it did not wait for a timeout. */
  const rejectsFast = async (name: string, isExpected: (err: unknown) => boolean, label = 'the call'): Promise<void> => {
    const started = Date.now();
    await assert.rejects(provider.invoke(name, 'openfaas-fn', request({ body: bodyOf('x') })), isExpected);
    assert.ok(Date.now() - started < FAST_MS, `${label} took ${Date.now() - started}ms`);
  };
  const isUnreachable502 = (err: unknown): boolean => isFaasqError(err, 'E_FUNCTION_UNREACHABLE') && err.status === 502;

  test('fprocess - fork mode runs a quoted sh -c command as one argument', async () => {
    await provider.deploy(fixtureSpec('quoted', { fprocess: `sh -c "tr a-z A-Z; printf ' %s' \\"two words\\""`, environment: {} }));
    const res = await provider.invoke('quoted', 'openfaas-fn', request({ body: bodyOf('hi') }));
    assert.equal(res.status, 200);
    assert.equal(await readAll(res), 'HI two words');
  });

  test('fprocess - http mode starts a quoted command and serves through it', async () => {
    await provider.deploy(fixtureSpec('quoted-http', { fprocess: `sh -c "exec '${process.execPath}' echo.mjs"` }));
    const res = await provider.invoke('quoted-http', 'openfaas-fn', request({ body: bodyOf('through sh') }));
    assert.equal(res.status, 200);
    assert.equal(await readAll(res), 'through sh');
  });

  test('fork mode - a command gone since deploy (ENOENT) fails the call at once with 502', async () => {
    const script = path.join(dir, 'gone.sh');
    await writeFile(script, '#!/bin/sh\ncat\n', { mode: 0o755 });
    await provider.deploy(fixtureSpec('gone', { fprocess: script, environment: {} }));
    await rm(script);
    await rejectsFast('gone', isUnreachable502);
  });

  test('fork mode - a command no longer executable (EACCES) fails the call at once with 502', async () => {
    const script = path.join(dir, 'locked.sh');
    await writeFile(script, '#!/bin/sh\ncat\n', { mode: 0o755 });
    await provider.deploy(fixtureSpec('locked', { fprocess: script, environment: {} }));
    assert.equal(await readAll(await provider.invoke('locked', 'openfaas-fn', request({ body: bodyOf('ok') }))), 'ok');
    await chmod(script, 0o644);
    await rejectsFast('locked', isUnreachable502);
  });

  test('http mode - a process that exits before it is ready (missing binary behind sh -c) fails calls at once with 503', async () => {
    await provider.deploy(fixtureSpec('never-starts', { fprocess: 'sh -c "exec /no/such/faasq-binary"' }));
    for (let i = 0; i < 3; i += 1) {
      await rejectsFast('never-starts', (err) => isFaasqError(err, 'E_FUNCTION_NOT_READY') && err.status === 503 && err.headers['Retry-After'] === '1' && err.detail.reason === 'exit code 127', `call ${i}`);
    }
    assert.equal((await provider.get('never-starts', 'openfaas-fn')).availableReplicas, 0);
  });

  test('http mode - once a restart gets ready, calls are served again', async () => {
    const marker = path.join(dir, 'may-start');
    await provider.deploy(fixtureSpec('late', { fprocess: `sh -c "test -e '${marker}' || exit 7; exec '${process.execPath}' echo.mjs"` }));
    await waitFor(async () => {
      try {
        await provider.invoke('late', 'openfaas-fn', request({ body: bodyOf('x') }));
        return false;
      } catch (err) {
        return isFaasqError(err, 'E_FUNCTION_NOT_READY') && err.detail.reason === 'exit code 7';
      }
    }, { timeoutMs: 5000, message: 'fast 503 naming exit code 7' });
    await writeFile(marker, '');
    const text = await waitFor(async () => readAll(await provider.invoke('late', 'openfaas-fn', request({ body: bodyOf('now up') }))), { timeoutMs: 5000, message: 'served after restart' });
    assert.equal(text, 'now up');
  });
});
