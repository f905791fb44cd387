// Which function a request on the express lane is for, and whether the lane can serve it: the
// checks that send a request to the full path instead (each with its reason, for the hand-off
// metric), then the function's replica and admission slot, or a wait for a replica.
import type { DirectRoute } from '../../provider/index.js';
import { parseFunctionRef } from '../../shared/names.js';
import { normaliseFunctionPath } from '../function-path.js';
import type { CallTarget } from './express-call.js';
import { fieldOf, type RequestHead } from './http1-head.js';
import type { LaneContext } from './lane-context.js';

const PREFIX = '/function/';
/** Request fields that need the full path. */
const NEEDS_NODE = new Set(['transfer-encoding', 'upgrade', 'expect', 'x-invoke-mode']);
/**
 * Request fields Node's server keeps only the first of when repeated (the rest of its list is
 * hop-by-hop), plus X-Call-Id, whose repeats Node would join into one odd call id.
 */
const SINGLE_FIELDS = new Set(['host', 'content-type', 'user-agent', 'referer', 'authorization', 'from', 'if-modified-since', 'if-unmodified-since', 'max-forwards', 'x-call-id']);
/**
 * A request that waits on the lane: for a free admission slot, a ready replica, or both. When
 * `waiting` resolves the call holds its slot (if any) and the route; when it rejects, it holds nothing.
 */
export interface PendingTarget extends Omit<CallTarget, 'route'> {
  readonly waiting: Promise<DirectRoute>;
  /** Aborts the wait (the caller left). */
  readonly controller: AbortController;
}

/**
 * Why a connection left the lane (the `reason` label of faasq_express_lane_handoffs_total):
 * incomplete: a request still arriving after 2 s, or a head over the limit; unparsed: not a
 * strict HTTP/1.1 head; body: over 64 KiB; route: not /function/, a bad or unknown name; fields:
 * async, Transfer-Encoding, Upgrade, Expect, repeated single fields, Connection options, no Host,
 * Origin or Sec-Fetch-Site with invocation auth on (the full path's cross-site check);
 * auth: credentials missing or wrong; host: a Host the gateway does not answer for (421); busy: the function's connection cap in use (a full concurrency
 * limit waits on the lane); indirect: no direct address (fork mode, https, remote provider); closing.
 */
export type HandOffReason = 'incomplete' | 'unparsed' | 'body' | 'route' | 'fields' | 'auth' | 'host' | 'busy' | 'indirect' | 'closing';

/** Where the request goes, with its replica and admission slot taken; or why it is not for this lane. */
export function targetOf(lane: LaneContext, head: RequestHead): CallTarget | PendingTarget | HandOffReason {
  const { target } = head;
  if (!target.startsWith(PREFIX)) return 'route';
  if (!lane.isAccepting()) return 'closing';
  const { lowerNames } = head;
  for (let i = 0; i < lowerNames.length; i += 1) {
    const name = lowerNames[i];
    if (NEEDS_NODE.has(name)) return 'fields';
    // A repeated field Node keeps only once (its first): the full path decides, so both paths agree.
    if (SINGLE_FIELDS.has(name) && lowerNames.indexOf(name) !== i) return 'fields';
  }
  // HTTP/1.1 needs a Host: Node's server answers 400 without one.
  if (!lowerNames.includes('host')) return 'fields';
  for (const token of head.connection) if (token !== 'close' && token !== 'keep-alive') return 'fields';
  // A Host this gateway does not answer for (DNS rebinding) gets its 421 from the full path.
  const { isAuthorized, isAllowedHost } = lane.deps;
  if (isAllowedHost && !isAllowedHost(fieldOf(head, 'host'))) return 'host';
  // With invocation auth on, a browser's request (Origin, Sec-Fetch-Site) is judged by the full path's cross-site check.
  if (isAuthorized && (lowerNames.includes('origin') || lowerNames.includes('sec-fetch-site'))) return 'fields';
  // Wrong or missing credentials get their 401 from the full path.
  if (isAuthorized && !isAuthorized(fieldOf(head, 'authorization'))) return 'auth';
  const queryAt = target.indexOf('?', PREFIX.length);
  const pathEnd = queryAt === -1 ? target.length : queryAt;
  let slashAt = target.indexOf('/', PREFIX.length);
  if (slashAt === -1 || slashAt > pathEnd) slashAt = pathEnd;
  let ref: { name: string; namespace: string };
  try {
    ref = parseFunctionRef(target.slice(PREFIX.length, slashAt));
  } catch {
    return 'route';
  }
  const { provider, limits } = lane.deps;
  const spec = provider.getSpec(ref.name, ref.namespace);
  if (!spec) return 'route';
  if (!provider.route) return 'indirect';
  const limiter = limits.limiterFor(`${ref.namespace}/${ref.name}`, spec);
  let path = slashAt < pathEnd ? target.slice(slashAt, pathEnd) : '/';
  try {
    path = normaliseFunctionPath(path);
  } catch {
    // The full path answers 400 E_INVALID_PATH (before taking the slot below).
    return 'route';
  }
  // An empty query ("/f?") reaches the function without its "?", as on the full path.
  const hasQuery = queryAt !== -1 && queryAt < target.length - 1;
  const pathAndQuery = hasQuery ? path + target.slice(queryAt) : path;
  if (limiter && !limiter.tryAcquire()) {
    // A full limiter: the call waits on the lane for a slot (then a replica), as the full path would.
    if (!provider.isDirect?.(ref.name, ref.namespace)) return 'indirect';
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal).then(() => holdingSlot(limiter, routeOrWait(lane, ref.name, ref.namespace, controller.signal)));
    return { fn: ref.name, namespace: ref.namespace, pathAndQuery, limiter, waiting, controller };
  }
  const route = provider.route(ref.name, ref.namespace);
  if (route) return { fn: ref.name, namespace: ref.namespace, pathAndQuery, route, limiter };
  const controller = new AbortController();
  const waiting = provider.waitForRoute?.(ref.name, ref.namespace, controller.signal);
  if (waiting) return { fn: ref.name, namespace: ref.namespace, pathAndQuery, limiter, waiting: holdingSlot(limiter, waiting), controller };
  limiter?.release();
  return 'indirect';
}

/** The function stopped being directly routable while its call waited (redeployed in fork mode). */
export class NotDirectError extends Error {}

/** A ready replica now, or the wait for one. */
function routeOrWait(lane: LaneContext, fn: string, namespace: string, signal: AbortSignal): Promise<DirectRoute> {
  const { provider } = lane.deps;
  const route = provider.route?.(fn, namespace);
  if (route) return Promise.resolve(route);
  return provider.waitForRoute?.(fn, namespace, signal) ?? Promise.reject(new NotDirectError('not directly routable'));
}

/** A wait that fails gives the call's admission slot back itself: the failed call holds nothing. */
function holdingSlot(limiter: CallTarget['limiter'], waiting: Promise<DirectRoute>): Promise<DirectRoute> {
  if (!limiter) return waiting;
  return waiting.catch((err: unknown) => {
    limiter.release();
    throw err;
  });
}
