export {
  type EventsQuery,
  type EventsResponse,
  eventsPartial,
  finishEvents,
  mergeEvents,
  topBreakdownKeys,
} from './event-analysis.js';
export {
  type FunnelQuery,
  type FunnelResponse,
  funnelPartial,
  funnelUsersPartial,
  mergeFunnel,
} from './funnel.js';
export { type HeatmapQuery, type HeatmapResponse, heatmapPartial, mergeHeatmap } from './heatmap.js';
export { mergePaths, type PathsQuery, type PathsResponse, pathsPartial, topPathEvents } from './paths.js';
export {
  mergeRetention,
  type RetentionQuery,
  type RetentionResponse,
  retentionPartial,
} from './retention.js';
