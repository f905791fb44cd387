// Data at rest: a `faasq up` started with umask 000 still leaves nothing in its data dir that
// another user could read (folders 0700, files 0600), and fixes what an earlier run left open.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { startFaasq, type FaasqProcess } from '../cli/support/faasq-process.js';
import { natsSkipReason } from '../support/nats-server.js';

const CREDS = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'rest-password' };
const AUTH = `Basic ${Buffer.from('admin:rest-password').toString('base64')}`;

async function openModes(dir: string): Promise<string[]> {
  const open: string[] = [];
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) open.push(`${path.relative(dir, p) || '.'} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const name of await readdir(p)) await visit(path.join(p, name));
  };
  await visit(dir);
  return open;
}

/** Starts the child with umask 000 (it inherits the umask at spawn). */
function startLoose(args: string[], cwd: string): FaasqProcess {
  const previous = process.umask(0);
  try {
    return startFaasq(args, { cwd, env: CREDS, captureStdout: true });
  } finally {
    process.umask(previous);
  }
}

describe('data at rest', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let up: FaasqProcess | undefined;
  let url = '';
  let dataDir = '';

  before(async () => {
    tmp = await makeTempDir('faasq-rest-');
    dataDir = path.join(tmp.dir, 'data');
    // What an older faasq (or a copy with cp -r) left behind: an open secrets folder and file,
    // an open credentials file.
    await mkdir(path.join(dataDir, 'secrets', 'openfaas-fn'), { recursive: true });
    await writeFile(path.join(dataDir, 'secrets', 'openfaas-fn', 'old-key'), 'old');
    await chmod(path.join(dataDir, 'secrets', 'openfaas-fn', 'old-key'), 0o644);
    await chmod(path.join(dataDir, 'secrets', 'openfaas-fn'), 0o755);
    await writeFile(path.join(dataDir, 'credentials.json'), JSON.stringify({ user: CREDS.FAASQ_USER, password: CREDS.FAASQ_PASSWORD }));
    await chmod(path.join(dataDir, 'credentials.json'), 0o644);
    await chmod(dataDir, 0o755);
    // Someone else's file in the data dir (a data dir pointed at a project folder): left as it is.
    await writeFile(path.join(dataDir, 'notes.txt'), 'mine');
    await chmod(path.join(dataDir, 'notes.txt'), 0o644);
    // A template build: code the sandbox shares with a function's user, left as built.
    await mkdir(path.join(dataDir, 'functions', 'openfaas-fn', 'f'), { recursive: true });
    await writeFile(path.join(dataDir, 'functions', 'openfaas-fn', 'f', 'handler.js'), '');
    await chmod(path.join(dataDir, 'functions', 'openfaas-fn', 'f', 'handler.js'), 0o644);
    await writeFile(path.join(tmp.dir, 'stack.yml'), 'version: "1.0"\nfunctions:\n  cat:\n    fprocess: cat\n');
    up = startLoose(['up', '--port', '0', '--data-dir', dataDir, '--log-level', 'info', '--log-format', 'json'], tmp.dir);
    url = (await up.waitForLine(/listening on (http:\/\/\S+)/))[1]!;
  });

  after(async () => {
    await up?.stop();
    await tmp.cleanup();
  });

  test('data at rest - queue store, credentials, secrets and leftovers are owner-only under umask 000', async () => {
    // Write something of each kind: a queued call with a body and token, a secret.
    const secret = await fetch(`${url}/system/secrets`, {
      method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'api-key', value: 's3cret' }),
    });
    assert.equal(secret.status, 201, await secret.text());
    const accepted = await fetch(`${url}/async-function/cat`, { method: 'POST', headers: { 'x-call-id': 'rest-1', cookie: 'session=abc' }, body: 'body at rest' });
    assert.equal(accepted.status, 202, await accepted.text());
    await waitFor(async () => (await (await fetch(`${url}/async-function/rest-1`)).json() as { state: string }).state === 'succeeded', { timeoutMs: 20_000, intervalMs: 100, message: 'call settled' });

    const names = await readdir(path.join(dataDir, 'queue'));
    assert.ok(names.includes('data.mdb') && names.includes('lock.mdb'), names.join(','));
    assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
    assert.equal((await stat(path.join(dataDir, 'queue', 'data.mdb'))).mode & 0o777, 0o600);
    assert.deepEqual((await openModes(dataDir)).filter((p) => !p.startsWith('functions')), ['notes.txt 644']);
    assert.equal((await stat(path.join(dataDir, 'functions', 'openfaas-fn', 'f', 'handler.js'))).mode & 0o777, 0o644, 'template builds keep their modes');
    // One line says what was fixed.
    const lines = up!.stdout().split('\n').filter((l) => l.includes('made owner-only'));
    assert.equal(lines.length, 1, up!.stdout());
    assert.match(lines[0], /"count":5/); // the data dir, secrets/, secrets/openfaas-fn/, old-key, credentials.json
  });
});

describe('data at rest with faasq up --nats', { skip: natsSkipReason() }, () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let up: FaasqProcess | undefined;

  before(async () => {
    tmp = await makeTempDir('faasq-rest-nats-');
  });
  after(async () => {
    await up?.stop();
    await tmp.cleanup();
  });

  test('data at rest - the supervised nats-server store, config and log are owner-only under umask 000', async () => {
    const dataDir = path.join(tmp.dir, 'data');
    await writeFile(path.join(tmp.dir, 'stack.yml'), 'version: "1.0"\nfunctions:\n  cat:\n    fprocess: cat\n');
    up = startLoose(['up', '--nats', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], tmp.dir);
    const url = (await up.waitForLine(/listening on (http:\/\/\S+)/, 60_000))[1];
    const accepted = await fetch(`${url}/async-function/cat`, { method: 'POST', headers: { 'x-call-id': 'rest-nats-1' }, body: 'stored in jetstream' });
    assert.equal(accepted.status, 202, await accepted.text());
    await waitFor(async () => (await (await fetch(`${url}/async-function/rest-nats-1`)).json() as { state: string }).state === 'succeeded', { timeoutMs: 30_000, intervalMs: 200, message: 'call settled' });
    const files = await readdir(path.join(dataDir, 'nats'), { recursive: true });
    assert.ok(files.some((f) => String(f).includes('jetstream')), files.join(','));
    assert.deepEqual(await openModes(dataDir), []);
  });
});
