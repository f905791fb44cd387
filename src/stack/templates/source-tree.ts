// Lists a template or handler folder for copying and hashing, within bounds: a template pulled
// from someone's git repository may hold symlinks pointing out of the project, or be huge. Files
// are read from inside the folder only; a symlink is followed only to a file inside the same
// folder, anything else is refused by name.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { FaasqError } from '../../shared/errors.js';

export interface TreeLimits {
  readonly maxFiles: number;
  readonly maxBytes: number;
  readonly maxDepth: number;
}

export const TREE_LIMITS: TreeLimits = { maxFiles: 10_000, maxBytes: 256 * 1024 * 1024, maxDepth: 32 };

/** Never copied: installed dependencies and VCS data are rebuilt or not needed (faas-cli's `build` and `template` are skipped at the top of a handler). */
const ALWAYS_SKIPPED = new Set(['node_modules', '.git']);

export interface TreeEntry {
  /** Path relative to the tree's root, with `/` separators. */
  readonly rel: string;
  readonly abs: string;
  readonly isDir: boolean;
  readonly isExecutable: boolean;
  readonly size: number;
}

export interface Tree {
  readonly root: string;
  readonly entries: TreeEntry[];
  readonly bytes: number;
}

/** `skipTop`: names left out at the top level only (a handler's `build/` and `template/`). */
export function readTree(root: string, what: string, skipTop: ReadonlySet<string> = new Set(), limits: TreeLimits = TREE_LIMITS): Tree {
  const realRoot = realpathSync(root);
  const entries: TreeEntry[] = [];
  let bytes = 0;
  const refuse = (rel: string, why: string): never => {
    throw new FaasqError('E_TEMPLATE_BUILD', `${what}: ${rel}: ${why}`, { detail: { path: path.join(root, rel) } });
  };
  const walk = (dir: string, relDir: string, depth: number): void => {
    if (depth > limits.maxDepth) refuse(relDir, `folders nested deeper than ${limits.maxDepth}`);
    for (const name of readdirSync(dir).sort()) {
      if (ALWAYS_SKIPPED.has(name) || (depth === 0 && skipTop.has(name))) continue;
      const abs = path.join(dir, name);
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      let st = lstatSync(abs);
      if (st.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(abs);
        } catch {
          return refuse(rel, 'a symlink whose target does not exist');
        }
        if (!isInside(realRoot, target)) refuse(rel, `a symlink pointing out of the folder (to ${target}); copy the file in instead`);
        st = statSync(target);
        if (!st.isFile()) refuse(rel, 'a symlink to a folder; only symlinks to files inside the folder are followed');
      }
      if (st.isDirectory()) {
        entries.push({ rel, abs, isDir: true, isExecutable: false, size: 0 });
        walk(abs, rel, depth + 1);
      } else if (st.isFile()) {
        bytes += st.size;
        entries.push({ rel, abs, isDir: false, isExecutable: (st.mode & 0o111) !== 0, size: st.size });
      } else {
        refuse(rel, 'not a regular file or folder');
      }
      if (entries.length > limits.maxFiles) refuse(rel, `more than ${limits.maxFiles} files`);
      if (bytes > limits.maxBytes) refuse(rel, `more than ${limits.maxBytes} bytes in all`);
    }
  };
  walk(realRoot, '', 0);
  return { root: realRoot, entries, bytes };
}

/** A content hash over trees: names, kinds, executable bits and bytes, each tree under its label. */
export function hashTrees(salt: string, trees: ReadonlyArray<{ label: string; tree: Tree }>): string {
  const hash = createHash('sha256').update(salt).update('\0');
  for (const { label, tree } of trees) {
    hash.update(`tree\0${label}\0`);
    for (const entry of tree.entries) {
      hash.update(`${entry.isDir ? 'd' : entry.isExecutable ? 'x' : 'f'}\0${entry.rel}\0${entry.size}\0`);
      if (!entry.isDir) hash.update(readFileSync(entry.abs));
    }
  }
  return hash.digest('hex');
}

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
