// Function management against /system/functions: deploy (PUT, then POST on 404, as faas-cli
// does), list, describe, remove and scale.
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { CliError, EXIT_AUTH, EXIT_FAILED, usageError } from '../cli-error.js';
import { errorFromResponse, type GatewayClient } from '../client.js';
import type { CliContext } from '../context.js';
import { formatKeyValues, formatMap, formatTable, writeJson } from '../output.js';
import { collect, parsePairs, parseWholeNumber, splitFunctionName } from '../option-parsers.js';

type StackSpec = ReturnType<typeof import('../../stack/index.js').loadStackFile>[number];

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
    .command('deploy')
    .description('deploy or update functions from a stack file, or one function from flags')
    .option('-f, --yaml <file>', 'stack file (default: stack.yml in the current folder)')
    .option('--stack <file>', 'same as --yaml')
    .option('--filter <glob>', 'only functions whose name matches this wildcard')
    .option('--name <name>', 'deploy one function from flags instead of a stack file')
    .option('--fprocess <cmd>', 'the process to run (with --name)')
    .option('--image <image>', 'image reference (stored, not run locally)')
    .option('-n, --namespace <ns>', 'namespace (with --name)')
    .option('-e, --env <k=v>', 'environment variable (repeatable)', collect)
    .option('-l, --label <k=v>', 'label (repeatable)', collect)
    .option('--annotation <k=v>', 'annotation (repeatable)', collect)
    .option('--secret <name>', 'secret (repeatable)', collect)
    .action(async (opts: DeployFlags) => {
      const deployments = opts.name ? [deploymentFromFlags(opts)] : await deploymentsFromStack(opts);
      if (deployments.length === 0) throw usageError('no functions to deploy (check --filter)');
      const client = await ctx.client();
      let failures = 0;
      for (const deployment of deployments) {
        const status = await deployOne(client, deployment).catch((err: unknown) => {
          if (err instanceof CliError && err.exitCode === EXIT_AUTH) throw err;
          ctx.io.stderr.write(`faasq: deploying ${deployment.service} failed: ${(err as Error).message}\n`);
          failures++;
          return undefined;
        });
        if (status === undefined) continue;
        const ref = deployment.namespace ? `${deployment.service}.${deployment.namespace}` : deployment.service;
        ctx.io.stdout.write(`Deployed ${deployment.service} (${status}).\nURL: ${client.baseUrl}/function/${ref}\n`);
      }
      if (failures > 0) throw new CliError(EXIT_FAILED, `${failures} of ${deployments.length} deployments failed`);
    });

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

interface DeployFlags {
  yaml?: string;
  stack?: string;
  filter?: string;
  name?: string;
  fprocess?: string;
  image?: string;
  namespace?: string;
  env?: string[];
  label?: string[];
  annotation?: string[];
  secret?: string[];
}

/** OpenFaaS FunctionDeployment JSON. */
export interface FunctionDeployment {
  service: string;
  image?: string;
  namespace?: string;
  envProcess?: string;
  envVars?: Record<string, string>;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  secrets?: string[];
  constraints?: string[];
  limits?: { memory?: string; cpu?: string };
  requests?: { memory?: string; cpu?: string };
  readOnlyRootFilesystem?: boolean;
}

export function specToDeployment(spec: StackSpec): FunctionDeployment {
  return {
    service: spec.name,
    image: spec.image,
    namespace: spec.namespace,
    envProcess: spec.fprocess,
    envVars: { ...spec.environment },
    labels: { ...spec.labels },
    annotations: { ...spec.annotations },
    secrets: [...spec.secrets],
    constraints: [...spec.constraints],
    limits: spec.limits,
    requests: spec.requests,
    readOnlyRootFilesystem: spec.readOnlyRootFilesystem,
  };
}

function deploymentFromFlags(opts: DeployFlags): FunctionDeployment {
  if (opts.yaml || opts.stack) throw usageError('use either -f/--yaml or --name, not both');
  if (!opts.fprocess && !opts.image) throw usageError('--name needs --fprocess (or --image)');
  return {
    service: opts.name as string,
    image: opts.image,
    namespace: opts.namespace,
    envProcess: opts.fprocess,
    envVars: parsePairs(opts.env, '--env'),
    labels: parsePairs(opts.label, '--label'),
    annotations: parsePairs(opts.annotation, '--annotation'),
    secrets: opts.secret ?? [],
  };
}

async function deploymentsFromStack(opts: DeployFlags): Promise<FunctionDeployment[]> {
  const file = opts.yaml ?? opts.stack ?? ['stack.yml', 'stack.yaml'].find((f) => existsSync(f));
  if (!file) throw usageError('no stack file: pass -f stack.yml, or --name and --fprocess');
  const { loadStackFile } = await import('../../stack/index.js');
  const specs = loadStackFile(file);
  const pattern = opts.filter ? globToRegExp(opts.filter) : undefined;
  return specs.filter((s) => !pattern || pattern.test(s.name)).map(specToDeployment);
}

/** PUT (update) first; a 404 means the function is new, so POST it. Returns the final status. */
async function deployOne(client: GatewayClient, deployment: FunctionDeployment): Promise<number> {
  const put = await client.send('PUT', '/system/functions', { json: deployment, headers: { accept: 'application/json' } });
  if (put.status >= 200 && put.status <= 299) {
    await put.body.dump();
    return put.status;
  }
  if (put.status !== 404) throw await errorFromResponse(put);
  await put.body.dump();
  const post = await client.send('POST', '/system/functions', { json: deployment, headers: { accept: 'application/json' } });
  if (post.status < 200 || post.status > 299) throw await errorFromResponse(post);
  await post.body.dump();
  return post.status;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}
