import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadStackFile, scaffoldFunction } from '../../src/stack/index.js';
import { createLocalProvider } from '../../src/provider/index.js';
import { EventBus, isFaasqError, silentLogger } from '../../src/shared/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { bodyOf, readAll, request, testConfig } from '../support/provider-fixtures.js';

describe('stack scaffold', () => {
  let dir: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });

  after(() => cleanup());

  test('stack - scaffoldFunction creates a node function and a stack file that runs it', async () => {
    const stackFile = path.join(dir, 'stack.yml');
    const { files } = await scaffoldFunction({ name: 'hello', lang: 'node', dir, stackFile });
    assert.ok(files.includes(path.join(dir, 'hello', 'handler.mjs')));
    assert.ok(files.includes(path.join(dir, 'hello', 'runner.mjs')));
    const [spec] = loadStackFile(stackFile, {});
    assert.equal(spec.name, 'hello');
    assert.equal(spec.environment.mode, 'http');
    assert.equal(spec.workingDir, path.join(dir, 'hello'));
    const provider = createLocalProvider({ config: testConfig(dir), logger: silentLogger(), events: new EventBus() });
    await provider.start();
    try {
      await provider.deploy({ ...spec, fprocess: spec.fprocess.replace(/^node /, `${process.execPath} `) });
      const res = await provider.invoke('hello', 'openfaas-fn', request({ body: bodyOf('faasq') }));
      assert.equal(res.status, 200);
      assert.equal(await readAll(res), 'Hello, faasq!\n');
    } finally {
      await provider.close();
    }
  });

  test('stack - scaffoldFunction keeps comments of an existing stack file', async () => {
    const stackFile = path.join(dir, 'existing.yml');
    await writeFile(stackFile, '# my functions\nprovider:\n  name: openfaas\nfunctions:\n  # the old one\n  old:\n    fprocess: cat\n');
    await scaffoldFunction({ name: 'fresh', lang: 'node', dir: path.join(dir, 'fns'), stackFile });
    const text = await readFile(stackFile, 'utf8');
    assert.match(text, /# my functions/);
    assert.match(text, /# the old one/);
    assert.deepEqual(loadStackFile(stackFile, {}).map((s) => s.name), ['old', 'fresh']);
    await assert.rejects(scaffoldFunction({ name: 'fresh2', lang: 'cobol', dir, stackFile }), (err) => isFaasqError(err, 'E_BAD_REQUEST'));
    await assert.rejects(scaffoldFunction({ name: 'fresh', lang: 'node', dir: path.join(dir, 'other'), stackFile }), (err) => isFaasqError(err, 'E_CONFLICT'));
  });
});
