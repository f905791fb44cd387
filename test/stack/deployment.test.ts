import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { deploymentToSpec } from '../../src/stack/index.js';
import { specToStatus } from '../../src/provider/index.js';
import { isFaasqError } from '../../src/shared/index.js';

describe('stack deployment', () => {
  test('stack - deploymentToSpec maps a FunctionDeployment body', () => {
    const spec = deploymentToSpec({
      service: 'echo', image: 'img:1', namespace: 'team-a', envProcess: 'cat', envVars: { A: '1' },
      labels: null, annotations: { 'com.openfaas.queue': 'q' }, secrets: ['s'], constraints: ['c'],
      limits: { memory: '128M' }, requests: null, readOnlyRootFilesystem: false, registryAuth: 'ignored',
    });
    assert.deepEqual(spec, {
      name: 'echo', namespace: 'team-a', image: 'img:1', fprocess: 'cat', environment: { A: '1' }, labels: {},
      annotations: { 'com.openfaas.queue': 'q' }, secrets: ['s'], constraints: ['c'], limits: { memory: '128M' }, readOnlyRootFilesystem: false,
    });
    const minimal = deploymentToSpec({ service: 'x' });
    assert.equal(minimal.namespace, 'openfaas-fn');
    assert.equal(minimal.image, '');
  });

  test('stack - deploymentToSpec names the bad field', () => {
    assert.throws(() => deploymentToSpec([]), (err) => isFaasqError(err, 'E_INVALID_JSON'));
    assert.throws(() => deploymentToSpec({}), (err) => isFaasqError(err, 'E_MISSING_FIELD') && /service/.test(err.message));
    assert.throws(() => deploymentToSpec({ service: 'bad name' }), (err) => isFaasqError(err, 'E_INVALID_FUNCTION_NAME'));
    assert.throws(() => deploymentToSpec({ service: 'x', envVars: ['a'] }), (err) => isFaasqError(err, 'E_INVALID_FIELD') && /"envVars"/.test(err.message));
    assert.throws(() => deploymentToSpec({ service: 'x', secrets: 'a' }), (err) => isFaasqError(err, 'E_INVALID_FIELD') && /"secrets"/.test(err.message));
    assert.throws(() => deploymentToSpec({ service: 'x', image: 5 }), (err) => isFaasqError(err, 'E_INVALID_FIELD') && /"image"/.test(err.message));
    assert.throws(() => deploymentToSpec({ service: 'x', namespace: 'a.b' }), (err) => isFaasqError(err, 'E_INVALID_FIELD') && /"namespace"/.test(err.message));
    assert.throws(() => deploymentToSpec({ service: 'x', readOnlyRootFilesystem: 'yes' }), (err) => isFaasqError(err, 'E_INVALID_FIELD') && /"readOnlyRootFilesystem"/.test(err.message));
  });

  test('stack - com.faasq.workdir sets the working folder; a relative one is refused', () => {
    assert.equal(deploymentToSpec({ service: 'x', annotations: { 'com.faasq.workdir': '/srv/fns/x' } }).workingDir, '/srv/fns/x');
    assert.equal(deploymentToSpec({ service: 'x' }).workingDir, undefined);
    assert.throws(() => deploymentToSpec({ service: 'x', annotations: { 'com.faasq.workdir': 'fns/x' } }), (err) => isFaasqError(err, 'E_INVALID_FIELD') && /absolute/.test(err.message));
  });

  test('stack - specToStatus produces a FunctionStatus', () => {
    const spec = deploymentToSpec({ service: 'echo', envProcess: 'cat', envVars: { A: '1' } });
    const status = specToStatus(spec, 2, 1, new Date('2026-01-02T03:04:05Z'), 7);
    assert.equal(status.name, 'echo');
    assert.equal(status.envProcess, 'cat');
    assert.deepEqual(status.envVars, { A: '1' });
    assert.equal(status.replicas, 2);
    assert.equal(status.availableReplicas, 1);
    assert.equal(status.invocationCount, 7);
    assert.equal(status.createdAt, '2026-01-02T03:04:05.000Z');
  });
});
