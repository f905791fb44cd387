// Public door of template assembly: OpenFaaS `lang:` templates turned into a runnable folder.
export { assembleFunction, copySampleHandler, hasTemplate, templateDirFor } from './assemble-function.js';
export type { AssembledFunction, AssembleOptions } from './assemble-function.js';
export { parseDockerfileEnv } from './dockerfile-env.js';
export type { DockerfileEnv } from './dockerfile-env.js';
export { LANGUAGE_RULES } from './install-steps.js';
