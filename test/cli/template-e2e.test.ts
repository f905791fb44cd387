// End to end: an OpenFaaS project (stack.yml with `lang:`, template/<lang>/ folders, handler
// folders) run by `faasq up` as it is, and redeployed with `faasq deploy -f` after a handler change.
// A template whose server listens on a fixed port needs each replica in its own network (the
// sandbox); without one, those tests skip with the reason.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectSandbox } from '../../src/provider/local/sandbox/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { toolSkipReason } from '../support/tools.js';
import { waitFor } from '../support/wait-for.js';
import { startFaasq, type FaasqProcess } from './support/faasq-process.js';
import { runCli } from './support/run-cli.js';
import type { FunctionStatus } from '../../src/provider/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = path.join(ROOT, 'test/fixtures/openfaas-project');
const CREDS = { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'e2e-password' };

const host = detectSandbox('auto', 'nobody');
const NEEDS_SANDBOX = toolSkipReason('bwrap') ?? (process.getuid?.() !== 0 ? 'needs root (the sandbox drops functions to nobody)' : !host.isOn ? `no sandbox here: ${host.reason}` : false);

const fn = (name: string, lang: string, handler: string, replicas: number, extra = ''): string =>
  `  ${name}:\n    lang: ${lang}\n    handler: ./${handler}\n    image: example/${name}:1.0\n    labels:\n      com.openfaas.scale.min: "${replicas}"\n${extra}`;

