// Helpers to build a local provider over fixture functions in tests: a Config with short
// timeouts, a started provider in a temp dir, a spec builder, and request/response helpers.
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createLocalProvider, type FunctionSpec, type InvocationRequest, type InvocationResponse, type Provider } from '../../src/provider/index.js';
import { EventBus, silentLogger } from '../../src/shared/index.js';
import { makeTempDir } from './temp-dir.js';

export const FIXTURES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'functions');

/** `node <fixture>`; process.execPath so tests do not depend on PATH. */
export function nodeFixture(file: string): string {
  return `${process.execPath} ${file}`;
}

export function testConfig(dataDir: string, flags: Record<string, string | number> = {}): Config {
  return loadConfig({
    env: {},
    flags: {
      dataDir,
      'provider.execTimeoutMs': '5s',
      'provider.readyTimeoutMs': '5s',
      'provider.restartMinMs': '50ms',
      'provider.restartMaxMs': '400ms',
      'provider.shutdownGraceMs': '2s',
      // These suites test the runtime contracts and watch host pids; the sandboxed runtime has
      // its own suites (test/provider/sandbox-*.test.ts), which pass 'provider.sandbox': 'on'.
      'provider.sandbox': 'off',
      ...flags,
    },
  });
}

/** A started local provider with its data dir in a fresh temp dir; close() stops it and removes the dir. */
export async function startTestProvider(flags: Record<string, string | number> = {}, env?: NodeJS.ProcessEnv): Promise<{ provider: Provider; dir: string; close(): Promise<void> }> {
  const tmp = await makeTempDir();
  const provider = createLocalProvider({ config: testConfig(tmp.dir, flags), logger: silentLogger(), events: new EventBus(), ...(env ? { env } : {}) });
  await provider.start();
  return {
    provider,
    dir: tmp.dir,
    async close() {
      await provider.close();
      await tmp.cleanup();
    },
  };
}

export function fixtureSpec(name: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    name,
    namespace: 'openfaas-fn',
    image: '',
    fprocess: nodeFixture('echo.mjs'),
    environment: { mode: 'http' },
    labels: {},
    annotations: {},
    secrets: [],
    constraints: [],
    workingDir: FIXTURES_DIR,
    ...overrides,
  };
}

export function request(overrides: Partial<InvocationRequest> = {}): InvocationRequest {
  return { method: 'POST', path: '/', query: '', headers: {}, body: null, callId: 'test-call', ...overrides };
}

export async function readAll(res: InvocationResponse): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function bodyOf(text: string): Readable {
  return Readable.from([Buffer.from(text)]);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
