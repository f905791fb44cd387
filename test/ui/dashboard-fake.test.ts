// The dashboard in a real browser against a scripted API (test/ui/support/fake-gateway.ts): exact
// data the real gateway rarely produces on cue — hostile text, a not-ready function, an API
// failure, a queue whose depth moves — and the requests the page sends back.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGateway, type FakeGateway } from './support/fake-gateway.js';
import { toolSkipReason } from '../support/tools.js';
import { openBrowser, type Browser } from './support/browser.js';
import { waitFor } from '../support/wait-for.js';

const USER = 'admin';
const PASSWORD = 'pw';
const HOSTILE = '<img src=x onerror="window.__pwned=1">';

describe('ui dashboard (scripted API)', { skip: toolSkipReason('chromium') }, () => {
  let gateway: FakeGateway;
  let browser: Browser;

  before(async () => {
    gateway = await startFakeGateway({
      user: USER,
      password: PASSWORD,
      state: {
        functions: [
          { name: 'echo', namespace: 'openfaas-fn', image: 'echo:1', replicas: 1, availableReplicas: 1, invocationCount: 7, annotations: {} },
          { name: 'stuck', namespace: 'openfaas-fn', image: '', envProcess: 'node stuck.mjs', replicas: 2, availableReplicas: 0, invocationCount: 0, annotations: { 'com.openfaas.queue': 'slow-q' } },
          { name: 'tools', namespace: 'team-a', image: 'tools:2', replicas: 1, availableReplicas: 1, invocationCount: 0, annotations: {} },
        ],
        queues: [
          { name: 'faas-request', depth: 30, depthByPriority: { 0: 25, 5: 5 }, delayed: 0, inflight: 2, oldestAgeMs: 4200, deadLetters: 2 },
        ],
        deadLetters: new Map([['faas-request', [
          { callId: 'dl-1', queue: 'faas-request', function: 'stuck', namespace: 'openfaas-fn', deadAt: new Date().toISOString(), attempts: 3, lastStatus: 500, lastError: HOSTILE },
          { callId: 'dl-2', queue: 'faas-request', function: 'stuck', namespace: 'openfaas-fn', deadAt: new Date().toISOString(), attempts: 3, lastStatus: 502, lastError: 'bad gateway' },
        ]]]),
      },
    });
    browser = await openBrowser({ username: USER, password: PASSWORD });
    await browser.page.goto(`${gateway.url}/ui/`);
  });

  after(async () => {
    await browser?.close();
    await gateway?.close();
  });

  test('ui - functions show readiness, replicas and namespaced names', async () => {
    const { page } = browser;
    const stuck = page.getByTestId('function-row-stuck');
    await stuck.getByTestId('function-status').getByText('Not ready').waitFor();
    assert.equal(await stuck.getByTestId('function-replicas').textContent(), '0 / 2');
    assert.equal(await page.getByTestId('function-row-echo').getByTestId('function-status').textContent(), 'Ready');
    assert.equal(await page.getByTestId('function-row-echo').getByTestId('function-invocations').textContent(), '7');
    await page.getByTestId('function-row-tools.team-a').waitFor();
    const options = await page.getByTestId('invoke-function').locator('option').allTextContents();
    assert.deepEqual(options, ['echo', 'stuck', 'tools.team-a']);
  });

  test('ui - async invoke sends the callback and priority headers', async () => {
    const { page } = browser;
    await page.getByTestId('invoke-function').selectOption('echo');
    await page.getByTestId('invoke-mode-async').check();
    await page.getByTestId('invoke-callback').fill('http://127.0.0.1:9/cb');
    await page.getByTestId('invoke-priority').fill('7');
    await page.getByTestId('invoke-body').fill('queued');
    await page.getByTestId('invoke-submit').click();
    await page.getByTestId('invoke-status').getByText('202').waitFor();
    const callId = (await page.getByTestId('invoke-call-id').textContent()) ?? '';
    const call = gateway.state.calls.get(callId);
    assert.ok(call, `the fake saw call ${callId}`);
    const headers = call.record.headers as Record<string, string>;
    assert.equal(headers['x-callback-url'], 'http://127.0.0.1:9/cb');
    assert.equal(headers['x-priority'], '7');
    // The lookup follows the call until it is final.
    await page.getByTestId('invoke-lookup').click();
    await page.locator(`[data-testid="lookup-out"][data-call-id="${callId}"]`).getByTestId('call-state').getByText('queued').waitFor();
    call.record = { ...call.record, state: 'succeeded', attempts: 1, hasResult: true };
    call.result = { status: 201, body: 'made it' };
    await page.getByTestId('call-state').getByText('succeeded').waitFor({ timeout: 5000 });
    await page.getByTestId('call-result-body').getByText('made it').waitFor();
    assert.match((await page.getByTestId('call-result-status').textContent()) ?? '', /Status 201/);
  });

  test('ui - dead letters render hostile text as text and replay one, then all', async () => {
    const { page } = browser;
    const row = page.getByTestId('dl-row-dl-1');
    await row.waitFor();
    assert.ok((await row.textContent())?.includes(HOSTILE), 'the error text is shown literally');
    assert.equal(await page.evaluate('window.__pwned'), undefined);
    await page.getByTestId('dl-replay-dl-1').click();
    await page.getByTestId('dl-message').getByText('Replayed 1 call from faas-request.').waitFor();
    assert.deepEqual(gateway.state.replayBodies.at(-1), { callIds: ['dl-1'] });
    await row.waitFor({ state: 'detached' });
    await page.getByTestId('dl-replay-all-faas-request').click();
    await page.getByTestId('dl-message').getByText('Replayed 1 call from faas-request.').waitFor();
    assert.deepEqual(gateway.state.replayBodies.at(-1), {});
    await page.getByTestId('dl-queue-faas-request').getByText('No dead letters.').waitFor();
  });

  test('ui - queue rates fall back to depth changes and say so', async () => {
    const { page } = browser;
    const q = gateway.state.queues[0];
    q.depth = 6;
    await waitFor(async () => (await page.getByTestId('queue-row-faas-request').getByTestId('queue-depth').textContent()) === '6', { timeoutMs: 5000 });
    assert.equal(await page.getByTestId('rate-source').getAttribute('data-source'), 'depth');
    await waitFor(async () => Number(await page.getByTestId('chart-pending-faas-request').getAttribute('data-points')) >= 3, { timeoutMs: 8000 });
    await browser.screenshot('fake-dashboard');
    await page.setViewportSize({ width: 420, height: 900 });
    await browser.screenshot('fake-dashboard-narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('ui - an API failure is shown, and clears when the API recovers', async () => {
    const { page } = browser;
    gateway.state.queuesError = 'queue backend exploded';
    const connection = page.getByTestId('connection');
    await waitFor(async () => (await connection.getAttribute('data-state')) === 'error', { timeoutMs: 5000 });
    assert.match((await connection.textContent()) ?? '', /500: queue backend exploded/);
    gateway.state.queuesError = undefined;
    await waitFor(async () => (await connection.getAttribute('data-state')) === 'ok', { timeoutMs: 5000 });
    assert.deepEqual(browser.errors, []);
  });
});
