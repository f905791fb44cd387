// A small in-memory Provider for gateway tests: specs, secrets and logs in maps, invoke() over a
// real HTTP connection to a function server. Stands in until the local provider is wired in.
import { EventEmitter, on } from 'node:events';
import http from 'node:http';
import type { FunctionSpec, FunctionStatus, InvocationRequest, InvocationResponse, LogEntry, LogQuery, Provider, SecretInput } from '../../../src/provider/provider.js';
import { FaasqError } from '../../../src/shared/errors.js';
import { forwardableHeaders } from '../../../src/shared/http.js';
import { specToStatus } from '../../../src/provider/index.js';
import { streamViaInvoke } from '../../../src/provider/index.js';
import type { DirectRoute, ResponseSink } from '../../../src/provider/index.js';

/** Annotation naming the base URL the test provider forwards a function's calls to. */
export const URL_ANNOTATION = 'test.url';

interface Entry {
  spec: FunctionSpec;
  replicas: number;
  createdAt: Date;
}

export interface TestProvider extends Provider {
  /** Adds a function forwarding to `url` (omit for one that cannot be reached). */
  add(name: string, url: string | undefined, annotations?: Record<string, string>, namespace?: string): FunctionSpec;
  addLog(entry: Omit<LogEntry, 'timestamp'> & { timestamp?: string }): void;
  readonly secrets: Map<string, Buffer>;
}

export function createTestProvider(): TestProvider {
  const functions = new Map<string, Entry>();
  const secrets = new Map<string, Buffer>();
  const logs: LogEntry[] = [];
  const logEvents = new EventEmitter();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const key = (name: string, namespace: string): string => `${namespace}/${name}`;
  const entryOf = (name: string, namespace: string): Entry => {
    const e = functions.get(key(name, namespace));
    if (!e) throw new FaasqError('E_FUNCTION_NOT_FOUND', `function ${name}.${namespace} not found`);
    return e;
  };
  const status = (e: Entry): FunctionStatus => specToStatus(e.spec, e.replicas, e.replicas, e.createdAt, 0);

  return {
    name: 'test',
    orchestration: 'test',
    secrets,
    async start() {},
    async close() {
      agent.destroy();
    },
    add(name, url, annotations = {}, namespace = 'openfaas-fn') {
      const spec: FunctionSpec = {
        name, namespace, image: '', fprocess: '', environment: {}, labels: {},
        annotations: url ? { ...annotations, [URL_ANNOTATION]: url } : annotations,
        secrets: [], constraints: [],
      };
      functions.set(key(name, namespace), { spec, replicas: 1, createdAt: new Date() });
      return spec;
    },
    addLog(entry) {
      const full = { ...entry, timestamp: entry.timestamp ?? new Date().toISOString() };
      logs.push(full);
      logEvents.emit('line', full);
    },
    async deploy(spec, options = {}) {
      if (functions.has(key(spec.name, spec.namespace)) && !options.upsert) throw new FaasqError('E_CONFLICT', `function ${spec.name} exists`);
      functions.set(key(spec.name, spec.namespace), { spec, replicas: 1, createdAt: new Date() });
    },
    async update(spec) {
      const e = entryOf(spec.name, spec.namespace);
      e.spec = spec;
    },
    async remove(name, namespace) {
      entryOf(name, namespace);
      functions.delete(key(name, namespace));
    },
    async scale(name, namespace, replicas) {
      entryOf(name, namespace).replicas = replicas;
    },
    async get(name, namespace) {
      return status(entryOf(name, namespace));
    },
    getSpec(name, namespace) {
      return functions.get(key(name, namespace))?.spec;
    },
    async list(namespace) {
      return [...functions.values()].filter((e) => e.spec.namespace === namespace).map(status);
    },
    async namespaces() {
      return [...new Set([...functions.values()].map((e) => e.spec.namespace))];
    },
    async *logs(query: LogQuery) {
      const matches = (e: LogEntry): boolean => e.name === query.name && e.namespace === query.namespace && (!query.since || Date.parse(e.timestamp) >= query.since.getTime());
      const past = logs.filter(matches);
      yield* query.tail ? past.slice(-query.tail) : past;
      if (!query.follow) return;
      try {
        for await (const [entry] of on(logEvents, 'line', { signal: query.signal })) {
          if (matches(entry as LogEntry)) yield entry as LogEntry;
        }
      } catch (err) {
        if (!query.signal?.aborted) throw err;
      }
    },
    async listSecrets(namespace) {
      return [...secrets.keys()].map((k) => k.split('/')).filter(([ns]) => ns === namespace).map(([ns, name]) => ({ name, namespace: ns }));
    },
    async putSecret(secret: SecretInput, options) {
      const k = key(secret.name, secret.namespace);
      if (options.create && secrets.has(k)) throw new FaasqError('E_CONFLICT', `secret ${secret.name} exists`);
      if (!options.create && !secrets.has(k)) throw new FaasqError('E_SECRET_NOT_FOUND', `secret ${secret.name} not found`);
      secrets.set(k, secret.value);
    },
    async removeSecret(name, namespace) {
      if (!secrets.delete(key(name, namespace))) throw new FaasqError('E_SECRET_NOT_FOUND', `secret ${name} not found`);
    },
    health() {
      return { isReady: true, functions: functions.size, availableReplicas: functions.size };
    },
    // The express lane's way in: the function server's address, as a local http-mode replica offers it.
    route(fn: string, namespace: string): DirectRoute | undefined {
      const e = functions.get(key(fn, namespace));
      const base = e?.spec.annotations[URL_ANNOTATION];
      if (!e || !base || e.replicas === 0) return undefined;
      const url = new URL(base);
      return { host: url.hostname, port: Number(url.port), authority: url.host, pathPrefix: '', execTimeoutMs: 0, release: () => undefined };
    },
    isDirect(fn: string, namespace: string): boolean {
      return Boolean(functions.get(key(fn, namespace))?.spec.annotations[URL_ANNOTATION]);
    },
    stream(fn: string, namespace: string, request: InvocationRequest, sink: ResponseSink): void {
      streamViaInvoke((req) => this.invoke(fn, namespace, req), request, sink);
    },

    invoke(fn: string, namespace: string, request: InvocationRequest): Promise<InvocationResponse> {
      const e = entryOf(fn, namespace);
      const base = e.spec.annotations[URL_ANNOTATION];
      if (!base) return Promise.reject(new FaasqError('E_FUNCTION_NOT_READY', `function ${fn} has no replica`));
      return new Promise<InvocationResponse>((resolve, reject) => {
        // The path goes as given (new URL() would resolve dot segments and re-encode characters).
        const path = request.path + (request.query ? `?${request.query}` : '');
        const req = http.request(base, { path, method: request.method, headers: request.headers, agent }, (res) => {
          resolve({ status: res.statusCode ?? 500, headers: forwardableHeaders(res.headers), body: res });
        });
        // A listener of our own: node's `signal` option on http.request costs ~0.3 ms per call.
        const signal = request.signal;
        if (signal) {
          const onAbort = (): void => {
            req.destroy(signal.reason as Error);
          };
          signal.addEventListener('abort', onAbort, { once: true });
          req.once('close', () => signal.removeEventListener('abort', onAbort));
        }
        req.on('error', (err) => {
          if (request.signal?.aborted) reject(request.signal.reason);
          else reject(new FaasqError('E_FUNCTION_UNREACHABLE', `cannot reach ${fn}: ${err.message}`, { cause: err }));
        });
        const body = request.body;
        if (body === null) req.end();
        else if (Buffer.isBuffer(body)) req.end(body);
        else (body).pipe(req);
      });
    },
  };
}
