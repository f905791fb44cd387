// One async test setup: a memory queue, a tiny gateway (node http + find-my-way) with the async
// routes mounted, a scripted function server behind a real Invoker, a callback receiver, and a
// worker started on demand. close() stops everything it started.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Router from 'find-my-way';
import { loadConfig, type Config } from '../../../src/config/index.js';
import type { FunctionSpec, Provider } from '../../../src/provider/index.js';
import { createQueue, type CallRecord, type Queue } from '../../../src/queue/index.js';
import { EventBus, silentLogger } from '../../../src/shared/index.js';
import { createProtect } from '../../../src/gateway/basic-auth.js';
import { registerAsyncRoutes } from '../../../src/gateway/async/index.js';
import { createWorker, type Worker } from '../../../src/worker/index.js';
import { waitFor } from '../../support/wait-for.js';
import { startCallbackReceiver, type CallbackReceiver } from './callback-receiver.js';
import { startFunctionServer, type FunctionServer } from './function-server.js';

export const ADMIN_AUTH = `Basic ${Buffer.from('admin:secret').toString('base64')}`;

/** Short waits so retry tests take milliseconds; tests override what they probe. */
const FAST: Record<string, string | number> = {
  'queue.url': 'memory',
  'queue.leaseMs': '3s',
  'worker.retry.attempts': 3,
  'worker.retry.minWaitMs': '20ms',
  'worker.retry.maxWaitMs': '100ms',
  'worker.callback.attempts': 3,
  'worker.callback.minWaitMs': '20ms',
  'worker.callback.maxWaitMs': '100ms',
  'worker.callback.timeoutMs': '1s',
  'worker.shutdownGraceMs': '2s',
  'worker.maxInflight': 10,
  // Short, so tests that wait for state running see it early; test/async/running-record.test.ts sets its own.
  'worker.runningRecordDelayMs': '10ms',
};

export interface Harness {
  readonly config: Config;
  readonly url: string;
  readonly queue: Queue;
  readonly events: EventBus;
  readonly fns: FunctionServer;
  readonly hooks: CallbackReceiver;
  setAccepting(value: boolean): void;
  deploy(name: string, annotations?: Record<string, string>): void;
  startWorker(): Promise<Worker>;
  /** POST /async-function/<fn><path> with headers; returns the raw fetch response. */
  submit(fn: string, options?: { path?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Response>;
  waitForState(callId: string, states: CallRecord['state'][], timeoutMs?: number): Promise<CallRecord>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** A real provider: its specs and invoker replace the scripted function server's. */
  readonly provider?: (config: Config) => Provider;
  readonly dataDir?: string;
}

export async function startHarness(flags: Record<string, string | number> = {}, options: HarnessOptions = {}): Promise<Harness> {
  const config = loadConfig({ env: {}, flags: { dataDir: options.dataDir ?? '/tmp/faasq-async-unused', ...FAST, ...flags } });
  const provider = options.provider?.(config);
  await provider?.start();
  const logger = silentLogger();
  const events = new EventBus();
  const queue = createQueue({ config, logger });
  await queue.start();
  const specs = new Map<string, FunctionSpec>();
  const fns = await startFunctionServer();
  const hooks = await startCallbackReceiver();
  let isAccepting = true;
  const router = Router({ defaultRoute: (_req, res) => { res.statusCode = 404; res.end(); } });
  const protect = createProtect({ user: 'admin', password: 'secret' });
  registerAsyncRoutes(router, {
    config, queue, events, logger, protect,
    provider: { getSpec: (name, ns) => provider ? provider.getSpec(name, ns) : specs.get(`${name}.${ns}`) },
    isAccepting: () => isAccepting,
  });
  const server = http.createServer((req, res) => router.lookup(req, res));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const workers: Worker[] = [];

  return {
    config, url, queue, events, fns, hooks,
    setAccepting: (value) => { isAccepting = value; },
    deploy(name, annotations = {}) {
      specs.set(`${name}.openfaas-fn`, {
        name, namespace: 'openfaas-fn', image: '', fprocess: '', environment: {}, labels: {}, annotations, secrets: [], constraints: [],
      });
    },
    async startWorker() {
      const worker = createWorker({
        config, queue, events, logger, invoker: provider ?? fns.invoker,
        getSpec: (name, ns) => provider ? provider.getSpec(name, ns) : specs.get(`${name}.${ns}`),
        rescanIntervalMs: 100,
      });
      workers.push(worker);
      await worker.start();
      return worker;
    },
    submit(fn, options = {}) {
      return fetch(`${url}/async-function/${fn}${options.path ?? ''}`, { method: 'POST', headers: options.headers, body: options.body ?? '' });
    },
    async waitForState(callId, states, timeoutMs = 5000) {
      let last: CallRecord | undefined;
      try {
        return await waitFor(async () => {
          last = await queue.getRecord(callId);
          return last && states.includes(last.state) ? last : undefined;
        }, { timeoutMs, message: `call ${callId} in ${states.join('|')}` });
      } catch (err) {
        throw new Error(`${(err as Error).message}; last record: ${JSON.stringify(last)}`);
      }
    },
    async close() {
      for (const w of workers) await w.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fns.close();
      await hooks.close();
      await queue.close();
      await provider?.close();
    },
  };
}
