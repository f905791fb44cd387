// Loose duration input ("30s", "1m30s", "250ms", "2h", or a bare number of seconds, as OpenFaaS
// accepts) compiled once to milliseconds. Bad input throws so config loading can name the key.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

export function parseDurationMs(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`not a duration: ${input}`);
    return Math.round(input * 1000);
  }
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(PART)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== text.length) throw new Error(`not a duration: "${input}" (use e.g. 500ms, 30s, 2m, 1h)`);
  return Math.round(total);
}

/** Byte sizes: "1MiB", "512k", "10MB", or a bare number of bytes. */
export function parseBytes(input: string | number): number {
  if (typeof input === 'number') return input;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(input);
  if (!m) throw new Error(`not a size: "${input}" (use e.g. 1048576, 512KiB, 1MiB)`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult: Record<string, number> = { b: 1, k: 1024, kb: 1000, kib: 1024, m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3 };
  return Math.round(Number(m[1]) * mult[unit]);
}
