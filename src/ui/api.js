// The dashboard's one door to the faasq HTTP API. Same-origin fetch, so the browser sends the
// basic-auth credentials it already holds for the page; paths resolve against the page's parent,
// so the dashboard also works when the gateway sits under a path prefix.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** `name` or `name.namespace` as the gateway routes expect; the default namespace is left out. */
export function functionRef(fn) {
  return fn.namespace && fn.namespace !== 'openfaas-fn' ? `${fn.name}.${fn.namespace}` : fn.name;
}

export function createApi(base = new URL('../', document.baseURI)) {
  const url = (path) => new URL(path.replace(/^\//, ''), base);

  async function request(path, init = {}) {
    const res = await fetch(url(path), { credentials: 'same-origin', cache: 'no-store', ...init });
    return res;
  }

  async function json(path, init) {
    const res = await request(path, { ...init, headers: { accept: 'application/json', ...(init?.headers ?? {}) } });
    const text = await res.text();
    if (!res.ok) throw new ApiError(res.status, errorText(res.status, text));
    return text === '' ? null : JSON.parse(text);
  }

  return {
    listFunctions: () => json('system/functions'),
    listQueues: () => json('system/queues'),
    listDeadLetters: (queue) => json(`system/queues/${encodeURIComponent(queue)}/dead-letters`),
    /** callIds omitted: every dead letter of the queue. */
    replayDeadLetters: (queue, callIds) =>
      json(`system/queues/${encodeURIComponent(queue)}/dead-letters/replay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(callIds ? { callIds } : {}),
      }),
    getCall: (callId) => json(`async-function/${encodeURIComponent(callId)}`),

    /** The stored response of a finished call; `null` while it has none (404). */
    async getResult(callId) {
      const res = await request(`async-function/${encodeURIComponent(callId)}/result`);
      const body = await res.text();
      if (res.status === 404 && res.headers.get('x-function-status') === null) return null;
      return { status: res.status, contentType: res.headers.get('content-type') ?? '', body };
    },

    /** Prometheus text, or null when the gateway serves no /metrics. */
    async metricsText() {
      const res = await request('metrics');
      return res.ok ? res.text() : null;
    },

    /**
     * Sync or async invocation. Answers whatever the function (or the gateway) said: the status
     * is data here, not an error.
     */
    async invoke({ fn, method, path, contentType, body, isAsync, callbackUrl, priority }) {
      const suffix = normalisePath(path);
      const route = `${isAsync ? 'async-function' : 'function'}/${fn}${suffix}`;
      const headers = {};
      if (contentType) headers['content-type'] = contentType;
      if (isAsync && callbackUrl) headers['x-callback-url'] = callbackUrl;
      if (isAsync && priority !== '' && priority !== undefined && priority !== null) headers['x-priority'] = String(priority);
      const hasBody = !['GET', 'HEAD'].includes(method);
      const started = performance.now();
      const res = await request(route, { method, headers, body: hasBody ? body : undefined });
      const text = await res.text();
      return {
        status: res.status,
        statusText: res.statusText,
        callId: res.headers.get('x-call-id') ?? '',
        durationSeconds: res.headers.get('x-duration-seconds') ?? '',
        location: res.headers.get('location') ?? '',
        elapsedMs: performance.now() - started,
        body: text,
      };
    },
  };
}

function normalisePath(path) {
  const p = (path ?? '').trim();
  if (p === '' || p === '/') return '';
  return p.startsWith('/') || p.startsWith('?') ? p : `/${p}`;
}

function errorText(status, text) {
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed.message === 'string') return `${status}: ${parsed.message}`;
  } catch {
    // not JSON: use the text as it is
  }
  return `${status}: ${text.trim().slice(0, 200) || 'request failed'}`;
}
