// Gateway credentials: from config when set, else generated once into <dataDir>/credentials.json (0600).
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { CREDENTIALS_FILE, INVOKE_CREDENTIALS_FILE, resolveCredentials, resolveInvokeCredentials } from '../../src/gateway/index.js';
import { isFaasqError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';
import { makeTempDir } from '../support/temp-dir.js';

describe('gateway credentials', () => {
  test('credentials - FAASQ_USER and FAASQ_PASSWORD win, user defaults to admin', async () => {
    const tmp = await makeTempDir();
    try {
      const both = await resolveCredentials(loadConfig({ env: { FAASQ_USER: 'ops', FAASQ_PASSWORD: 'pw' }, flags: { dataDir: tmp.dir } }), silentLogger());
      assert.deepEqual(both, { user: 'ops', password: 'pw', isGenerated: false });
      const onlyPassword = await resolveCredentials(loadConfig({ env: { FAASQ_PASSWORD: 'pw' }, flags: { dataDir: tmp.dir } }), silentLogger());
      assert.equal(onlyPassword.user, 'admin');
      await assert.rejects(stat(path.join(tmp.dir, CREDENTIALS_FILE)), 'nothing written when configured');
    } finally {
      await tmp.cleanup();
    }
  });

  test('credentials - generated on first start, stored 0600, reused afterwards', async () => {
    const tmp = await makeTempDir();
    try {
      const config = loadConfig({ env: {}, flags: { dataDir: path.join(tmp.dir, 'data') } });
      const first = await resolveCredentials(config, silentLogger());
      assert.equal(first.isGenerated, true);
      assert.equal(first.user, 'admin');
      assert.ok(first.password.length >= 20);
      const file = path.join(tmp.dir, 'data', CREDENTIALS_FILE);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { user: 'admin', password: first.password });
      const second = await resolveCredentials(config, silentLogger());
      assert.deepEqual(second, { user: 'admin', password: first.password, isGenerated: false });
    } finally {
      await tmp.cleanup();
    }
  });

  test('credentials - invoke credentials: configured, or generated apart from the admin pair when invoke auth is on; never equal to it', async () => {
    const tmp = await makeTempDir();
    try {
      const admin = { user: 'admin', password: 'pw' };
      const off = loadConfig({ env: {}, flags: { dataDir: tmp.dir } });
      assert.equal(await resolveInvokeCredentials(off, admin, silentLogger()), undefined);
      const offConfigured = loadConfig({ env: { FAASQ_INVOKE_PASSWORD: 'x' }, flags: { dataDir: tmp.dir } });
      assert.deepEqual(await resolveInvokeCredentials(offConfigured, admin, silentLogger()), { user: 'invoke', password: 'x', isGenerated: false }, 'configured ones are known with invoke auth off too');
      await assert.rejects(stat(path.join(tmp.dir, INVOKE_CREDENTIALS_FILE)), 'nothing generated with invoke auth off');
      const configured = loadConfig({ env: { FAASQ_INVOKE_AUTH: 'true', FAASQ_INVOKE_USER: 'app', FAASQ_INVOKE_PASSWORD: 'ipw' }, flags: { dataDir: tmp.dir } });
      assert.deepEqual(await resolveInvokeCredentials(configured, admin, silentLogger()), { user: 'app', password: 'ipw', isGenerated: false });
      const generated = await resolveInvokeCredentials(loadConfig({ env: { FAASQ_INVOKE_AUTH: 'true' }, flags: { dataDir: tmp.dir } }), admin, silentLogger());
      assert.equal(generated?.user, 'invoke');
      assert.equal(generated?.isGenerated, true);
      assert.equal((await stat(path.join(tmp.dir, INVOKE_CREDENTIALS_FILE))).mode & 0o777, 0o600);
      const same = loadConfig({ env: { FAASQ_INVOKE_AUTH: 'true', FAASQ_INVOKE_USER: 'admin', FAASQ_INVOKE_PASSWORD: 'pw' }, flags: { dataDir: tmp.dir } });
      await assert.rejects(resolveInvokeCredentials(same, admin, silentLogger()), (err: unknown) => isFaasqError(err, 'E_CONFIG'));
    } finally {
      await tmp.cleanup();
    }
  });

  test('credentials - two starts at once agree on one password', async () => {
    const tmp = await makeTempDir();
    try {
      const config = loadConfig({ env: {}, flags: { dataDir: tmp.dir } });
      const [a, b] = await Promise.all([resolveCredentials(config, silentLogger()), resolveCredentials(config, silentLogger())]);
      assert.equal(a.password, b.password);
      assert.equal([a, b].filter((c) => c.isGenerated).length, 1);
    } finally {
      await tmp.cleanup();
    }
  });

  test('credentials - a broken credentials file is an E_DATA_DIR error', async () => {
    const tmp = await makeTempDir();
    try {
      await writeFile(path.join(tmp.dir, CREDENTIALS_FILE), '{not json');
      const config = loadConfig({ env: {}, flags: { dataDir: tmp.dir } });
      await assert.rejects(resolveCredentials(config, silentLogger()), (err: unknown) => isFaasqError(err, 'E_DATA_DIR'));
    } finally {
      await tmp.cleanup();
    }
  });
});
