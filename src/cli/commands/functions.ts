// Function management against /system/functions: list, describe, remove and scale
// (deploy lives in deploy.ts).
import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { formatKeyValues, formatMap, formatTable, writeJson } from '../output.js';
import { parseWholeNumber, splitFunctionName } from '../option-parsers.js';

/** OpenFaaS FunctionStatus as the gateway returns it (fields are optional on the wire). */
interface FunctionStatusJson {
  name: string;
  namespace?: string;
  image?: string;
  envProcess?: string;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  replicas?: number;
  availableReplicas?: number;
  invocationCount?: number;
  createdAt?: string;
}

export function registerFunctionCommands(program: Command, ctx: CliContext): void {
  program
    .command('list')
    .alias('ls')
    .description('list deployed functions')
    .option('-n, --namespace <ns>', 'namespace')
    .option('-q, --quiet', 'names only')
    .option('--json', 'print JSON')
    .action(async (opts: { namespace?: string; quiet?: boolean; json?: boolean }) => {
      const client = await ctx.client();
      const functions = (await client.json<FunctionStatusJson[]>('GET', '/system/functions', { query: { namespace: opts.namespace } })) ?? [];
      if (opts.json) return writeJson(ctx.io.stdout, functions);
      if (opts.quiet) return void ctx.io.stdout.write(functions.map((f) => `${f.name}\n`).join(''));
      const rows = functions
        .slice()
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((f) => [f.name, String(f.invocationCount ?? 0), String(f.replicas ?? 0), String(f.availableReplicas ?? 0)]);
      ctx.io.stdout.write(formatTable(['Function', 'Invocations', 'Replicas', 'Available'], rows));
    });

  program
    .command('describe')
    .description('show a function: status, replicas, invocations, URLs, annotations')
    .argument('<name>', 'function name (name or name.namespace)')
    .option('--json', 'print JSON')
    .action(async (raw: string, opts: { json?: boolean }) => {
      const { name, namespace } = splitFunctionName(raw);
      const client = await ctx.client();
      const status = await client.json<FunctionStatusJson>('GET', `/system/function/${encodeURIComponent(name)}`, { query: { namespace } });
      if (status.invocationCount === undefined) {
        // Like faas-cli: the invocation count comes from the list endpoint.
        const all = await client.json<FunctionStatusJson[]>('GET', '/system/functions', { query: { namespace } }).catch(() => []);
        status.invocationCount = all?.find((f) => f.name === name)?.invocationCount;
      }
      if (opts.json) return writeJson(ctx.io.stdout, status);
      const ref = status.namespace && namespace ? `${name}.${status.namespace}` : name;
      ctx.io.stdout.write(formatKeyValues([
        ['Name', status.name],
        ['Namespace', status.namespace],
        ['Status', (status.availableReplicas ?? 0) > 0 ? 'Ready' : 'Not Ready'],
        ['Replicas', status.replicas ?? 0],
        ['Available', status.availableReplicas ?? 0],
        ['Invocations', status.invocationCount ?? 0],
        ['Image', status.image],
        ['Process', status.envProcess],
        ['Created', status.createdAt],
        ['URL', `${client.baseUrl}/function/${ref}`],
        ['Async URL', `${client.baseUrl}/async-function/${ref}`],
        ['Labels', formatMap(status.labels)],
        ['Annotations', formatMap(status.annotations)],
      ]));
    });

  program
    .command('remove')
    .alias('rm')
    .description('remove a function')
    .argument('<name>', 'function name (name or name.namespace)')
    .action(async (raw: string) => {
      const { name, namespace } = splitFunctionName(raw);
      const client = await ctx.client();
      await client.json('DELETE', '/system/functions', { json: { functionName: name, namespace } });
      ctx.io.stdout.write(`Removed ${raw}.\n`);
    });

  program
    .command('scale')
    .description('set the number of replicas of a function')
    .argument('<name>', 'function name (name or name.namespace)')
    .requiredOption('--replicas <n>', 'desired replicas', parseWholeNumber)
    .action(async (raw: string, opts: { replicas: number }) => {
      const { name, namespace } = splitFunctionName(raw);
      const client = await ctx.client();
      await client.json('POST', `/system/scale-function/${encodeURIComponent(name)}`, {
        json: { serviceName: name, namespace, replicas: opts.replicas },
      });
      ctx.io.stdout.write(`Scaled ${raw} to ${opts.replicas} replicas.\n`);
    });
}
