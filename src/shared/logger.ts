// One pino root logger per process; components take children with bindings ({ component }, { fn, callId }).
// Secrets and bodies are redacted by path so a stray header object never leaks them.
import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';

export type { Logger };
export type LogFormat = 'json' | 'console';

export const REDACT_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["proxy-authorization"]',
  'headers["x-faasq-signature"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'password',
  'secret',
  'body',
];

const require = createRequire(import.meta.url);

export function createLogger(options: { level?: string; format?: LogFormat; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? 'info';
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  if (options.format === 'console') {
    // Loaded lazily: JSON logging must not pay for the pretty printer.
    const pretty = require('pino-pretty') as (opts: Record<string, unknown>) => NodeJS.WritableStream;
    const stream = pretty({ colorize: Boolean(process.stdout.isTTY), translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', destination: options.destination ?? 1, sync: true });
    return pino({ level, redact }, stream);
  }
  if (options.destination) return pino({ level, redact }, options.destination);
  // Asynchronous stdout: lines written while a write is in flight are coalesced into one, so a
  // line per request costs no syscall of its own under load; pino flushes it on a normal exit.
  return pino({ level, redact }, pino.destination({ dest: 1, sync: false }));
}

/** A logger that writes nothing, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
