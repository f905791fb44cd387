// Public door of the composition root: wires config, logger, provider, queue, gateway and worker
// into the roles the CLI runs (`faasq up`, `faasq gateway`, `faasq worker`).
export { runRole } from './run-role.js';
export type { Role, RoleOptions, RunningRole } from './run-role.js';
