// Readable terminal output: aligned tables, "Key: value" blocks and short human durations.
// Kept apart from the commands so every command prints the same way.
import type { Writable } from 'node:stream';

/** Left-aligned columns separated by three spaces; the last column is not padded. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** "Key:   value" lines with the values aligned; undefined values are skipped. */
export function formatKeyValues(pairs: readonly (readonly [string, string | number | undefined])[]): string {
  const shown = pairs.filter((p): p is readonly [string, string | number] => p[1] !== undefined && p[1] !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)}   ${v}`).join('\n') + '\n';
}

/** A map as "k=v, k=v" (or "-" when empty). */
export function formatMap(map: Readonly<Record<string, string>> | null | undefined): string {
  const entries = Object.entries(map ?? {});
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** 950ms, 12s, 3m4s, 2h5m, 3d4h. */
export function formatDurationMs(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

export function writeJson(out: Writable, value: unknown): void {
  out.write(JSON.stringify(value, null, 2) + '\n');
}

/** Copies a byte stream to an output stream without ending it, honouring backpressure. */
export async function copyTo(source: AsyncIterable<Buffer | string>, out: Writable): Promise<void> {
  for await (const chunk of source) {
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
  }
}
