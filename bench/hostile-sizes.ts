// Gateway memory under hostile sizes (issue 20): the gateway's peak RSS beside its idle RSS while
// 8 callers at once (a) send 40 MB bodies to an http-mode function that streams them back, (b)
// send bodies over FAASQ_MAX_BODY (declared 200 MB), which are refused unread, (c) send 40 MB
// bodies to a fork-mode `cat`, (d) make fork-mode calls that answer 50 MB each, and (e) make
// small http-mode calls (served on the express lane) that answer 50 MB each. Target: peak under
// 200 MB. Callers are anonymous (`agent: false`, so `Connection: close`) and read every reply to
// the end. The attacks run one after another against one gateway, so each peak also includes
// what the earlier ones left (freed memory the allocator keeps).
// Peak RSS: /proc/<pid>/status VmHWM after resetting it (clear_refs 5) before each attack, with
// 10 ms VmRSS samples beside it in case the reset is not allowed.
// Run: npm run build && node --import tsx bench/hostile-sizes.ts
// (BENCH_ONLY=1,3 runs only those attacks; FAASQ_SANDBOX=off and FAASQ_EXPRESS_LANE=false reach the gateway.)
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ROOT, freePort, rssMiB, sampleRss, startProcess, stopProcess, waitForHttp } from './support/processes.js';

const CALLERS = Number(process.env.BENCH_CALLERS ?? 8);
const MB = 1024 * 1024;
const ANSWER_BYTES = 50 * MB;
const BODY_BYTES = 40 * MB;
const OVER_LIMIT_BYTES = 200 * MB;
const TARGET_MIB = 200;

interface Attack {
  readonly name: string;
  readonly statuses: number[];
  readonly bytesBack: number;
  readonly seconds: number;
  readonly peakMiB: number;
}

function hwmMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Resets the kernel's peak-RSS mark; false when not allowed. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** A body of `size` zero bytes produced 64 KiB at a time, never held whole. */
function zeros(size: number): Readable {
  const chunk = Buffer.alloc(64 * 1024);
  let left = size;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

/** One call; resolves with its status and the reply bytes read (a reset connection counts as status 0). */
function call(port: number, method: string, target: string, bodyBytes: number): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = bodyBytes > 0 ? { 'content-length': String(bodyBytes), 'content-type': 'application/octet-stream' } : {};
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => { bytes += c.length; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, bytes }));
    });
    req.on('error', () => resolve({ status: 0, bytes: 0 }));
    if (bodyBytes > 0) {
      const body = zeros(bodyBytes);
      body.pipe(req);
      // A refusal closes the connection while the body is still going out.
      req.on('close', () => body.destroy());
    } else {
      req.end();
    }
  });
}

async function attack(name: string, pid: number, port: number, method: string, target: string, bodyBytes: number): Promise<Attack> {
  const canReset = resetPeak(pid);
  const sampler = sampleRss(pid, 10);
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: CALLERS }, () => call(port, method, target, bodyBytes)));
  const seconds = (performance.now() - t0) / 1000;
  const sampled = sampler.stop().peakMiB;
  const peakMiB = canReset ? Math.max(hwmMiB(pid), sampled) : sampled;
  return { name, statuses: results.map((r) => r.status), bytesBack: results.reduce((n, r) => n + r.bytes, 0), seconds, peakMiB };
}

async function settle(pid: number): Promise<number> {
  // The idle figure: the lowest of a second's samples once the previous attack's garbage is collectable.
  let low = Infinity;
  for (let i = 0; i < 10; i += 1) {
    low = Math.min(low, rssMiB(pid));
    await new Promise((r) => setTimeout(r, 100));
  }
  return low;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faasq-hostile-'));
  // The stack's folder is the functions' working folder: a sandboxed function user must enter it.
  await chmod(dir, 0o755);
  const stack = path.join(dir, 'stack.yml');
  await writeFile(stack, [
    'version: 1.0',
    'functions:',
    '  big:',
    `    fprocess: head -c ${ANSWER_BYTES} /dev/zero`,
    '  cat:',
    '    fprocess: cat',
    '  pipe:',
    // Beside the stack file: a sandboxed replica sees its own folder only.
    '    fprocess: node pipe-echo.mjs',
    '    environment:',
    '      mode: http',
    '',
  ].join('\n'));
  await copyFile(path.join(ROOT, 'bench/functions/pipe-echo.mjs'), path.join(dir, 'pipe-echo.mjs'));
  const port = await freePort();
  const faasq = startProcess(process.execPath, [path.join(ROOT, 'bin/faasq.js'), 'up', '-f', stack, '--port', String(port), '--queue', 'memory', '--data-dir', path.join(dir, 'data'), '--log-level', 'warn'], {
    env: { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'bench-password', FAASQ_CONFIG_DIR: path.join(dir, 'config') },
  });
  const pid = faasq.pid!;
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    // Replicas start slowly on a loaded machine (and in a sandbox): wait up to 2 minutes for each.
    for (const fn of ['cat', 'pipe']) await waitForHttp(`http://127.0.0.1:${port}/function/${fn}`, 120_000);
    const idleMiB = await settle(pid);
    const attacks: Attack[] = [];
    const all: [string, string, string, number][] = [
      [`${CALLERS} x 40 MB bodies to an http-mode function streaming them back`, 'POST', '/function/pipe', BODY_BYTES],
      [`${CALLERS} x 200 MB bodies (over FAASQ_MAX_BODY)`, 'POST', '/function/pipe', OVER_LIMIT_BYTES],
      [`${CALLERS} x 40 MB bodies to fork-mode cat`, 'POST', '/function/cat', BODY_BYTES],
      [`${CALLERS} x fork-mode calls answering 50 MB`, 'GET', '/function/big', 0],
      [`${CALLERS} x http-mode calls answering 50 MB`, 'GET', `/function/pipe?bytes=${ANSWER_BYTES}`, 0],
    ];
    const only = process.env.BENCH_ONLY?.split(',').map(Number);
    for (const [i, [name, method, target, bytes]] of all.entries()) {
      if (only && !only.includes(i + 1)) continue;
      attacks.push(await attack(name, pid, port, method, target, bytes));
    }
    const afterMiB = await settle(pid);

    console.log(`gateway RSS idle ${idleMiB.toFixed(0)} MiB (target: peak under ${TARGET_MIB} MB)`);
    for (const a of attacks) {
      const counts = [...new Set(a.statuses)].map((s) => `${a.statuses.filter((x) => x === s).length}x${s}`).join(' ');
      console.log(`${a.name}: peak ${a.peakMiB.toFixed(0)} MiB (${(a.peakMiB / idleMiB).toFixed(1)}x idle) ${a.peakMiB < TARGET_MIB ? 'under' : 'OVER'} target; statuses ${counts}; ${(a.bytesBack / MB).toFixed(0)} MB back in ${a.seconds.toFixed(1)} s`);
    }
    console.log(`gateway RSS after the attacks ${afterMiB.toFixed(0)} MiB`);
    console.log(JSON.stringify({ bench: 'hostile-sizes', callers: CALLERS, idleMiB: Math.round(idleMiB), afterMiB: Math.round(afterMiB), targetMiB: TARGET_MIB, attacks: attacks.map((a) => ({ ...a, peakMiB: Math.round(a.peakMiB), seconds: Math.round(a.seconds * 10) / 10 })) }));
  } finally {
    await stopProcess(faasq);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
