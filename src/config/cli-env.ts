// The CLI's view of the environment, read here because src/config is the one place that reads
// process.env: which gateway to talk to, credentials, and where `faasq login` stores them.
import os from 'node:os';
import path from 'node:path';

export interface CliEnv {
  /** FAASQ_URL, else OPENFAAS_URL (faas-cli's variable), else undefined. */
  readonly gatewayUrl?: string;
  readonly user?: string;
  readonly password?: string;
  /** FAASQ_CONFIG_DIR, else ~/.faasq. */
  readonly configDir: string;
  /** FAASQ_DATA_DIR, else .faasq: where a local `faasq up` keeps the credentials it generated. */
  readonly dataDir: string;
}

export function cliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  const pick = (...names: string[]): string | undefined => {
    for (const name of names) {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
    }
    return undefined;
  };
  return {
    gatewayUrl: pick('FAASQ_URL', 'OPENFAAS_URL'),
    user: pick('FAASQ_USER'),
    password: pick('FAASQ_PASSWORD'),
    configDir: pick('FAASQ_CONFIG_DIR') ?? path.join(os.homedir(), '.faasq'),
    dataDir: pick('FAASQ_DATA_DIR') ?? '.faasq',
  };
}
