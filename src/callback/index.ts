// Public door of the callback room: one place owns what a callback is allowed to be (URL rules and
// the address deny-list, at accept and again at send), what is sent and signed, how it is retried,
// and how each send is recorded on the call. The gateway and the worker call it; nothing else does.
export { createCallbackUrlCheck } from './callback-url.js';
export type { CallbackUrlCheck } from './callback-url.js';
export { createCallbackGuard } from './callback-guard.js';
export type { CallbackGuard } from './callback-guard.js';
export { callbackHeaders, deliverCallback, signBody, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './deliver-callback.js';
export type { CallbackAttempt, CallbackPayload, CallbackResult, CallbackSettings } from './deliver-callback.js';
export { startCallback } from './send-callback.js';
export type { CallbackCall, CallbackDeps } from './send-callback.js';
