// Public door of the config feature.
export { loadConfig, CONFIG_KEYS, DEFAULT_CALLBACK_DENY_LIST } from './config.js';
export type { Config, ConfigOverrides, JitterMode } from './config.js';
export { cliEnv } from './cli-env.js';
export type { CliEnv } from './cli-env.js';
