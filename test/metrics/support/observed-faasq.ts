// A real `runRole('up')` for the observability tests: upstream functions served by a scripted HTTP
// server in this process (ok, flaky, down, bad, slow), a callback receiver on the same server, and
// every log line captured from a pino logger writing to a stream. close() stops all of it.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../../src/config/index.js';
import { runRole, type RunningRole } from '../../../src/app/index.js';
import type { CallRecord } from '../../../src/queue/index.js';
import { createLogger, type LogFormat } from '../../../src/shared/logger.js';
import { makeTempDir } from '../../support/temp-dir.js';
import { waitFor } from '../../support/wait-for.js';

export const USER = 'admin';
export const PASSWORD = 'faasq-password-never-logged-7f3a';
export const ADMIN_AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
export const FUNCTIONS = ['ok', 'flaky', 'down', 'bad', 'slow'] as const;

export interface ReceivedHook {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface ObservedFaasq {
  readonly url: string;
  /** Basic-auth header value for /system/* routes. */
  readonly authorization: string;
  readonly dataDir: string;
  /** Raw log output, one entry per line. */
  readonly lines: string[];
  /** Callbacks received: POST /hook/ok answers 200, /hook/fail 500. */
  readonly hooks: ReceivedHook[];
  readonly hookUrl: string;
  /** Parsed JSON log lines (JSON format only). */
  json(): Array<Record<string, unknown>>;
  scrape(): Promise<string>;
  submit(fn: string, options?: { body?: string; headers?: Record<string, string> }): Promise<string>;
  record(callId: string): Promise<CallRecord>;
  waitForState(callId: string, states: CallRecord['state'][], timeoutMs?: number): Promise<CallRecord>;
  close(): Promise<void>;
}

export interface ObservedOptions {
  readonly queueUrl?: string;
  readonly logFormat?: LogFormat;
  readonly logLevel?: string;
  readonly flags?: Record<string, string | number | boolean>;
}

export async function startObservedFaasq(options: ObservedOptions = {}): Promise<ObservedFaasq> {
  const tmp = await makeTempDir('faasq-obs-');
  const fns = await startScriptedServer();
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.trim() !== ''));
      done();
    },
  });
  const functions = FUNCTIONS.map((name) => `  ${name}:
    image: faasq/${name}:test
    annotations:
      com.faasq.upstream: ${fns.url}/fn/${name}
${name === 'down' ? '      com.openfaas.retry.attempts: "2"\n' : ''}`).join('');
  const stackFile = path.join(tmp.dir, 'stack.yml');
  await writeFile(stackFile, `version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n${functions}`);
  const config = loadConfig({
    env: {},
    flags: {
      port: 0, dataDir: tmp.dir, stackFile, 'queue.url': options.queueUrl ?? 'memory',
      'auth.user': USER, 'auth.password': PASSWORD,
      'queue.leaseMs': '3s',
      'worker.retry.attempts': 3, 'worker.retry.minWaitMs': '20ms', 'worker.retry.maxWaitMs': '100ms',
      'worker.callback.attempts': 2, 'worker.callback.minWaitMs': '20ms', 'worker.callback.maxWaitMs': '50ms',
      'worker.callback.timeoutMs': '2s', 'worker.callback.secret': 'callback-hmac-secret-never-logged',
      'worker.shutdownGraceMs': '2s', 'gateway.shutdownGraceMs': '2s',
      ...options.flags,
    },
  });
  let running: RunningRole;
  try {
    const logger = createLogger({ level: options.logLevel ?? 'info', format: options.logFormat ?? 'json', destination: sink });
    running = await runRole('up', config, { handleSignals: false, logger });
  } catch (err) {
    await fns.close();
    await tmp.cleanup();
    throw err;
  }
  const url = `http://127.0.0.1:${running.port}`;
  const record = async (callId: string): Promise<CallRecord> => {
    const res = await fetch(`${url}/async-function/${callId}`);
    if (res.status !== 200) throw new Error(`GET record ${callId}: ${res.status} ${await res.text()}`);
    return (await res.json()) as CallRecord;
  };

  return {
    url,
    authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
    dataDir: tmp.dir,
    lines,
    hooks: fns.hooks,
    hookUrl: `${fns.url}/hook`,
    json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    async scrape() {
      const res = await fetch(`${url}/metrics`);
      if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
      return res.text();
    },
    async submit(fn, opts = {}) {
      const res = await fetch(`${url}/async-function/${fn}`, { method: 'POST', body: opts.body ?? '', headers: opts.headers });
      const text = await res.text();
      if (res.status !== 202) throw new Error(`submit ${fn}: ${res.status} ${text}`);
      return res.headers.get('x-call-id')!;
    },
    record,
    waitForState(callId, states, timeoutMs = 10_000) {
      return waitFor(async () => {
        const r = await record(callId);
        return states.includes(r.state) ? r : undefined;
      }, { timeoutMs, message: `call ${callId} in ${states.join('|')}` });
    },
    async close() {
      await running.close();
      await fns.close();
      await tmp.cleanup();
    },
  };
}

interface ScriptedServer {
  readonly url: string;
  readonly hooks: ReceivedHook[];
  close(): Promise<void>;
}

/**
 * /fn/ok echoes the body (200), /fn/flaky answers 503 to the first attempt of each call id then
 * 200, /fn/down 500, /fn/bad 400, /fn/slow holds the request until the client goes away (or 10 s).
 */
async function startScriptedServer(): Promise<ScriptedServer> {
  const hooks: ReceivedHook[] = [];
  const flakySeen = new Set<string>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '/';
      if (url.startsWith('/hook')) {
        hooks.push({ path: url, headers: req.headers, body: body.toString('utf8') });
        res.statusCode = url.startsWith('/hook/fail') ? 500 : 200;
        res.end();
        return;
      }
      const fn = url.split('?')[0].split('/')[2];
      const callId = String(req.headers['x-call-id'] ?? '');
      if (fn === 'flaky' && !flakySeen.has(callId)) {
        flakySeen.add(callId);
        res.statusCode = 503;
        res.end('not yet');
        return;
      }
      if (fn === 'slow') {
        const timer = setTimeout(() => { timers.delete(timer); res.end('slow done'); }, 10_000);
        timers.add(timer);
        res.on('close', () => { clearTimeout(timer); timers.delete(timer); });
        return;
      }
      res.statusCode = fn === 'down' ? 500 : fn === 'bad' ? 400 : 200;
      res.setHeader('content-type', 'text/plain');
      res.end(fn === 'ok' || fn === 'flaky' ? body : `${fn} says no`);
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hooks,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
