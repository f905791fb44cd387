// Public door of the provider feature: the Provider seam, the local runtime and the remote invoker.
export type {
  FunctionSpec, FunctionResources, FunctionStatus, InvocationRequest, InvocationResponse, Invoker,
  DirectRoute, LogEntry, LogQuery, SecretInput, Provider, ResponseSink, StreamControl,
} from './provider.js';
export { createLocalProvider } from './local/local-provider.js';
export { streamViaInvoke } from './stream-adapter.js';
export { specToStatus, FUNCTION_LABEL } from './function-status.js';
export type { LocalProviderDeps } from './local/local-provider.js';
export { restartDelayMs } from './local/runtime.js';
export { UPSTREAM_ANNOTATION } from './local/upstream-runtime.js';
export { SCALE_MIN_KEY, MAX_REPLICAS } from './local/build-runtime.js';
export { createRemoteInvoker } from './remote/remote-invoker.js';
export type { RemoteInvoker, RemoteInvokerOptions } from './remote/remote-invoker.js';
export { createRemoteSpecSource } from './remote/remote-specs.js';
export type { RemoteSpecSource, RemoteSpecSourceOptions } from './remote/remote-specs.js';
export { execTimeoutFor, framingAnomalyOf } from './local/http-proxy.js';
