// Process trees read from /proc, for suites that check what a replica started and that it went
// away with the replica.
import { readFileSync, readdirSync } from 'node:fs';

/** Every process below `root` (children, their children, …); only its children with isDirect. */
export function descendants(root: number, isDirect = false): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const [child, parent] of parentOf) if (parent === pid) { out.push(child); if (!isDirect) walk(child); }
  };
  walk(root);
  return out;
}

export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Running: not gone and not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every running process (anywhere on the machine) whose command line matches. */
export function processesMatching(pattern: RegExp): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => pattern.test(commandOf(pid)) && isAlive(pid));
}
