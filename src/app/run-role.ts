// Starts one role in this process and stops it in reverse order on SIGTERM/SIGINT
// (a second signal forces exit). Filled in by the composition work; the CLI only calls runRole.
import type { Config } from '../config/index.js';

export type Role = 'up' | 'gateway' | 'worker';

export interface RoleOptions {
  /** faasq up --nats: start and supervise a local nats-server. */
  readonly startNats?: boolean;
  /** Install signal handlers and exit the process when stopped (false in tests). */
  readonly handleSignals?: boolean;
}

export interface RunningRole {
  /** The gateway's bound port (0 when no gateway runs). */
  readonly port: number;
  close(): Promise<void>;
}

export async function runRole(role: Role, config: Config, options: RoleOptions = {}): Promise<RunningRole> {
  void role; void config; void options;
  throw new Error('runRole: not wired yet');
}
