// Memory and CPU limits for replicas through the machine's cgroups: v1 controllers
// (/sys/fs/cgroup/memory, /sys/fs/cgroup/cpu) where that is what the host mounts, else the v2
// unified tree. faasq only ever writes inside a `faasq/` subtree it creates, one group per
// replica, removed when the replica ends. A process joins its group before it can fork (the
// launcher's wrapper writes its own pid, then execs), so nothing it starts escapes the limit.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { ResourceLimits } from './resources.js';

export interface ReplicaCgroup {
  /** The cgroup.procs files the replica's first process writes its pid to. */
  readonly procsFiles: readonly string[];
  /** How many processes of the group the kernel killed for memory so far. */
  oomKills(): number;
  remove(): Promise<void>;
}

export interface CgroupHost {
  /** 'none' when limits cannot be enforced here; `reason` says why. */
  readonly kind: 'v1' | 'v2' | 'none';
  readonly reason: string;
  /** A group with these limits, or undefined when there are none to enforce (or kind is 'none'). */
  create(id: string, limits: ResourceLimits): ReplicaCgroup | undefined;
}

const CFS_PERIOD_US = 100_000;

export function detectCgroups(root = '/sys/fs/cgroup'): CgroupHost {
  const v1Memory = path.join(root, 'memory');
  if (existsSync(path.join(v1Memory, 'memory.limit_in_bytes'))) {
    try {
      mkdirSync(path.join(v1Memory, 'faasq'), { recursive: true });
      return v1Host(root);
    } catch (err) {
      return noCgroups(`cgroup v1 memory controller not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  const controllers = readText(path.join(root, 'cgroup.controllers'));
  if (controllers !== undefined) {
    const enabled = (readText(path.join(root, 'cgroup.subtree_control')) ?? '').split(/\s+/);
    if (!enabled.includes('memory') || !enabled.includes('cpu')) return noCgroups('cgroup v2 without the memory and cpu controllers enabled at its root');
    try {
      mkdirSync(path.join(root, 'faasq'), { recursive: true });
      writeFileSync(path.join(root, 'faasq', 'cgroup.subtree_control'), '+memory +cpu');
      return v2Host(root);
    } catch (err) {
      return noCgroups(`cgroup v2 tree not writable (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  return noCgroups('no cgroup memory controller mounted');
}

function noCgroups(reason: string): CgroupHost {
  return { kind: 'none', reason, create: () => undefined };
}

function v1Host(root: string): CgroupHost {
  return {
    kind: 'v1',
    reason: 'cgroup v1',
    create(id, limits) {
      const dirs: string[] = [];
      let memoryDir: string | undefined;
      try {
        if (limits.memoryBytes !== undefined) {
          memoryDir = path.join(root, 'memory', 'faasq', id);
          mkdirSync(memoryDir);
          dirs.push(memoryDir);
          writeFileSync(path.join(memoryDir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
          // Swap accounting is often off; where it is on, memory+swap gets the same ceiling.
          tryWrite(path.join(memoryDir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
        }
        if (limits.cpuMillis !== undefined) {
          const cpuDir = path.join(root, 'cpu', 'faasq', id);
          mkdirSync(cpuDir, { recursive: true });
          dirs.push(cpuDir);
          writeFileSync(path.join(cpuDir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
          writeFileSync(path.join(cpuDir, 'cpu.cfs_quota_us'), String(Math.round((limits.cpuMillis * CFS_PERIOD_US) / 1000)));
        }
      } catch (err) {
        void removeDirs(dirs);
        throw err;
      }
      if (dirs.length === 0) return undefined;
      const oomFile = memoryDir ? path.join(memoryDir, 'memory.oom_control') : undefined;
      return {
        procsFiles: dirs.map((dir) => path.join(dir, 'cgroup.procs')),
        oomKills: () => (oomFile ? counter(oomFile, 'oom_kill') : 0),
        remove: () => removeDirs(dirs),
      };
    },
  };
}

function v2Host(root: string): CgroupHost {
  return {
    kind: 'v2',
    reason: 'cgroup v2',
    create(id, limits) {
      if (limits.memoryBytes === undefined && limits.cpuMillis === undefined) return undefined;
      const dir = path.join(root, 'faasq', id);
      mkdirSync(dir);
      try {
        if (limits.memoryBytes !== undefined) {
          writeFileSync(path.join(dir, 'memory.max'), String(limits.memoryBytes));
          tryWrite(path.join(dir, 'memory.swap.max'), '0');
        }
        if (limits.cpuMillis !== undefined) writeFileSync(path.join(dir, 'cpu.max'), `${Math.round((limits.cpuMillis * CFS_PERIOD_US) / 1000)} ${CFS_PERIOD_US}`);
      } catch (err) {
        void removeDirs([dir]);
        throw err;
      }
      return {
        procsFiles: [path.join(dir, 'cgroup.procs')],
        oomKills: () => counter(path.join(dir, 'memory.events'), 'oom_kill'),
        remove: () => removeDirs([dir]),
      };
    },
  };
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function tryWrite(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch {
    // optional knob missing on this kernel
  }
}

/** A `key N` line of a cgroup stats file (memory.oom_control, memory.events); 0 when absent. */
function counter(file: string, key: string): number {
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(readText(file) ?? '');
  return match ? Number(match[1]) : 0;
}

/** rmdir fails with EBUSY while the last processes are still exiting: retried for a second. */
async function removeDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || attempt === 49) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}
