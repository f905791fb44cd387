// Public door of the stack feature: stack.yml and FunctionDeployment in, FunctionSpec out; scaffolding;
// assembling `lang:` template functions.
export { loadStackFile, parseStack, readStackFunctions } from './stack-file.js';
export type { StackFunction } from './stack-file.js';
export { buildStackFile, buildStackFunction } from './build-stack.js';
export type { StackBuildOptions } from './build-stack.js';
export { deploymentToSpec, specToDeployment, WORKDIR_ANNOTATION } from './deployment.js';
export type { FunctionDeployment } from './deployment.js';
export { substituteEnv } from './substitute-env.js';
export { scaffoldFunction } from './scaffold-function.js';
export type { ScaffoldOptions } from './scaffold-function.js';
export { parseDockerfileEnv } from './templates/index.js';
