// Argument parsers shared by the commands. Option parsers raise commander's InvalidArgumentError
// (commander prints it); parsers run inside actions raise a usage CliError. Both exit 2.
import { InvalidArgumentError } from 'commander';
import { parseDurationMs } from '../shared/index.js';
import { usageError } from './cli-error.js';

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseWholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a whole number >= 0, got "${value}"`);
  return n;
}

export function parseDuration(value: string): number {
  try {
    return parseDurationMs(value);
  } catch {
    throw new InvalidArgumentError(`expected a duration such as 500ms, 30s or 2m, got "${value}"`);
  }
}

/** ["k=v", "a=b=c"] → { k: "v", a: "b=c" }; `what` names the flag in the error. */
export function parsePairs(values: readonly string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of values ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usageError(`${what} expects key=value, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** "Key: Value" (or faas-cli's legacy "key=value") → [name, value]. */
export function parseHeader(item: string): [string, string] {
  const colon = item.indexOf(':');
  const eq = item.indexOf('=');
  const at = colon > 0 ? colon : eq;
  if (at <= 0) throw usageError(`-H expects "Name: value", got "${item}"`);
  return [item.slice(0, at).trim(), item.slice(at + 1).trim()];
}

/** `name.namespace` split on the last dot (the gateway's rule); no dot → no namespace. */
export function splitFunctionName(raw: string): { name: string; namespace?: string } {
  const dot = raw.lastIndexOf('.');
  if (dot <= 0 || dot === raw.length - 1) return { name: raw };
  return { name: raw.slice(0, dot), namespace: raw.slice(dot + 1) };
}
