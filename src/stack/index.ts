// Public door of the stack feature: stack.yml and FunctionDeployment in, FunctionSpec out; scaffolding.
export { loadStackFile, parseStack } from './stack-file.js';
export { deploymentToSpec, specToDeployment, specToStatus, WORKDIR_ANNOTATION } from './deployment.js';
export type { FunctionDeployment } from './deployment.js';
export { substituteEnv } from './substitute-env.js';
export { scaffoldFunction } from './scaffold-function.js';
export type { ScaffoldOptions } from './scaffold-function.js';
