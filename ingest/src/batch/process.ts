import {
  type BatchResult,
  type IngestLimits,
  invalid,
  type KeyResolver,
  parseTime,
  WeftError,
  type WeftEvent,
} from '@weft/core';
import { type NormalizeContext, normalizeEvent } from '../normalize/event.js';
import { isPlainObject } from '../normalize/properties.js';
import { fromSegmentBody, SegmentRejection } from '../segment/convert.js';
import type { ProcessedBatch, RawBatch } from '../types.js';
import { decodeBody } from './decode.js';

/**
 * Decodes, authenticates, validates and normalizes one batch. Whole-request problems throw a
 * WeftError (400 body/events/sent_at, 401 key, 413 too many events); per-event problems are
 * reported in result.rejected and the good events are kept.
 */
export function processBatch(raw: RawBatch, keys: KeyResolver, limits: IngestLimits): ProcessedBatch {
  const decoded = decodeBody(raw.bytes, raw.format);
  if (!isPlainObject(decoded)) throw invalid('body', 'must be an object with an events array');
  let body = decoded;
  // Segment's libraries post `{batch: [...]}` to /v1/batch too; /v1/segment/* names the call.
  if (raw.segment) body = fromSegmentBody(raw.segment, body);
  else if (body.events === undefined && Array.isArray(body.batch)) body = fromSegmentBody('batch', body);
  const project = authenticate(raw.writeKey || body.write_key, keys);
  const input = body.events;
  if (!Array.isArray(input)) throw invalid('events', 'must be an array');
  if (input.length > limits.maxBatchEvents) {
    throw new WeftError('too_large', `events: more than ${limits.maxBatchEvents} events in one batch`, {
      field: 'events',
      max: limits.maxBatchEvents,
    });
  }
  const ctx: NormalizeContext = {
    project,
    receivedAt: raw.receivedAt,
    skewMs: skew(body.sent_at, raw.receivedAt),
    limits,
    ip: raw.ip,
    userAgent: raw.userAgent,
  };
  const events: WeftEvent[] = [];
  const result: BatchResult = { accepted: 0, rejected: [] };
  for (let index = 0; index < input.length; index++) {
    const item = input[index];
    if (item instanceof SegmentRejection) {
      result.rejected.push({ index, reason: item.reason });
      continue;
    }
    const event = normalizeEvent(item, ctx);
    if (typeof event === 'string') result.rejected.push({ index, reason: event });
    else events.push(event);
  }
  result.accepted = events.length;
  return { project, events, result };
}

function authenticate(key: unknown, keys: KeyResolver): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new WeftError(
      'unauthorized',
      'missing write key: send X-Write-Key, HTTP Basic username or write_key',
    );
  }
  const project = keys.projectForWriteKey(key);
  if (project === undefined) throw new WeftError('unauthorized', 'unknown write key');
  return project;
}

/** receivedAt - sent_at: how far the client clock is behind the server's. */
function skew(sentAt: unknown, receivedAt: number): number {
  if (sentAt === undefined || sentAt === null) return 0;
  const sent = parseTime(sentAt);
  if (sent === undefined) throw invalid('sent_at', 'must be epoch milliseconds or an ISO 8601 time');
  return receivedAt - sent;
}
