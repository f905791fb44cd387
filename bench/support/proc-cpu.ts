// CPU time a process has used, from /proc/<pid>/stat (Linux): user + system, in microseconds.
// Dividing its growth over a load run by the requests served gives CPU µs per request, a measure
// steadier on a shared machine than requests/s.
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc's utime/stime; 100 on every Linux this runs on. */
const TICKS_PER_S = 100;

export function cpuMicros(pid: number): number {
  return ticksToMicros(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** A process's user-mode CPU time alone (its JavaScript and native code, no system calls). */
export function userCpuMicros(pid: number): number {
  return ticksToMicros(readFileSync(`/proc/${pid}/stat`, 'utf8'), true);
}

function ticksToMicros(stat: string, isUserOnly = false): number {
  // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + (isUserOnly ? 0 : Number(fields[12]));
  return (ticks * 1_000_000) / TICKS_PER_S;
}

/** CPU time of a process's main thread alone (GC and libuv helper threads excluded). */
export function mainThreadCpuMicros(pid: number): number {
  return ticksToMicros(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
}

/** Busy CPU time of the whole machine (every core, every process): /proc/stat minus idle and iowait. */
export function machineBusyMicros(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const t = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = t.reduce((a, b) => a + b, 0) - t[3] - t[4];
  return (busy * 1_000_000) / TICKS_PER_S;
}

export function loadAverage(): string {
  return os.loadavg().map((x) => x.toFixed(2)).join(' ');
}
