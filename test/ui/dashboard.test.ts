// The dashboard end to end: a real `faasq up` (memory queue, local functions) and Debian's
// chromium driving the page at /ui/ with basic auth. Screenshots land in test-results/ui/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { runRole, type RunningRole } from '../../src/app/index.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';
import { toolSkipReason } from '../support/tools.js';
import { openBrowser, type Browser } from './support/browser.js';
import { SLOW_MS, writeUiStack } from './support/ui-stack.js';

const USER = 'admin';
const PASSWORD = 'pw';
const QUEUE = 'faas-request';
const QUEUED_CALLS = 20;

describe('ui dashboard (real faasq)', { skip: toolSkipReason('chromium') }, () => {
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  let faasq: RunningRole | undefined;
  let browser: Browser | undefined;
  let base = '';
  let healFile = '';
  let slowCallId = '';

  const page = () => browser!.page;
  /** The lookup panel once it shows this call (not the previous one). */
  const lookupOf = (callId: string) => page().locator(`[data-testid="lookup-out"][data-call-id="${callId}"]`);

  async function enqueue(fn: string, body: string): Promise<string> {
    const res = await fetch(`${base}/async-function/${fn}`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    await res.arrayBuffer();
    assert.equal(res.status, 202, `enqueue ${fn}`);
    const callId = res.headers.get('x-call-id');
    assert.ok(callId);
    return callId;
  }

  before(async () => {
    temp = await makeTempDir('faasq-ui-');
    const stack = await writeUiStack(temp.dir);
    healFile = stack.healFile;
    const config = loadConfig({
      env: {},
      flags: {
        port: 0, dataDir: path.join(temp.dir, 'data'), stackFile: stack.stackFile, 'queue.url': 'memory', 'log.level': 'silent',
        'auth.user': USER, 'auth.password': PASSWORD,
        // Two at a time, so twenty slow calls take a few seconds to drain: long enough to watch.
        'worker.maxInflight': 2,
      },
    });
    faasq = await runRole('up', config, { handleSignals: false });
    base = `http://127.0.0.1:${faasq.port}`;
    browser = await openBrowser({ username: USER, password: PASSWORD });
    await page().goto(`${base}/ui/`);
  });

  after(async () => {
    await browser?.close();
    await faasq?.close();
    await temp?.cleanup();
  });

  test('ui - the page loads behind basic auth and lists the functions', async () => {
    const anonymous = await fetch(`${base}/ui/`);
    await anonymous.arrayBuffer();
    assert.equal(anonymous.status, 401, 'the dashboard needs credentials');
    for (const name of ['echo', 'slow', 'failing']) {
      await page().getByTestId(`function-row-${name}`).getByTestId('function-status').getByText('Ready', { exact: true }).waitFor();
    }
    assert.equal(await page().getByTestId('function-row-echo').getByTestId('function-replicas').textContent(), '1 / 1');
    assert.equal(await page().getByTestId('connection').getAttribute('data-state'), 'ok');
    await browser!.screenshot('01-functions');
  });

  test('ui - a sync invocation shows status, call id, duration and body', async () => {
    const p = page();
    await p.getByTestId('invoke-function').selectOption('echo');
    await p.getByTestId('invoke-mode-sync').check();
    await p.getByTestId('invoke-body').fill('hello from the dashboard');
    await p.getByTestId('invoke-submit').click();
    await p.getByTestId('invoke-status').getByText('200').waitFor();
    assert.equal(await p.getByTestId('invoke-body-out').textContent(), 'hello from the dashboard');
    assert.match((await p.getByTestId('invoke-call-id').textContent()) ?? '', /^[\w.:-]{8,}$/);
    assert.match((await p.getByTestId('invoke-duration').textContent()) ?? '', /^\d+(\.\d+)?$/);
    // The functions table follows the invocation count.
    await waitFor(async () => Number(await p.getByTestId('function-row-echo').getByTestId('function-invocations').textContent()) >= 1, { timeoutMs: 8000, message: 'echo invocation count' });
    await browser!.screenshot('02-sync-invoke');
  });

  test('ui - an async invocation is accepted and the lookup follows it to its result', async () => {
    const p = page();
    await p.getByTestId('invoke-function').selectOption('echo');
    await p.getByTestId('invoke-mode-async').check();
    await p.getByTestId('invoke-priority').fill('5');
    await p.getByTestId('invoke-body').fill('queued hello');
    await p.getByTestId('invoke-submit').click();
    await p.getByTestId('invoke-status').getByText('202').waitFor();
    const callId = (await p.getByTestId('invoke-call-id').textContent()) ?? '';
    assert.match(await p.getByTestId('invoke-location').textContent() ?? '', new RegExp(`/async-function/${callId}$`));
    await p.getByTestId('invoke-lookup').click();
    assert.equal(await p.getByTestId('lookup-id').inputValue(), callId);
    await lookupOf(callId).getByTestId('call-state').getByText('succeeded').waitFor({ timeout: 15_000 });
    assert.equal(await p.getByTestId('call-result-body').textContent(), 'queued hello');
    const record = JSON.parse((await p.getByTestId('call-record').textContent()) ?? '{}') as { callId?: string; priority?: number };
    assert.equal(record.callId, callId);
    assert.equal(record.priority, 5);
    await browser!.screenshot('03-async-lookup');
  });

  test('ui - a queue of slow calls drains while the dashboard watches', async () => {
    const p = page();
    const ids = [];
    for (let i = 0; i < QUEUED_CALLS; i++) ids.push(await enqueue('slow', `call ${i}`));
    slowCallId = ids[ids.length - 1];
    const row = p.getByTestId(`queue-row-${QUEUE}`);
    const depth = async () => Number(await row.getAttribute('data-depth'));
    const seen = await waitFor(async () => { const d = await depth(); return d > 0 ? d : 0; }, { timeoutMs: 10_000, intervalMs: 100, message: 'the dashboard shows queued calls' });
    assert.ok(seen > 0 && seen <= QUEUED_CALLS, `depth ${seen}`);
    await browser!.screenshot('04-queue-draining');
    // Twenty calls, two at a time, SLOW_MS each: a few seconds; generous for a busy machine.
    await waitFor(async () => (await depth()) === 0 && (await row.getByTestId('queue-depth').textContent()) === '0', { timeoutMs: 60_000, intervalMs: 200, message: 'the queue drains to 0' });
    const points = Number(await p.getByTestId(`chart-pending-${QUEUE}`).getAttribute('data-points'));
    assert.ok(points >= 3, `the pending chart has a history (${points} points)`);
    // /system/queues carries the server's own ingestion and processing rates, which the page prefers.
    await waitFor(async () => (await p.getByTestId('rate-source').getAttribute('data-source')) === 'server', { timeoutMs: 5000, message: 'rates from /system/queues' });
    await browser!.screenshot('05-queue-drained');
  });

  test('ui - a dead letter is listed and replayed from the dashboard', async () => {
    const p = page();
    const callId = await enqueue('failing', 'try again');
    const row = p.getByTestId(`dl-row-${callId}`);
    await row.waitFor({ timeout: 20_000 });
    assert.match((await row.textContent()) ?? '', /500/);
    await browser!.screenshot('06-dead-letter');
    await writeFile(healFile, 'ok');
    await p.getByTestId(`dl-replay-${callId}`).click();
    await p.getByTestId('dl-message').getByText(`Replayed 1 call from ${QUEUE}.`).waitFor();
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    // The replayed call ran again and, healed, succeeded.
    await p.getByTestId('lookup-id').fill(callId);
    await p.getByTestId('lookup-submit').click();
    await lookupOf(callId).getByTestId('call-state').getByText('succeeded').waitFor({ timeout: 20_000 });
    assert.equal(await p.getByTestId('call-result-body').textContent(), 'healed: try again');
    await browser!.screenshot('07-replayed');
  });

  test('ui - "replay all" replays every dead letter of a queue', async () => {
    const p = page();
    await rm(healFile, { force: true });
    const ids = [await enqueue('failing', 'first'), await enqueue('failing', 'second')];
    for (const id of ids) await p.getByTestId(`dl-row-${id}`).waitFor({ timeout: 20_000 });
    await writeFile(healFile, 'ok');
    await p.getByTestId(`dl-replay-all-${QUEUE}`).click();
    await p.getByTestId('dl-message').getByText(`Replayed 2 calls from ${QUEUE}.`).waitFor();
    for (const id of ids) {
      await waitFor(async () => {
        const res = await fetch(`${base}/async-function/${id}`);
        return ((await res.json()) as { state?: string }).state === 'succeeded';
      }, { timeoutMs: 20_000, intervalMs: 100, message: `replayed call ${id} succeeds` });
    }
    await p.getByTestId(`dl-queue-${QUEUE}`).getByText('No dead letters.').waitFor({ timeout: 10_000 });
  });

  test('ui - a call is looked up by id, and an unknown id says so', async () => {
    const p = page();
    await p.getByTestId('lookup-id').fill(slowCallId);
    await p.getByTestId('lookup-submit').click();
    await lookupOf(slowCallId).getByTestId('call-state').getByText('succeeded').waitFor();
    assert.equal(await p.getByTestId('call-result-body').textContent(), `slept ${SLOW_MS}`);
    assert.match((await p.getByTestId('call-result-status').textContent()) ?? '', /Status 200/);
    await browser!.screenshot('08-lookup');
    await p.getByTestId('lookup-id').fill('no-such-call-id');
    await p.getByTestId('lookup-submit').click();
    await p.getByTestId('lookup-message').getByText('No call with id no-such-call-id').waitFor();
    assert.equal(await p.getByTestId('lookup-out').isHidden(), true);
    assert.deepEqual(browser!.errors, [], 'no script errors on the page');
  });

  test('ui - the dashboard is served under its CSP, and a page on another site cannot deploy with the browser\'s credentials', async () => {
    const auth = { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` };
    const ui = await fetch(`${base}/ui/`, { headers: auth });
    await ui.arrayBuffer();
    assert.match(ui.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(ui.headers.get('x-frame-options'), 'DENY');
    // The attacker's page: another origin (localhost is another site than 127.0.0.1) whose form
    // posts a FunctionDeployment as text/plain to the gateway; the browser answers the gateway's
    // basic-auth challenge with the credentials it holds, as it would for a logged-in user.
    // text/plain forms send name=value: the "=" lands inside a throw-away field, the rest is valid JSON.
    const deployment = JSON.stringify({ service: 'planted', image: 'x', envProcess: 'cat', labels: { pad: '' } });
    const evil = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form id="f" method="POST" enctype="text/plain" action="${base}/system/functions"><input name='${deployment.slice(0, -3)}' value='"}}'></form><script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const evilPage = await browser!.context.newPage();
    try {
      const answered = evilPage.waitForResponse((r) => r.url() === `${base}/system/functions` && r.status() !== 401);
      await evilPage.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
      assert.equal((await answered).status(), 403, 'the cross-site form post is refused');
    } finally {
      await evilPage.close();
      await new Promise<void>((resolve) => evil.close(() => resolve()));
    }
    const list = (await (await fetch(`${base}/system/functions`, { headers: auth })).json()) as { name: string }[];
    assert.ok(!list.some((f) => f.name === 'planted'), 'nothing was deployed');
  });
});
