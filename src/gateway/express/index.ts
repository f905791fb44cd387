// Public door of the express lane (the sync hot path on raw sockets).
export { installExpressLane, MAX_LANE_BODY_BYTES } from './express-lane.js';
export type { ExpressLane } from './express-lane.js';
export type { LaneDeps } from './lane-context.js';
