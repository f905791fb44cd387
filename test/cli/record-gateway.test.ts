// Which URLs `faasq up` records its credentials under: the ones a client on this machine uses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localGatewayUrls } from '../../src/cli/record-gateway.js';

test('record gateway - loopback and wildcard binds are recorded as 127.0.0.1 and localhost; other hosts as they are', () => {
  assert.deepEqual(localGatewayUrls('127.0.0.1', 8080), ['http://127.0.0.1:8080', 'http://localhost:8080']);
  assert.deepEqual(localGatewayUrls('0.0.0.0', 8081), ['http://127.0.0.1:8081', 'http://localhost:8081']);
  assert.deepEqual(localGatewayUrls('::', 8082), ['http://127.0.0.1:8082', 'http://localhost:8082']);
  assert.deepEqual(localGatewayUrls('::1', 8083), ['http://[::1]:8083']);
  assert.deepEqual(localGatewayUrls('10.0.0.5', 8084), ['http://10.0.0.5:8084']);
});
