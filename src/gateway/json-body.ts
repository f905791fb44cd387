// Bounded JSON bodies for the /system/* API: 413 past the limit, 400 E_INVALID_JSON with the
// parser's reason, 400 when the top level is not an object.
import type { IncomingMessage } from 'node:http';
import { FaasqError } from '../shared/errors.js';
import { readBody } from '../shared/http.js';

/** Control-plane requests are small; anything bigger is a mistake or an attack. */
export const MAX_SYSTEM_BODY_BYTES = 1024 * 1024;

export async function readJsonObject(req: IncomingMessage, maxBytes = MAX_SYSTEM_BODY_BYTES): Promise<Record<string, unknown>> {
  const declared = req.headers['content-length'];
  const body = await readBody(req, maxBytes, declared === undefined ? undefined : Number(declared));
  if (body.length === 0) throw new FaasqError('E_INVALID_JSON', 'request body is empty: expected a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new FaasqError('E_INVALID_JSON', `request body is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new FaasqError('E_INVALID_JSON', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** A required non-empty string field. */
export function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (value === undefined || value === null || value === '') throw new FaasqError('E_MISSING_FIELD', `missing field "${field}"`, { detail: { field } });
  if (typeof value !== 'string') throw new FaasqError('E_INVALID_FIELD', `field "${field}" must be a string`, { detail: { field } });
  return value;
}

/** An optional string field; undefined when absent or empty. */
export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new FaasqError('E_INVALID_FIELD', `field "${field}" must be a string`, { detail: { field } });
  return value;
}
