// The sandbox feature's door: deciding whether functions can be isolated here, and starting each
// replica inside its sandbox and cgroup.
export { detectSandbox, type SandboxHost, type SandboxMode, type SandboxNetwork } from './sandbox-host.js';
export { createLiveSecrets, type LiveSecrets } from './live-secrets.js';
export { OUTBOUND_DNS, OUTBOUND_GATEWAY } from './outbound-network.js';
export { launchReplica, SECRETS_INSIDE, WATCHDOG_FILE, type LaunchContext, type LaunchPlan, type ReplicaAddress, type ReplicaLaunch } from './replica-launch.js';
export { functionEnv } from './function-env.js';
export { resourceLimits, parseCpu, parseMemory, type ResourceLimits } from './resources.js';
export type { ReplicaCgroup } from './cgroups.js';
export { WatchdogChannel, MAX_LINE_BYTES, CHANNEL_FD } from './watchdog-channel.js';
