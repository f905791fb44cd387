// The shape of src/: folders import only folders below them, the queue engines import the seam and
// never each other, and no module imports itself round a cycle. Read from the import lines, so a
// change that breaks the shape fails here with the offending file named.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/** Lower numbers sit below; a folder may import folders with a lower number only. */
const LAYERS: Record<string, number> = {
  shared: 0, config: 1, provider: 2, queue: 2, callback: 3, stack: 3, metrics: 3, worker: 4, gateway: 5, app: 6, cli: 7,
};
const ENGINES = ['src/queue/local/', 'src/queue/jetstream/'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** file -> the src files it imports (relative imports, static and dynamic, types included). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets: string[] = [];
    for (const m of text.matchAll(/(?:from|import\()\s*'(\.[^']+)\.js'/g)) targets.push(path.resolve(path.dirname(file), `${m[1]}.ts`));
    graph.set(file, targets);
  }
  return graph;
}

const rel = (file: string): string => path.relative(path.dirname(SRC), file);
const folderOf = (file: string): string => path.relative(SRC, file).split(path.sep)[0];

test('architecture - every folder imports only the folders below it', () => {
  const wrong: string[] = [];
  for (const [file, targets] of importGraph()) {
    const from = folderOf(file);
    for (const target of targets) {
      const to = folderOf(target);
      if (to === from) continue;
      if (!(from in LAYERS) || !(to in LAYERS)) wrong.push(`${rel(file)} -> ${rel(target)} (a folder the layer table does not know)`);
      else if (LAYERS[to] >= LAYERS[from]) wrong.push(`${rel(file)} -> ${rel(target)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('architecture - each queue engine imports the seam, never another engine', () => {
  const wrong: string[] = [];
  for (const [file, targets] of importGraph()) {
    const engine = ENGINES.find((e) => rel(file).startsWith(e));
    if (!engine) continue;
    for (const target of targets) {
      const other = ENGINES.find((e) => e !== engine && rel(target).startsWith(e));
      if (other) wrong.push(`${rel(file)} -> ${rel(target)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('architecture - no import cycles between modules', () => {
  const graph = importGraph();
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, trail: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(file)), file].map(rel).join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) visit(target, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});
