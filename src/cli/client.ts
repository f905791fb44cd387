// The CLI's one HTTP client for the gateway API: base URL, basic auth on the routes that take it,
// JSON in and out, and the translation of transport failures and HTTP errors into exit codes.
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { CliError, EXIT_AUTH, EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE } from './cli-error.js';

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export interface RequestOptions {
  readonly query?: URLSearchParams | Record<string, string | undefined>;
  readonly headers?: Record<string, string | string[]>;
  /** A value to send as JSON, or raw bytes / a stream. */
  readonly json?: unknown;
  readonly body?: string | Buffer | Readable;
  /** Send basic auth (default: only for /system/* and call-record routes, never to functions). */
  readonly isAuthenticated?: boolean;
  /** For long streams (logs --follow): no body idle timeout. */
  readonly isStreaming?: boolean;
}

export interface GatewayResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Readable & { text(): Promise<string>; json(): Promise<unknown>; arrayBuffer(): Promise<ArrayBuffer>; dump(): Promise<void> };
}

export interface GatewayClient {
  readonly baseUrl: string;
  /** Sends a request; throws CliError(3) only when the gateway cannot be reached. */
  send(method: string, path: string, options?: RequestOptions): Promise<GatewayResponse>;
  /** Sends a request, fails on a non-2xx status, returns the parsed JSON body (undefined when empty). */
  json<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  close(): Promise<void>;
}

export function normaliseGatewayUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(EXIT_USAGE, `invalid gateway URL "${raw}" (expected e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(EXIT_USAGE, `invalid gateway URL "${raw}": use http:// or https://`);
  }
  return url.href.replace(/\/+$/, '');
}

export function createGatewayClient(options: { baseUrl: string; credentials?: Credentials; userAgent: string }): GatewayClient {
  const baseUrl = normaliseGatewayUrl(options.baseUrl);
  const agent = new Agent({ connectTimeout: 10_000 });
  const authHeader = options.credentials
    ? 'Basic ' + Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')
    : undefined;

  const send = async (method: string, path: string, opts: RequestOptions = {}): Promise<GatewayResponse> => {
    const url = new URL(baseUrl + path);
    const query = opts.query instanceof URLSearchParams ? opts.query : new URLSearchParams(definedEntries(opts.query ?? {}));
    for (const [k, v] of query) url.searchParams.append(k, v);
    const headers: Record<string, string | string[]> = { 'user-agent': options.userAgent, ...opts.headers };
    let body = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    }
    const isAuthenticated = opts.isAuthenticated ?? (path.startsWith('/system/') || isCallRecordPath(method, path));
    if (isAuthenticated && authHeader) headers.authorization = authHeader;
    try {
      const res = await request(url, {
        method: method as 'GET',
        headers,
        body,
        dispatcher: agent,
        bodyTimeout: opts.isStreaming ? 0 : undefined,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      const code = (err as { code?: string }).code;
      throw new CliError(EXIT_UNREACHABLE, `cannot reach the gateway at ${baseUrl}: ${code ?? (err as Error).message}`, { cause: err });
    }
  };

  return {
    baseUrl,
    send,
    async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
      const res = await send(method, path, { ...opts, headers: { accept: 'application/json', ...opts.headers } });
      if (res.status < 200 || res.status > 299) throw await errorFromResponse(res);
      const text = await res.body.text();
      if (text.trim() === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new CliError(EXIT_FAILED, `the gateway answered ${method} ${path} with invalid JSON`, { cause: err });
      }
    },
    async close(): Promise<void> {
      await agent.close();
    },
  };
}

/** Turns a non-2xx gateway reply into a CliError: 401/403 are auth failures (exit 4). */
export async function errorFromResponse(res: GatewayResponse): Promise<CliError> {
  const text = (await res.body.text().catch(() => '')).trim();
  let message = text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown; error?: unknown };
    if (typeof parsed.message === 'string') message = parsed.message;
    else if (typeof parsed.error === 'string') message = parsed.error;
  } catch {
    // plain-text error body: use it as it is
  }
  if (res.status === 401 || res.status === 403) {
    return new CliError(EXIT_AUTH, `unauthorized (${res.status}): check the credentials or run \`faasq login\``);
  }
  return new CliError(EXIT_FAILED, `gateway returned ${res.status}${message ? `: ${firstLine(message)}` : ''}`);
}

export function headerValue(res: GatewayResponse, name: string): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** GET/DELETE /async-function/{callId}[/result]: call records, not function invocations. */
function isCallRecordPath(method: string, path: string): boolean {
  return (method === 'GET' || method === 'DELETE') && path.startsWith('/async-function/');
}

function definedEntries(record: Record<string, string | undefined>): [string, string][] {
  return Object.entries(record).filter((e): e is [string, string] => e[1] !== undefined);
}

function firstLine(text: string): string {
  const line = text.split('\n')[0];
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
