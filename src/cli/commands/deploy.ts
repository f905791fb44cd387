// `faasq deploy`: functions from a stack file (or one from flags) sent as OpenFaaS
// FunctionDeployment JSON: PUT (update) first, then POST when the gateway answers 404, as faas-cli does.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { CliError, EXIT_AUTH, EXIT_FAILED, EXIT_UNREACHABLE, usageError } from '../cli-error.js';
import { errorFromResponse, type GatewayClient } from '../client.js';
import type { CliContext } from '../context.js';
import { collect, parsePairs } from '../option-parsers.js';
import type { FunctionDeployment } from '../../stack/index.js';

export function registerDeployCommand(program: Command, ctx: CliContext): void {
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
    .option('--data-dir <dir>', 'where `lang:` template functions are assembled (default: FAASQ_DATA_DIR or .faasq, as for faasq up)')
    .action(async (opts: DeployFlags) => {
      const deployments = opts.name ? [deploymentFromFlags(opts)] : await deploymentsFromStack(opts, ctx);
      if (deployments.length === 0) throw usageError('no functions to deploy (check --filter)');
      const client = await ctx.client();
      let failures = 0;
      for (const deployment of deployments) {
        const status = await deployOne(client, deployment).catch((err: unknown) => {
          // Auth and connection failures would fail every function alike: stop at the first.
          if (err instanceof CliError && (err.exitCode === EXIT_AUTH || err.exitCode === EXIT_UNREACHABLE)) throw err;
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
  dataDir?: string;
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

async function deploymentsFromStack(opts: DeployFlags, ctx: CliContext): Promise<FunctionDeployment[]> {
  const file = opts.yaml ?? opts.stack ?? ['stack.yml', 'stack.yaml'].find((f) => existsSync(f));
  if (!file) throw usageError('no stack file: pass -f stack.yml, or --name and --fprocess');
  const { buildStackFile, specToDeployment } = await import('../../stack/index.js');
  const pattern = opts.filter ? globToRegExp(opts.filter) : undefined;
  // `lang:` functions with a template/<lang>/ folder are assembled here, next to the project, and
  // deployed with the assembled folder as their working directory (as `faasq up` does).
  const specs = await buildStackFile(file, {
    dataDir: opts.dataDir ? path.resolve(opts.dataDir) : ctx.dataDir(),
    filter: pattern ? (name) => pattern.test(name) : undefined,
    onAssembled: (name, built) => {
      ctx.io.stderr.write(`${name}: ${built.isRebuilt ? 'assembled' : 'unchanged, reusing'} ${built.root}\n`);
    },
  });
  return specs.map((spec) => specToDeployment(spec));
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
