// The one place a function's environment is built, so every source of it flows through here:
// the function's own `environment` (stack.yml, the API, and the ENV lines of a `lang:` template
// once that assembly lands, merged into the spec before it), on top of what a watchdog gives.
// In a sandbox that is all a function sees, as in an OpenFaaS container; without one it also
// inherits faasq's environment minus FAASQ_* and is told where its secrets are.
import type { FunctionSpec } from '../../provider.js';

/** Docker's default PATH, which OpenFaaS function images inherit. */
export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface FunctionEnvOptions {
  readonly isSandboxed: boolean;
  /** faasq's environment, already without FAASQ_*; used only without a sandbox. */
  readonly inherited: NodeJS.ProcessEnv;
  /** The host folder holding the function's secrets, without a sandbox. */
  readonly secretsPath: string | undefined;
}

export function functionEnv(spec: FunctionSpec, options: FunctionEnvOptions): NodeJS.ProcessEnv {
  if (options.isSandboxed) {
    return { PATH: SANDBOX_PATH, HOME: '/tmp', HOSTNAME: spec.name, fprocess: spec.fprocess, ...spec.environment };
  }
  const env: NodeJS.ProcessEnv = { ...options.inherited, ...spec.environment };
  if (options.secretsPath) {
    env.secret_mount_path = options.secretsPath;
    env.FAASQ_SECRETS_PATH = options.secretsPath;
  }
  return env;
}