describe('openfaas project under faasq up', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let up: FaasqProcess | undefined;
  let url = '';
  let project = '';
  let dataDir = '';
  const auth = `Basic ${Buffer.from(`${CREDS.FAASQ_USER}:${CREDS.FAASQ_PASSWORD}`).toString('base64')}`;
  const status = async (name: string) => (await fetch(`${url}/system/function/${name}`, { headers: { authorization: auth } })).json() as Promise<FunctionStatus>;
  const call = async (name: string, body: string) => {
    const res = await fetch(`${url}/function/${name}`, { method: 'POST', body });
    return { status: res.status, text: await res.text(), replica: res.headers.get('x-replica-id') };
  };
  const ready = (name: string, replicas: number) =>
    waitFor(async () => (await status(name)).availableReplicas === replicas, { timeoutMs: 30_000, intervalMs: 100, message: `${name} has ${replicas} ready replicas` });
  const deploy = (env: Record<string, string> = {}) =>
    runCli(['-g', url, 'deploy', '-f', 'stack.yml'], { cwd: project, timeoutMs: 60_000, env: { ...CREDS, FAASQ_DATA_DIR: dataDir, FAASQ_CONFIG_DIR: path.join(tmp.dir, 'conf'), ...env } });

  before(async () => {
    tmp = await makeTempDir('faasq-template-e2e-');
    project = path.join(tmp.dir, 'project');
    dataDir = path.join(tmp.dir, 'data');
    await cp(FIXTURE, project, { recursive: true });
    await cp(path.join(project, 'fork-hello'), path.join(project, 'fork-three'), { recursive: true });
    const functions = [fn('fork-hello', 'node-fork', 'fork-hello', 1), fn('fork-three', 'node-fork', 'fork-three', 3)];
    functions.push(
      fn('hello', 'node-port', 'hello', 1, '    environment:\n      GREETING_SUFFIX: "!"\n'),
      fn('hello-three', 'node-port', 'hello', 3),
    );
    if (!NEEDS_SANDBOX) {
      functions.push(
        fn('fixed', 'node-fixed', 'hello', 1),
        fn('fixed-three', 'node-fixed', 'hello', 3),
      );
    }
    await writeFile(path.join(project, 'stack.yml'), `version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n${functions.join('')}`);
    up = startFaasq(['up', '--port', '0', '--queue', 'memory', '--data-dir', dataDir, '--log-level', 'info'], { cwd: project, env: CREDS });
    url = (await up.waitForLine(/listening on (http:\/\/\S+)/, 120_000))[1];
  });

  after(async () => {
    await up?.stop();
    await tmp.cleanup();
  });

  test('templates - a fork-mode template runs with one and three replicas, its Dockerfile ENV applied; status as OpenFaaS tools read it', async () => {
    await ready('fork-hello', 1);
    await ready('fork-three', 3);
    const one = await call('fork-hello', 'hi');
    assert.equal(one.status, 200, one.text);
    assert.match(one.text, /^forked POST HI run=[0-9a-f]{12}\n$/);
    const ids = new Set<string>();
    for (let i = 0; i < 6; i += 1) {
      const r = await call('fork-three', `n${i}`);
      assert.equal(r.status, 200, r.text);
      ids.add(/run=([0-9a-f]+)/.exec(r.text)?.[1] ?? '');
    }
    assert.equal(ids.size, 6, 'one process per request');
    const st = await status('fork-three');
    assert.equal(st.replicas, 3);
    assert.equal(st.image, 'example/fork-three:1.0');
    assert.equal(st.labels?.faas_function, 'fork-three');
    assert.equal(st.envProcess, 'node index.js');
    assert.equal(st.envVars?.exec_timeout, '5s');
    // Assembled under the data dir `faasq up` was given, the template's files with the handler in function/.
    const builds = (await readdir(path.join(dataDir, 'functions', 'openfaas-fn', 'fork-three'))).filter((e) => e !== 'current');
    assert.equal(builds.length, 1);
    assert.deepEqual((await readdir(path.join(dataDir, 'functions', 'openfaas-fn', 'fork-three', builds[0], 'function'))).sort(), ['handler.js']);
  });

  test('templates - a changed handler is rebuilt on the next deploy, an unchanged one is not', async () => {
    await ready('fork-hello', 1);
    const first = await deploy();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /fork-hello: unchanged, reusing/);
    await writeFile(path.join(project, 'fork-hello', 'handler.js'), "'use strict';\nmodule.exports = async (body) => `v2 ${body}\\n`;\n");
    const second = await deploy();
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /fork-hello: assembled /);
    assert.match(second.stderr, /fork-three: unchanged, reusing/);
    await waitFor(async () => (await call('fork-hello', 'x')).text === 'v2 x\n', { timeoutMs: 20_000, intervalMs: 100, message: 'the new handler answers' });
    const builds = (await readdir(path.join(dataDir, 'functions', 'openfaas-fn', 'fork-hello'))).filter((e) => e !== 'current');
    assert.equal(builds.length, 2, `the new build and the one before it: ${builds.join(', ')}`);
  });

  test('templates - a missing install tool is reported by name and nothing is deployed', async () => {
    const emptyBin = path.join(tmp.dir, 'empty-bin');
    await mkdir(emptyBin, { recursive: true });
    await writeFile(path.join(project, 'fork-hello', 'package.json'), JSON.stringify({ name: 'fork-hello', dependencies: { local: 'file:./local' } }));
    const res = await deploy({ PATH: emptyBin });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /function "fork-hello" \(function package\.json\) needs "npm", which is not installed/);
    assert.match((await call('fork-hello', 'x')).text, /^v2 x\n$|^forked/);
  });

  test('templates - an http_port template: one and three replicas, calls spread over all of them', async () => {
    await ready('hello', 1);
    const one = await call('hello', 'faasq');
    assert.equal(one.status, 200, one.text);
    assert.equal(one.text, 'Hello, faasq! v1\n');
    await ready('hello-three', 3);
    const ids = new Set<string>();
    for (let i = 0; i < 30; i += 1) ids.add((await call('hello-three', 'x')).replica ?? '');
    assert.equal(ids.size, 3, `calls reached ${[...ids].join(', ')}`);
  });

  test('templates - a template whose server always listens on 3000: one and three replicas', { skip: NEEDS_SANDBOX }, async () => {
    await ready('fixed', 1);
    assert.equal((await call('fixed', 'a')).text, 'Hello, a v1\n');
    await ready('fixed-three', 3);
    const ids = new Set<string>();
    for (let i = 0; i < 30; i += 1) ids.add((await call('fixed-three', 'x')).replica ?? '');
    assert.equal(ids.size, 3, `calls reached ${[...ids].join(', ')}`);
  });
});

test('templates - faasq up stops at start, naming the missing install tool', async () => {
  const tmp = await makeTempDir('faasq-template-tool-');
  try {
    const project = path.join(tmp.dir, 'project');
    await cp(FIXTURE, project, { recursive: true });
    const emptyBin = path.join(tmp.dir, 'bin');
    await mkdir(emptyBin);
    const up = startFaasq(['up', '--port', '0', '--queue', 'memory', '--data-dir', path.join(tmp.dir, 'data')], { cwd: project, env: { ...CREDS, PATH: emptyBin } });
    const code = await new Promise<number | null>((resolve) => up.child.once('exit', (c) => resolve(c)));
    assert.equal(code, 1);
    assert.match(up.stderr(), /function "hello" \(function package\.json\) needs "npm", which is not installed/);
  } finally {
    await tmp.cleanup();
  }
});
