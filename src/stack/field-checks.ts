// Shape checks shared by the stack file and FunctionDeployment readers. Each returns the
// normalised value or a short description of what was expected, so callers can name the
// file, function and key (or JSON field) in their own error.

export type Check<T> = { ok: true; value: T } | { ok: false; expected: string };

const isScalar = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** A map of strings; numbers and booleans are turned into strings (YAML `replicas: 2`). */
export function stringMap(value: unknown, isNullAllowed = true): Check<Record<string, string>> {
  if (value === undefined || (value === null && isNullAllowed)) return { ok: true, value: {} };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, expected: 'a map of strings' };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!isScalar(v)) return { ok: false, expected: 'a map of strings' };
    out[k] = String(v);
  }
  return { ok: true, value: out };
}

export function stringList(value: unknown): Check<string[]> {
  if (value === undefined || value === null) return { ok: true, value: [] };
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) return { ok: false, expected: 'a list of strings' };
  return { ok: true, value: [...value] };
}

export function optionalString(value: unknown): Check<string | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value !== 'string') return { ok: false, expected: 'a string' };
  return { ok: true, value };
}

export function optionalBoolean(value: unknown): Check<boolean | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value !== 'boolean') return { ok: false, expected: 'true or false' };
  return { ok: true, value };
}

/** FunctionResources: `memory` and `cpu` as strings (numbers accepted); other keys ignored. */
export function resources(value: unknown): Check<{ memory?: string; cpu?: string } | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, expected: 'a map with "memory" and "cpu"' };
  const out: { memory?: string; cpu?: string } = {};
  for (const key of ['memory', 'cpu'] as const) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string' && typeof v !== 'number') return { ok: false, expected: 'a map with "memory" and "cpu" strings' };
    out[key] = String(v);
  }
  return { ok: true, value: Object.keys(out).length > 0 ? out : undefined };
}
