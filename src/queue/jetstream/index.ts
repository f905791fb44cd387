// Public door of the NATS JetStream queue backend.
export { createJetStreamQueue } from './jetstream-queue.js';
export type { JetStreamQueueDeps } from './jetstream-queue.js';
export { createNames, encodeToken, decodeToken } from './names.js';
export type { JetStreamNames } from './names.js';
export { isSupportedServerVersion, MIN_SERVER_VERSION } from './provision.js';
