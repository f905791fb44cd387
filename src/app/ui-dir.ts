// Where the dashboard's static files live: src/ui in a checkout (they are not compiled), found
// relative to this module whether it runs from src/ (tsx) or dist/ (built).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export function uiDir(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.resolve(here, '../ui'), path.resolve(here, '../../src/ui')]) {
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
  }
  return undefined;
}
