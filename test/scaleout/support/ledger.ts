// Reads the ledger file that ledger-fn.mjs writes: how many times each call id started and ended.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LEDGER_FN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ledger-fn.mjs');

export interface Ledger {
  readonly starts: Map<string, number>;
  readonly ends: Map<string, number>;
}

export async function readLedger(file: string): Promise<Ledger> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const starts = new Map<string, number>();
  const ends = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [kind, id] = line.split(' ');
    if (!id) continue;
    const map = kind === 'start' ? starts : ends;
    map.set(id, (map.get(id) ?? 0) + 1);
  }
  return { starts, ends };
}

/** A stack file with http-mode ledger functions; extra per-function YAML lines go under each. */
export function ledgerStack(ledgerFile: string, functions: Record<string, { sleepMs?: number; status?: number; annotations?: Record<string, string> }>): string {
  const lines = ['version: "1.0"', 'functions:'];
  for (const [name, f] of Object.entries(functions)) {
    lines.push(`  ${name}:`, `    fprocess: node ${LEDGER_FN}`, '    environment:', '      mode: http', `      LEDGER: ${JSON.stringify(ledgerFile)}`);
    if (f.sleepMs !== undefined) lines.push(`      SLEEP_MS: "${f.sleepMs}"`);
    if (f.status !== undefined) lines.push(`      STATUS: "${f.status}"`);
    if (f.annotations) {
      lines.push('    annotations:');
      for (const [k, v] of Object.entries(f.annotations)) lines.push(`      ${k}: "${v}"`);
    }
  }
  return lines.join('\n') + '\n';
}
