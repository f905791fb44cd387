import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadStackFile } from '../../src/stack/index.js';
import { isFaasqError } from '../../src/shared/index.js';
import { makeTempDir } from '../support/temp-dir.js';

describe('stack file', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let n = 0;
  const write = async (text: string): Promise<string> => {
    n += 1;
    const file = path.join(dir, `stack-${n}.yml`);
    await writeFile(file, text);
    return file;
  };
  const rejectsWith = async (text: string, pattern: RegExp): Promise<void> => {
    const file = await write(text);
    assert.throws(() => loadStackFile(file, {}), (err) => {
      assert.ok(isFaasqError(err, 'E_STACK_FILE'), String(err));
      assert.ok(err.message.includes(file), err.message);
      assert.match(err.message, pattern);
      return true;
    });
  };

  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
    await mkdir(path.join(dir, 'hello'));
    await writeFile(path.join(dir, 'a.yml'), 'environment:\n  FROM_FILE: a\n  SHARED: a\n');
    await writeFile(path.join(dir, 'b.yml'), 'environment:\n  SHARED: b\n');
  });

  after(() => cleanup());

  test('stack - reads every supported function key', async () => {
    const file = await write(`
version: 1.0
provider:
  name: openfaas
  gateway: http://127.0.0.1:8080
functions:
  hello:
    lang: node
    handler: ./hello
    image: example/hello:\${TAG:-latest}
    fprocess: node runner.mjs
    namespace: team-a
    environment:
      mode: http
      SHARED: inline
      RETRIES: 3
    environment_file: [a.yml, b.yml]
    labels: { com.openfaas.scale.min: "2" }
    annotations: { com.openfaas.queue: slow }
    secrets: [api-key]
    constraints: ["node=fast"]
    limits: { memory: 128M, cpu: 0.5 }
    requests: { memory: 64M }
    readonly_root_filesystem: true
    build_options: [ignored]
  plain:
    fprocess: cat
`);
    const [hello, plain] = loadStackFile(file, { TAG: '1.2' });
    assert.equal(hello.name, 'hello');
    assert.equal(hello.namespace, 'team-a');
    assert.equal(hello.image, 'example/hello:1.2');
    assert.equal(hello.fprocess, 'node runner.mjs');
    assert.deepEqual(hello.environment, { mode: 'http', SHARED: 'b', RETRIES: '3', FROM_FILE: 'a' });
    assert.deepEqual(hello.labels, { 'com.openfaas.scale.min': '2' });
    assert.deepEqual(hello.annotations, { 'com.openfaas.queue': 'slow' });
    assert.deepEqual(hello.secrets, ['api-key']);
    assert.deepEqual(hello.constraints, ['node=fast']);
    assert.deepEqual(hello.limits, { memory: '128M', cpu: '0.5' });
    assert.deepEqual(hello.requests, { memory: '64M' });
    assert.equal(hello.readOnlyRootFilesystem, true);
    assert.equal(hello.workingDir, path.join(dir, 'hello'));
    assert.equal(plain.namespace, 'openfaas-fn');
    assert.equal(plain.image, '');
    assert.equal(plain.workingDir, dir);
  });

  test('stack - substitutes ${VAR} and ${VAR:-default}', async () => {
    const file = await write('functions:\n  f:\n    fprocess: ${CMD}\n    environment:\n      A: ${UNSET:-dflt}\n      B: "${UNSET}"\n');
    const [f] = loadStackFile(file, { CMD: 'cat' });
    assert.equal(f.fprocess, 'cat');
    assert.deepEqual(f.environment, { A: 'dflt', B: '' });
  });

  test('stack - a missing file is E_STACK_FILE naming it', () => {
    const file = path.join(dir, 'nope.yml');
    assert.throws(() => loadStackFile(file, {}), (err) => isFaasqError(err, 'E_STACK_FILE') && err.message.includes(file));
  });

  test('stack - malformed YAML is rejected naming the file', () => rejectsWith('functions:\n  f: [unclosed\n', /invalid YAML/));
  test('stack - functions must be a map', () => rejectsWith('functions: [a, b]\n', /"functions" must be a map/));
  test('stack - provider name must be openfaas or faasq', () => rejectsWith('provider:\n  name: lambda\nfunctions: {}\n', /"provider.name" must be "openfaas" or "faasq"/));
  test('stack - environment must be a map of strings', () => rejectsWith('functions:\n  echo:\n    environment: [a]\n', /function "echo": "environment" must be a map of strings/));
  test('stack - nested environment values are rejected', () => rejectsWith('functions:\n  echo:\n    environment:\n      A: { b: 1 }\n', /function "echo": "environment" must be a map of strings/));
  test('stack - labels must be a map of strings', () => rejectsWith('functions:\n  echo:\n    labels: text\n', /function "echo": "labels" must be a map of strings/));
  test('stack - secrets must be a list of strings', () => rejectsWith('functions:\n  echo:\n    secrets: one\n', /function "echo": "secrets" must be a list of strings/));
  test('stack - fprocess must be a string', () => rejectsWith('functions:\n  echo:\n    fprocess: [a, b]\n', /function "echo": "fprocess" must be a string/));
  test('stack - readonly_root_filesystem must be a boolean', () => rejectsWith('functions:\n  echo:\n    readonly_root_filesystem: maybe\n', /function "echo": "readonly_root_filesystem" must be true or false/));
  test('stack - limits must be a map', () => rejectsWith('functions:\n  echo:\n    limits: 5\n', /function "echo": "limits" must be/));
  test('stack - bad function names are rejected', () => rejectsWith('functions:\n  "bad name!":\n    fprocess: cat\n', /function "bad name!": invalid name/));
  test('stack - a function must be a map', () => rejectsWith('functions:\n  echo: cat\n', /function "echo": must be a map/));
  test('stack - a missing environment_file is named with the function and key', () => rejectsWith('functions:\n  echo:\n    environment_file: [gone.yml]\n', /function "echo": "environment_file" gone\.yml: cannot read: ENOENT/));
  test('stack - environment_file must hold an environment map', async () => {
    await writeFile(path.join(dir, 'bad-env.yml'), 'environment: [x]\n');
    await rejectsWith('functions:\n  echo:\n    environment_file: [bad-env.yml]\n', /"environment_file" bad-env\.yml: must hold an "environment" map/);
  });
});
