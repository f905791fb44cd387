// The one table of faasq error codes: each code's HTTP status and whether a caller may retry.
// Every component throws FaasqError with a code from here; the gateway turns them into replies
// in one place (gateway/reply.ts), the CLI into exit codes.

export const ERRORS = {
  // input
  E_BAD_REQUEST: { status: 400, isRetryable: false },
  E_INVALID_FUNCTION_NAME: { status: 400, isRetryable: false },
  E_INVALID_JSON: { status: 400, isRetryable: false },
  E_MISSING_FIELD: { status: 400, isRetryable: false },
  E_INVALID_FIELD: { status: 400, isRetryable: false },
  E_INVALID_HEADER: { status: 400, isRetryable: false },
  // a function path whose `..` (plain, %2e-encoded or behind an encoded slash) would climb above the function's root
  E_INVALID_PATH: { status: 400, isRetryable: false },
  E_INVALID_CALLBACK_URL: { status: 400, isRetryable: false },
  E_CALLBACK_URL_DENIED: { status: 400, isRetryable: false },
  E_UNAUTHORIZED: { status: 401, isRetryable: false },
  // a browser request from another site (Origin, Sec-Fetch-Site) to a state-changing admin route
  E_CROSS_SITE: { status: 403, isRetryable: false },
  E_NOT_FOUND: { status: 404, isRetryable: false },
  E_FUNCTION_NOT_FOUND: { status: 404, isRetryable: false },
  E_CALL_NOT_FOUND: { status: 404, isRetryable: false },
  E_RESULT_NOT_READY: { status: 404, isRetryable: true },
  E_SECRET_NOT_FOUND: { status: 404, isRetryable: false },
  E_DEAD_LETTER_NOT_FOUND: { status: 404, isRetryable: false },
  E_METHOD_NOT_ALLOWED: { status: 405, isRetryable: false },
  E_CONFLICT: { status: 409, isRetryable: false },
  E_CALL_FINISHED: { status: 409, isRetryable: false },
  E_BODY_TOO_LARGE: { status: 413, isRetryable: false },
  // a state-changing admin route takes application/json bodies only
  E_UNSUPPORTED_MEDIA_TYPE: { status: 415, isRetryable: false },
  // a Host the gateway does not answer for (loopback bind, FAASQ_ALLOWED_HOSTS): DNS rebinding
  E_MISDIRECTED_REQUEST: { status: 421, isRetryable: false },
  E_HEADERS_TOO_LARGE: { status: 431, isRetryable: false },
  E_UNPROCESSABLE: { status: 422, isRetryable: false },
  // capacity
  E_CONCURRENCY_LIMIT: { status: 429, isRetryable: true },
  E_QUEUE_FULL: { status: 429, isRetryable: true },
  // function side
  E_FUNCTION_ERROR: { status: 500, isRetryable: true },
  E_FUNCTION_UNREACHABLE: { status: 502, isRetryable: true },
  E_FUNCTION_NOT_READY: { status: 503, isRetryable: true },
  E_FUNCTION_TIMEOUT: { status: 504, isRetryable: true },
  E_DEPLOY_FAILED: { status: 400, isRetryable: false },
  // faasq side
  E_QUEUE_UNAVAILABLE: { status: 503, isRetryable: true },
  // the gateway holds FAASQ_MAX_BUFFERED bytes of request bodies in memory already; retry shortly
  E_GATEWAY_BUSY: { status: 503, isRetryable: true },
  // the accept sent the call but no server confirmed it in FAASQ_ACCEPT_TIMEOUT: it may be stored;
  // the reply carries X-Call-Id, and a retry with that id is deduplicated (never runs twice)
  E_ACCEPT_UNCONFIRMED: { status: 504, isRetryable: true },
  E_SHUTTING_DOWN: { status: 503, isRetryable: true },
  E_NOT_IMPLEMENTED: { status: 501, isRetryable: false },
  E_CONFIG: { status: 500, isRetryable: false },
  E_DATA_DIR: { status: 500, isRetryable: false },
  E_STACK_FILE: { status: 400, isRetryable: false },
  // a `lang:` template could not be assembled or installed (docs/porting.md)
  E_TEMPLATE_BUILD: { status: 400, isRetryable: false },
  // a template's install step needs a tool (npm, python3, go, composer) that is not on PATH
  E_TEMPLATE_TOOL_MISSING: { status: 500, isRetryable: false },
  E_INTERNAL: { status: 500, isRetryable: false },
  // function side: a fork-mode function wrote more stdout than FAASQ_MAX_FORK_OUTPUT (it would again)
  E_FUNCTION_OUTPUT_TOO_LARGE: { status: 502, isRetryable: false },
  // function side: the kernel killed the function at its limits.memory (its replica restarts)
  E_FUNCTION_MEMORY_LIMIT: { status: 502, isRetryable: true },
} as const satisfies Record<string, { status: number; isRetryable: boolean }>;

export type ErrorCode = keyof typeof ERRORS;

export class FaasqError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly isRetryable: boolean;
  /** Extra reply headers (e.g. Retry-After) and machine-readable detail. */
  readonly headers: Readonly<Record<string, string>>;
  readonly detail: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string>; detail?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FaasqError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.isRetryable = ERRORS[code].isRetryable;
    this.headers = options.headers ?? {};
    this.detail = options.detail ?? {};
  }
}

export function isFaasqError(err: unknown, code?: ErrorCode): err is FaasqError {
  return err instanceof FaasqError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a FaasqError; unknown errors become E_INTERNAL. */
export function toFaasqError(err: unknown): FaasqError {
  if (err instanceof FaasqError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FaasqError('E_INTERNAL', message, { cause: err });
}
