// Public door of the gateway: the HTTP server (sync path, OpenFaaS system API, auth, admission),
// credentials, and the pieces other features build on (protect, the async hand-off type).
export { createGateway } from './gateway.js';
export type { Gateway, GatewayDeps } from './gateway.js';
export { resolveCredentials, resolveInvokeCredentials, CREDENTIALS_FILE, INVOKE_CREDENTIALS_FILE } from './credentials.js';
export type { ResolvedCredentials } from './credentials.js';
export { createProtect, createBasicAuthCheck, createCredentialCheck, decodeBasic } from './basic-auth.js';
export type { Credentials, CredentialCheck, Principal, RouteHandler } from './basic-auth.js';
export { ConcurrencyLimiter } from './concurrency-limiter.js';
export type { LimitSettings } from './concurrency-limiter.js';
export { CONCURRENCY_ANNOTATION, MAX_WAITING_ANNOTATION, MAX_WAIT_ANNOTATION } from './function-limits.js';
export type { AdmissionStats } from './function-limits.js';
export type { AsyncEnqueue } from './sync-invoke.js';
export type { Router } from './system-routes.js';
export { sendError, sendJson, sendText } from './reply.js';
