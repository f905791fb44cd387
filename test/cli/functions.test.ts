// The function commands against a fake gateway: the requests they send and what they print.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTempDir } from '../support/temp-dir.js';
import { startFakeGateway, type FakeGateway } from './support/fake-gateway.js';
import { runCli } from './support/run-cli.js';

const AUTH = { user: 'admin', password: 's3cret' };
const BASIC = 'Basic ' + Buffer.from('admin:s3cret').toString('base64');

describe('cli functions', () => {
  let gw: FakeGateway;
  let tmp: { dir: string; cleanup: () => Promise<void> };
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(['-g', gw.url, ...args], { env: { FAASQ_USER: AUTH.user, FAASQ_PASSWORD: AUTH.password, FAASQ_CONFIG_DIR: tmp.dir, ...env }, cwd: tmp.dir });

  before(async () => {
    gw = await startFakeGateway({ auth: AUTH });
    tmp = await makeTempDir('faasq-cli-fn-');
  });
  after(async () => {
    await gw.close();
    await tmp.cleanup();
  });

  test('cli - list prints a table, names with -q, JSON with --json, and sends basic auth', async () => {
    gw.on('GET', '/system/functions', {
      json: [
        { name: 'zeta', replicas: 2, availableReplicas: 1, invocationCount: 7 },
        { name: 'alpha', replicas: 1, availableReplicas: 1, invocationCount: 0 },
      ],
    });
    const table = await cli(['list']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^Function\s+Invocations\s+Replicas\s+Available$/);
    assert.match(lines[1], /^alpha\s+0\s+1\s+1$/);
    assert.match(lines[2], /^zeta\s+7\s+2\s+1$/);
    assert.equal(gw.sent('GET', '/system/functions').at(-1)?.headers.authorization, BASIC);

    const quiet = await cli(['list', '-q']);
    assert.equal(quiet.stdout, 'zeta\nalpha\n');
    const json = await cli(['list', '--json']);
    assert.deepEqual(JSON.parse(json.stdout).map((f: { name: string }) => f.name), ['zeta', 'alpha']);
  });

  test('cli - describe shows status, counts, URLs and annotations; 404 exits 1', async () => {
    gw.on('GET', '/system/function/echo', {
      json: { name: 'echo', namespace: 'openfaas-fn', replicas: 1, availableReplicas: 1, envProcess: 'cat', annotations: { 'com.openfaas.queue': 'slow' } },
    });
    gw.on('GET', '/system/functions', { json: [{ name: 'echo', invocationCount: 42 }] });
    const run = await cli(['describe', 'echo']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Status:\s+Ready/);
    assert.match(run.stdout, /Invocations:\s+42/);
    assert.match(run.stdout, new RegExp(`URL:\\s+${gw.url}/function/echo\\n`));
    assert.match(run.stdout, new RegExp(`Async URL:\\s+${gw.url}/async-function/echo\\n`));
    assert.match(run.stdout, /Annotations:\s+com\.openfaas\.queue=slow/);

    gw.on('GET', '/system/function/nope', { status: 404, json: { error: 'E_FUNCTION_NOT_FOUND', message: 'function nope not found' } });
    const missing = await cli(['describe', 'nope.dev']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /404: function nope not found/);
    assert.equal(gw.sent('GET', '/system/function/nope')[0].query.get('namespace'), 'dev');
  });

  test('cli - deploy -f PUTs each function and falls back to POST on 404', async () => {
    const stack = path.join(tmp.dir, 'stack.yml');
    await writeFile(stack, [
      'version: "1.0"',
      'provider: { name: openfaas, gateway: http://127.0.0.1:8080 }',
      'functions:',
      '  old:',
      '    fprocess: cat',
      '    environment: { A: "1" }',
      '    annotations: { com.openfaas.retry.attempts: "3" }',
      '  fresh:',
      '    image: ghcr.io/x/fresh:1',
      '    fprocess: node index.js',
      '    labels: { team: blue }',
      '    secrets: [token]',
      '',
    ].join('\n'));
    gw.on('PUT', '/system/functions', (req) => (JSON.parse(req.body).service === 'old' ? { status: 200 } : { status: 404, body: 'not found' }));
    gw.on('POST', '/system/functions', { status: 202 });
    const run = await cli(['deploy', '-f', stack]);
    assert.equal(run.code, 0, run.stderr);
    const puts = gw.sent('PUT', '/system/functions').map((r) => JSON.parse(r.body));
    const posts = gw.sent('POST', '/system/functions').map((r) => JSON.parse(r.body));
    assert.deepEqual(puts.map((d) => d.service), ['old', 'fresh']);
    assert.deepEqual(posts.map((d) => d.service), ['fresh']);
    assert.equal(puts[0].envProcess, 'cat');
    assert.deepEqual(puts[0].envVars, { A: '1' });
    // The stack file's folder travels as com.faasq.workdir so relative fprocess paths resolve on the gateway.
    assert.deepEqual(puts[0].annotations, { 'com.openfaas.retry.attempts': '3', 'com.faasq.workdir': tmp.dir });
    assert.equal(posts[0].image, 'ghcr.io/x/fresh:1');
    assert.deepEqual(posts[0].labels, { team: 'blue' });
    assert.deepEqual(posts[0].secrets, ['token']);
    assert.equal(posts[0].namespace, 'openfaas-fn');
    assert.match(run.stdout, /Deployed old \(200\)/);
    assert.match(run.stdout, /Deployed fresh \(202\)/);
    assert.equal(gw.sent('PUT', '/system/functions')[0].headers.authorization, BASIC);

    const before = gw.sent('PUT', '/system/functions').length;
    const filtered = await cli(['deploy', '--filter', 'fr*']); // stack.yml from the working directory
    assert.equal(filtered.code, 0, filtered.stderr);
    assert.deepEqual(gw.sent('PUT', '/system/functions').slice(before).map((r) => JSON.parse(r.body).service), ['fresh']);
  });

  test('cli - deploy from flags sends a FunctionDeployment; a gateway error exits 1', async () => {
    gw.on('PUT', '/system/functions', { status: 404 });
    gw.on('POST', '/system/functions', (req) => (JSON.parse(req.body).service === 'bad' ? { status: 400, body: 'field "envProcess" must be a string' } : { status: 202 }));
    const run = await cli(['deploy', '--name', 'flagged', '--fprocess', 'cat', '--env', 'K=v=1', '--annotation', 'a=b', '--label', 'l=m']);
    assert.equal(run.code, 0, run.stderr);
    const body = JSON.parse(gw.sent('POST', '/system/functions').at(-1)?.body ?? '{}');
    assert.deepEqual(body, { service: 'flagged', envProcess: 'cat', envVars: { K: 'v=1' }, labels: { l: 'm' }, annotations: { a: 'b' }, secrets: [] });

    const bad = await cli(['deploy', '--name', 'bad', '--fprocess', 'x']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /deploying bad failed: gateway returned 400: field "envProcess" must be a string/);

    const usage = await cli(['deploy', '--name', 'nothing']);
    assert.equal(usage.code, 2);
  });

  test('cli - remove sends DeleteFunctionRequest and scale sends ScaleServiceRequest', async () => {
    gw.on('DELETE', '/system/functions', { status: 202 });
    gw.on('POST', '/system/scale-function/echo', { status: 202 });
    const removed = await cli(['remove', 'echo.dev']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(JSON.parse(gw.sent('DELETE', '/system/functions')[0].body), { functionName: 'echo', namespace: 'dev' });
    const scaled = await cli(['scale', 'echo', '--replicas', '3']);
    assert.equal(scaled.code, 0, scaled.stderr);
    assert.deepEqual(JSON.parse(gw.sent('POST', '/system/scale-function/echo')[0].body), { serviceName: 'echo', replicas: 3 });
    const bad = await cli(['scale', 'echo', '--replicas', 'many']);
    assert.equal(bad.code, 2);
  });
});
