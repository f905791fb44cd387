// Public door of the async HTTP routes: the accept path and the call/queue APIs.
export { registerAsyncRoutes } from './register-async-routes.js';
export type { AsyncRoutes, AsyncRoutesDeps, AsyncRouteHandler } from './register-async-routes.js';
export type { Enqueue } from './enqueue.js';
