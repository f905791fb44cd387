// Public door of the shared building blocks.
export { ERRORS, FaasqError, isFaasqError, toFaasqError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { createLogger, silentLogger, REDACT_PATHS } from './logger.js';
export type { Logger, LogFormat } from './logger.js';
export { parseDurationMs, parseBytes } from './durations.js';
export { DEFAULT_NAMESPACE, FUNCTION_NAME_PATTERN, isValidFunctionName, parseFunctionRef, assertDeployableName, qualifiedName } from './names.js';
export type { FunctionRef } from './names.js';
export { EventBus } from './events.js';
export type { FaasqEvents, EventName } from './events.js';
export { HOP_BY_HOP, forwardableHeaders, createCallIdGenerator, nowNs, readBody, firstHeader } from './http.js';
export { ANNOTATIONS } from './annotations.js';
export { freePort } from './free-port.js';
export { Deadline, DeadlineQueue } from './deadline-queue.js';
export type { DeadlineOwner } from './deadline-queue.js';
export { createAddressDenyList, embeddedIpv4 } from './address-deny.js';
export type { AddressDenyList } from './address-deny.js';
export { redactUrl } from './redact-url.js';
export { withOwnerOnlyUmask, makeOwnerOnly, writePrivateFileAtomically, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-files.js';
