// `lang:` template functions (issue 21): time from `faasq up` to the first answer for a node
// template function (cold: assembled with its npm install; warm: unchanged, reused; rebuilt: the
// handler changed), then calls/s through one replica beside the same server called directly.
//
//   npm run build && node --import tsx bench/template-start.ts
//   BENCH_PROJECT=<folder with stack.yml + template/> BENCH_FN=<name>  (default: a copy of
//   test/fixtures/openfaas-project with its node-port template), BENCH_ROUNDS (2), BENCH_DURATION (5 s)
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, startProcess, stopProcess, waitForHttp } from './support/processes.js';
import { wrk } from './support/wrk.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const FN = process.env.BENCH_FN ?? 'hello';
const SCRIPT = path.join(ROOT, 'bench/support/post-small.lua');

async function main(): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'faasq-bench-template-'));
  const project = path.join(tmp, 'project');
  const dataDir = path.join(tmp, 'data');
  try {
    if (process.env.BENCH_PROJECT) {
      await cp(process.env.BENCH_PROJECT, project, { recursive: true });
    } else {
      await cp(path.join(ROOT, 'test/fixtures/openfaas-project'), project, { recursive: true });
      await writeFile(path.join(project, 'stack.yml'), 'version: 1.0\nprovider:\n  name: openfaas\nfunctions:\n  hello:\n    lang: node-port\n    handler: ./hello\n');
    }
    const stack = await readFile(path.join(project, 'stack.yml'), 'utf8');
    const handler = new RegExp(`^  ${FN}:[^]*?handler: *\\.?/?(\\S+)`, 'm').exec(stack)?.[1];
    if (!handler) throw new Error(`stack.yml has no function "${FN}" with a handler`);

    const startUp = async () => {
      const port = await freePort();
      const t0 = performance.now();
      const child = startProcess(process.execPath, [path.join(ROOT, 'dist/cli/main-bin.js'), 'up', '--port', String(port), '--queue', 'memory', '--data-dir', dataDir, '--log-level', 'warn'], {
        cwd: project,
        env: { FAASQ_USER: 'admin', FAASQ_PASSWORD: 'bench-password' },
      });
      const url = `http://127.0.0.1:${port}/function/${FN}`;
      for (const deadline = Date.now() + 300_000; ; ) {
        const res = await fetch(url, { method: 'POST', body: 'bench' }).catch(() => undefined);
        const ok = res?.status === 200;
        await res?.arrayBuffer();
        if (ok) break;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no answer from ${url}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return { child, url, ms: Math.round(performance.now() - t0) };
    };

    const cold = await startUp();
    await stopProcess(cold.child);
    const warm = await startUp();
    await stopProcess(warm.child);
    const handlerFile = path.join(project, handler, (await readdir(path.join(project, handler))).find((f) => /^handler\.(js|mjs|cjs|ts)$/.test(f)) ?? 'handler.js');
    await writeFile(handlerFile, `${await readFile(handlerFile, 'utf8')}\n// changed by the benchmark\n`);
    const rebuilt = await startUp();
    console.log(`faasq up to first answer: cold (assemble + npm install) ${cold.ms} ms, warm (reused) ${warm.ms} ms, rebuilt (handler changed) ${rebuilt.ms} ms`);

    // The same server, started by hand from the assembled folder, called directly.
    const base = path.join(dataDir, 'functions', 'openfaas-fn', FN);
    const current = (await readFile(path.join(base, 'current'), 'utf8')).trim();
    const directPort = await freePort();
    const direct = startProcess('node', ['index.js'], { cwd: path.join(base, current), env: { http_port: String(directPort), PORT: String(directPort) } });
    const directUrl = `http://127.0.0.1:${directPort}/`;
    await waitForHttp(directUrl);
    const rows: Array<{ direct: number; gateway: number }> = [];
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        const d = await wrk(directUrl, { connections: 50, durationS: DURATION_S, script: SCRIPT });
        const g = await wrk(rebuilt.url, { connections: 50, durationS: DURATION_S, script: SCRIPT });
        if (d.non2xx + g.non2xx > 0) throw new Error(`non-2xx answers: direct ${d.non2xx}, gateway ${g.non2xx}`);
        rows.push({ direct: Math.round(d.requestsPerSec), gateway: Math.round(g.requestsPerSec) });
        console.log(`round ${round + 1}: direct ${rows[round].direct} req/s, through faasq ${rows[round].gateway} req/s (${(rows[round].gateway / rows[round].direct).toFixed(3)} x)`);
      }
    } finally {
      await stopProcess(direct);
      await stopProcess(rebuilt.child);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ratio = median(rows.map((r) => r.gateway / r.direct));
    console.log(`one replica through faasq / direct: ${ratio.toFixed(3)} x (median of ${ROUNDS} rounds)`);
    console.log(JSON.stringify({ bench: 'template-start', fn: FN, coldMs: cold.ms, warmMs: warm.ms, rebuiltMs: rebuilt.ms, rounds: rows, ratio: +ratio.toFixed(3) }));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
