import type { BatchResult, IngestLimits, KeyResolver, WeftEvent } from '@weft/core';
import type { SegmentCall } from './segment/convert.js';

/** How a batch body is encoded: `beacon` is JSON sent as text/plain by navigator.sendBeacon. */
export type BodyFormat = 'json' | 'msgpack' | 'beacon';

/** A batch request as received: the bytes are parsed later, off the HTTP thread. */
export interface RawBatch {
  bytes: Uint8Array;
  format: BodyFormat;
  receivedAt: number;
  ip?: string;
  userAgent?: string;
  /** From the X-Write-Key header or the HTTP Basic username; the body's `write_key` is the fallback. */
  writeKey?: string;
  /** Set for the Segment-compatible routes: the body is that Segment call's shape. */
  segment?: SegmentCall;
}

export interface ProcessedBatch {
  project: string;
  events: WeftEvent[];
  result: BatchResult;
}

/** What the ingest routes need from the engine. */
export interface IngestDeps {
  keys: KeyResolver;
  limits: IngestLimits;
  /**
   * Hands the raw bytes to the ingest worker (which calls processBatch); resolves after the
   * durable hand-off. May reject with a WeftError, e.g. 503 `overloaded` with retryAfter.
   */
  submitBatch(raw: RawBatch): Promise<BatchResult>;
  /** Publishes already-normalized events (import); resolves after the durable hand-off. */
  publishEvents(project: string, events: WeftEvent[]): Promise<void>;
}
