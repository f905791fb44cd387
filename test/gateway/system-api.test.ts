// The OpenFaaS system API through a real gateway: auth, function CRUD, scale, info, namespaces,
// secrets, logs (NDJSON, follow) and the error replies faas-cli relies on.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { waitFor } from '../support/wait-for.js';
import { startTestGateway, type TestGateway } from './support/start-gateway.js';

describe('gateway system API', () => {
  let t: TestGateway;
  before(async () => {
    t = await startTestGateway();
  });
  after(async () => {
    await t.close();
  });

  const sys = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, auth: string | null = t.auth) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await request(`${t.url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
  };

  test('system - requires basic auth with the right credentials', async () => {
    const none = await sys('GET', '/system/functions', undefined, null);
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Basic realm="Restricted"');
    const wrong = await sys('GET', '/system/functions', undefined, 'Basic ' + Buffer.from('admin:nope').toString('base64'));
    assert.equal(wrong.status, 401);
    const garbage = await sys('GET', '/system/info', undefined, 'Bearer abc');
    assert.equal(garbage.status, 401);
    const ok = await sys('GET', '/system/functions');
    assert.equal(ok.status, 200);
  });

  test('system - deploy, get, list, update, scale and remove a function', async () => {
    const deployment = { service: 'hello', image: 'ghcr.io/x/hello:1', envProcess: 'cat', envVars: { A: '1' }, labels: { l: 'v' }, annotations: { a: 'b' } };
    assert.equal((await sys('POST', '/system/functions', deployment)).status, 202);
    assert.equal((await sys('POST', '/system/functions', deployment)).status, 409);

    const got = await sys('GET', '/system/function/hello');
    assert.equal(got.status, 200);
    const status = got.json();
    assert.equal(status.name, 'hello');
    assert.equal(status.namespace, 'openfaas-fn');
    assert.equal(status.image, 'ghcr.io/x/hello:1');
    assert.equal(status.envProcess, 'cat');
    assert.deepEqual(status.envVars, { A: '1' });
    // faas-netes labels every function faas_function=NAME; tools (and dashboards) select by it.
    assert.deepEqual(status.labels, { l: 'v', faas_function: 'hello' });
    assert.equal(status.replicas, 1);

    const list = await sys('GET', '/system/functions?namespace=openfaas-fn');
    assert.ok(list.json().some((f: { name: string }) => f.name === 'hello'));

    assert.equal((await sys('PUT', '/system/functions', { ...deployment, image: 'ghcr.io/x/hello:2' })).status, 200);
    const updated = (await sys('GET', '/system/function/hello.openfaas-fn')).json();
    assert.equal(updated.image, 'ghcr.io/x/hello:2');
    // A deployed faas_function label cannot make the status name another function.
    assert.equal((await sys('PUT', '/system/functions', { ...deployment, labels: { faas_function: 'other' } })).status, 200);
    assert.equal((await sys('GET', '/system/function/hello')).json().labels.faas_function, 'hello');

    const scaled = await sys('POST', '/system/scale-function/hello', { serviceName: 'hello', replicas: 3, namespace: 'openfaas-fn' });
    assert.equal(scaled.status, 202);
    assert.equal((await sys('GET', '/system/function/hello')).json().replicas, 3);

    assert.equal((await sys('DELETE', '/system/functions', { functionName: 'hello', namespace: 'openfaas-fn' })).status, 200);
    assert.equal((await sys('DELETE', '/system/functions', { functionName: 'hello' })).status, 404);
    assert.equal((await sys('GET', '/system/function/hello')).status, 404);
  });

  test('system - PUT of a missing function is 404 so faas-cli falls back to POST', async () => {
    const res = await sys('PUT', '/system/functions', { service: 'missing', image: 'x' });
    assert.equal(res.status, 404);
    assert.equal(res.json().error, 'E_FUNCTION_NOT_FOUND');
  });

  test('system - bad JSON is 400 E_INVALID_JSON with the reason', async () => {
    const res = await sys('POST', '/system/functions', '{"service": ');
    assert.equal(res.status, 400);
    assert.equal(res.json().error, 'E_INVALID_JSON');
    assert.match(res.json().message, /JSON/);
    const notObject = await sys('POST', '/system/functions', '[1,2]');
    assert.equal(notObject.status, 400);
    const empty = await sys('POST', '/system/functions', '');
    assert.equal(empty.status, 400);
  });

  test('system - missing fields are 400 naming the field', async () => {
    const deploy = await sys('POST', '/system/functions', { image: 'x' });
    assert.equal(deploy.status, 400);
    assert.match(deploy.json().message, /service/);
    const del = await sys('DELETE', '/system/functions', { namespace: 'openfaas-fn' });
    assert.equal(del.status, 400);
    assert.match(del.json().message, /functionName/);
    const scale = await sys('POST', '/system/scale-function/echo', { serviceName: 'echo' });
    assert.equal(scale.status, 400);
    assert.match(scale.json().message, /replicas/);
    const badReplicas = await sys('POST', '/system/scale-function/echo', { replicas: -1 });
    assert.equal(badReplicas.status, 400);
    const missingFn = await sys('POST', '/system/scale-function/nothere', { replicas: 1 });
    assert.equal(missingFn.status, 404);
  });

  test('system - FunctionStatus leaves out empty collections as the OpenFaaS providers do, and returns the rest as deployed', async () => {
    assert.equal((await sys('POST', '/system/functions', { service: 'bare', image: 'img:1', envProcess: 'cat' })).status, 202);
    const bare = (await sys('GET', '/system/function/bare')).json();
    for (const field of ['envVars', 'annotations', 'secrets', 'constraints', 'limits', 'requests']) assert.ok(!(field in bare), `${field} left out: ${JSON.stringify(bare)}`);
    // labels always carry faas_function, as faas-netes sets it.
    assert.deepEqual(bare.labels, { faas_function: 'bare' });
    assert.deepEqual([bare.name, bare.namespace, bare.image, bare.envProcess], ['bare', 'openfaas-fn', 'img:1', 'cat']);
    const listed = (await sys('GET', '/system/functions')).json().find((f: { name: string }) => f.name === 'bare');
    assert.ok(!('envVars' in listed) && !('secrets' in listed));

    const full = { service: 'full', image: 'img:2', envProcess: 'cat', envVars: { A: '1' }, labels: { l: 'v' }, annotations: { a: 'b' }, constraints: ['node=x'], limits: { memory: '128Mi' }, readOnlyRootFilesystem: true };
    assert.equal((await sys('POST', '/system/functions', full)).status, 202);
    const got = (await sys('GET', '/system/function/full')).json();
    for (const [k, v] of Object.entries(full)) if (k !== 'service' && k !== 'labels') assert.deepEqual(got[k], v, k);
    assert.deepEqual(got.labels, { l: 'v', faas_function: 'full' });
    await sys('DELETE', '/system/functions', { functionName: 'bare' });
    await sys('DELETE', '/system/functions', { functionName: 'full' });
  });

  test('system - request bodies over 1 MiB are 413', async () => {
    const res = await sys('POST', '/system/functions', JSON.stringify({ service: 'big', image: 'x', envVars: { A: 'x'.repeat(1024 * 1024 + 10) } }));
    assert.equal(res.status, 413);
  });

  test('system - info names the provider, version and arch', async () => {
    const res = await sys('GET', '/system/info');
    assert.equal(res.status, 200);
    const info = res.json();
    assert.equal(info.provider.provider, 'faasq');
    assert.equal(info.provider.orchestration, 'test');
    assert.match(info.version.release, /^\d+\.\d+\.\d+/);
    assert.deepEqual(info.provider.version, info.version);
    assert.ok(typeof info.version.sha === 'string' && info.version.sha !== '', 'OpenFaaS tools treat an empty sha as an error');
    assert.equal(typeof info.version.commit_message, 'string');
    assert.equal(typeof info.arch, 'string');
  });

  test('system - namespaces lists openfaas-fn first plus any in use', async () => {
    assert.deepEqual((await sys('GET', '/system/namespaces')).json(), ['openfaas-fn']);
    assert.equal((await sys('POST', '/system/functions', { service: 'devfn', image: 'x', namespace: 'dev' })).status, 202);
    assert.deepEqual((await sys('GET', '/system/namespaces')).json(), ['openfaas-fn', 'dev']);
    assert.equal((await sys('GET', '/system/functions?namespace=dev')).json()[0].name, 'devfn');
    assert.equal((await sys('GET', '/system/functions?namespace=bad/ns')).status, 400);
  });

  test('system - secrets: create, conflict, list without values, update, delete', async () => {
    assert.equal((await sys('POST', '/system/secrets', { name: 'db-pass', value: 's3cret' })).status, 201);
    assert.equal((await sys('POST', '/system/secrets', { name: 'db-pass', value: 'again' })).status, 409);
    assert.equal((await sys('POST', '/system/secrets', { name: 'raw', rawValue: Buffer.from([0, 1, 2]).toString('base64') })).status, 201);
    assert.deepEqual([...t.provider.secrets.get('openfaas-fn/raw') ?? []], [0, 1, 2]);
    // faas-cli --from-file sends a mangled text `value` beside the exact `rawValue`: rawValue wins.
    const bytes = Buffer.from([0, 1, 0xff, 0x62]);
    assert.equal((await sys('POST', '/system/secrets', { name: 'bin', value: bytes.toString('utf8'), rawValue: bytes.toString('base64') })).status, 201);
    assert.deepEqual([...t.provider.secrets.get('openfaas-fn/bin') ?? []], [...bytes]);

    const list = await sys('GET', '/system/secrets');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json().map((s: { name: string }) => s.name).sort(), ['bin', 'db-pass', 'raw']);
    assert.doesNotMatch(list.text, /s3cret/);
    for (const s of list.json()) assert.deepEqual(Object.keys(s).sort(), ['name', 'namespace']);

    assert.equal((await sys('PUT', '/system/secrets', { name: 'db-pass', value: 'new' })).status, 200);
    assert.equal(t.provider.secrets.get('openfaas-fn/db-pass')?.toString(), 'new');
    assert.equal((await sys('PUT', '/system/secrets', { name: 'nope', value: 'x' })).status, 404);
    assert.equal((await sys('POST', '/system/secrets', { name: 'novalue' })).status, 400);
    assert.equal((await sys('POST', '/system/secrets', { value: 'x' })).status, 400);
    assert.equal((await sys('POST', '/system/secrets', { name: '../etc', value: 'x' })).status, 400);

    // 202 as faas-netes answers: faas-cli's secret remove accepts only 200 or 202.
    assert.equal((await sys('DELETE', '/system/secrets', { name: 'db-pass' })).status, 202);
    assert.equal((await sys('DELETE', '/system/secrets', { name: 'db-pass' })).status, 404);
  });

  test('system - logs come back as NDJSON with tail', async () => {
    for (let i = 1; i <= 3; i++) t.provider.addLog({ name: 'echo', namespace: 'openfaas-fn', instance: 'echo-1', text: `line ${i}` });
    const res = await sys('GET', '/system/logs?name=echo&namespace=openfaas-fn&tail=2');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/x-ndjson');
    const lines = res.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.text), ['line 2', 'line 3']);
    assert.deepEqual(Object.keys(lines[0]).sort(), ['instance', 'name', 'namespace', 'text', 'timestamp']);
  });

  test('system - logs reject bad parameters and unknown functions', async () => {
    assert.equal((await sys('GET', '/system/logs')).status, 422);
    assert.equal((await sys('GET', '/system/logs?name=echo&tail=abc')).status, 422);
    assert.equal((await sys('GET', '/system/logs?name=echo&since=yesterday')).status, 422);
    assert.equal((await sys('GET', '/system/logs?name=ghost')).status, 404);
  });

  test('system - logs with follow stream new lines until the client leaves', async () => {
    const received: string[] = [];
    const req = http.request(`${t.url}/system/logs?name=echo&follow=true&since=${encodeURIComponent(new Date().toISOString())}`, { headers: { authorization: t.auth } });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      req.on('response', resolve);
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.statusCode, 200);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => received.push(...chunk.split('\n').filter(Boolean)));
    t.provider.addLog({ name: 'echo', namespace: 'openfaas-fn', instance: 'echo-1', text: 'live 1' });
    t.provider.addLog({ name: 'other', namespace: 'openfaas-fn', instance: 'other-1', text: 'not mine' });
    t.provider.addLog({ name: 'echo', namespace: 'openfaas-fn', instance: 'echo-1', text: 'live 2' });
    await waitFor(() => received.length >= 2, { message: 'two followed lines' });
    assert.deepEqual(received.map((l) => JSON.parse(l).text), ['live 1', 'live 2']);
    req.destroy();
  });

  test('system - unknown routes are 404', async () => {
    assert.equal((await sys('GET', '/system/nothing')).status, 404);
    assert.equal((await sys('GET', '/nowhere', undefined, null)).status, 404);
  });
});
