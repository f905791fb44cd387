// The one table of function annotations (and the labels read like them) that change how faasq
// treats a function: OpenFaaS's own names where they exist, `com.faasq.*` for faasq's additions.
// docs/annotations.md is generated from this table by scripts/gen-docs.ts.

export const ANNOTATIONS = {
  queue: { name: 'com.openfaas.queue', doc: 'Dedicated async queue for the function (default: the shared `faas-request` queue).' },
  retryAttempts: { name: 'com.openfaas.retry.attempts', doc: 'Async attempts before the call is dead-lettered (worker default FAASQ_RETRY_ATTEMPTS).' },
  retryCodes: { name: 'com.openfaas.retry.codes', doc: 'Comma-separated HTTP statuses that are retried (default 408,429,500,502,503,504).' },
  retryMinWait: { name: 'com.openfaas.retry.min_wait', doc: 'First retry delay, a duration such as `10s`.' },
  retryMaxWait: { name: 'com.openfaas.retry.max_wait', doc: 'Retry delay cap, a duration such as `2m`.' },
  scaleMin: { name: 'com.openfaas.scale.min', doc: 'Replicas started at deploy (label or annotation; default 1).' },
  priority: { name: 'com.faasq.priority', doc: 'Default async priority 0-9 when the caller sends no X-Priority.' },
  maxAge: { name: 'com.faasq.max_age', doc: 'Default maximum age of an unstarted async call (a duration) before it is dead-lettered.' },
  concurrency: { name: 'com.faasq.concurrency', doc: 'Sync calls running at once; more wait in a bounded queue (gateway-level queueing).' },
  maxWaiting: { name: 'com.faasq.max_waiting', doc: 'Sync calls that may wait for a slot before 429 (default FAASQ_MAX_WAITING).' },
  maxWait: { name: 'com.faasq.max_wait', doc: 'How long a sync call may wait for a slot before 429 (default FAASQ_MAX_WAIT).' },
  asyncConcurrency: { name: 'com.faasq.async.concurrency', doc: 'Async calls of this function one worker runs at once (default unlimited).' },
  upstream: { name: 'com.faasq.upstream', doc: 'An http(s) URL: the function is forwarded there instead of run as a process.' },
  workdir: { name: 'com.faasq.workdir', doc: 'Absolute folder the function process runs in; `faasq deploy -f` sets it to the stack file\'s folder.' },
} as const satisfies Record<string, { name: string; doc: string }>;
