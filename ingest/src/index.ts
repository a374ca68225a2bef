export { processBatch } from './batch/process.js';
export { requireSecret } from './http/auth.js';
export { installErrorHandler } from './http/errors.js';
export { registerIngestRoutes } from './http/routes.js';
export type { ImportRejection, ImportResult } from './import/run.js';
export { type NormalizeContext, normalizeEvent } from './normalize/event.js';
export { fromSegmentBody, SEGMENT_CALLS, type SegmentCall } from './segment/convert.js';
export type { BodyFormat, IngestDeps, ProcessedBatch, RawBatch } from './types.js';
