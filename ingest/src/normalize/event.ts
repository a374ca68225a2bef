import { randomUUID } from 'node:crypto';
import { ANON_ID_PROPERTY, DAY_MS, type IngestLimits, parseTime, type WeftEvent } from '@weft/core';
import { enrich } from './enrich.js';
import { isPlainObject, normalizeProperties } from './properties.js';

/** Per-batch context of normalizeEvent; built once per batch, not per event. */
export interface NormalizeContext {
  project: string;
  receivedAt: number;
  /** Added to client times: `receivedAt - sent_at` when the batch has sent_at, else 0. */
  skewMs: number;
  limits: IngestLimits;
  ip?: string;
  userAgent?: string;
}

/** 2000-01-01T00:00:00Z: earlier times are clock or unit errors. */
const MIN_TIME = 946_684_800_000;

/**
 * Validates one wire event and returns the canonical event (DESIGN §4), or a reason naming the
 * offending field. Already-flat `properties` are adopted, not copied, and enrichment adds keys
 * to them: the caller hands over ownership of the decoded input.
 */
export function normalizeEvent(raw: unknown, ctx: NormalizeContext): WeftEvent | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'event: must be an object';
  const input = raw as Record<string, unknown>;
  const max = ctx.limits.maxNameLength;

  const name = input.event;
  if (typeof name !== 'string' || name.length === 0 || name.length > max) {
    return `event: must be a string of 1-${max} characters`;
  }
  const distinctId = idText(input.distinct_id, max);
  if (distinctId === undefined) return `distinct_id: must be a string of 1-${max} characters or a number`;

  const eventId = input.event_id ?? undefined;
  if (
    eventId !== undefined &&
    (typeof eventId !== 'string' || eventId.length === 0 || eventId.length > max)
  ) {
    return `event_id: must be a string of 1-${max} characters`;
  }

  const time = eventTime(input, ctx);
  if (typeof time === 'string') return time;

  let properties: WeftEvent['properties'];
  const rawProps = input.properties;
  if (rawProps === undefined || rawProps === null) properties = {};
  else if (!isPlainObject(rawProps)) return 'properties: must be an object';
  else {
    const props = normalizeProperties(rawProps, 'properties', ctx.limits);
    if (typeof props === 'string') return props;
    properties = props;
  }

  let sessionId: string | undefined;
  const rawSession = input.session_id ?? properties.$session_id;
  if (rawSession !== undefined && rawSession !== null && rawSession !== '') {
    sessionId = idText(rawSession, max);
    if (sessionId === undefined) {
      const field =
        input.session_id === undefined || input.session_id === null ? 'properties.$session_id' : 'session_id';
      return `${field}: must be a string of at most ${max} characters or a number`;
    }
  }

  const anon = properties[ANON_ID_PROPERTY];
  if (anon !== undefined) {
    const anonId = idText(anon, max);
    if (anonId === undefined) {
      return `properties.${ANON_ID_PROPERTY}: must be a string of 1-${max} characters or a number`;
    }
    if (anonId !== anon) properties[ANON_ID_PROPERTY] = anonId;
  }

  const event: WeftEvent = {
    event_id: eventId ?? randomUUID(),
    project: ctx.project,
    event: name,
    distinct_id: distinctId,
    time,
    received_at: ctx.receivedAt,
    properties,
  };
  if (sessionId !== undefined) event.session_id = sessionId;
  const set = profileUpdate(input.$set, '$set', ctx.limits);
  if (typeof set === 'string') return set;
  if (set !== undefined) event.$set = set;
  const setOnce = profileUpdate(input.$set_once, '$set_once', ctx.limits);
  if (typeof setOnce === 'string') return setOnce;
  if (setOnce !== undefined) event.$set_once = setOnce;

  enrich(properties, ctx.ip, ctx.userAgent, ctx.limits.maxValueLength);
  return event;
}

/** An identifier: a string of 1..max characters, or a finite number / bigint as its decimal text. */
function idText(value: unknown, max: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return value.length > 0 && value.length <= max ? value : undefined;
    case 'number':
      return Number.isFinite(value) ? String(value) : undefined;
    case 'bigint':
      return String(value);
    default:
      return undefined;
  }
}

/** Client time (`time`, alias `timestamp`) corrected for skew, receivedAt when absent, or a reason. */
function eventTime(input: Record<string, unknown>, ctx: NormalizeContext): number | string {
  let field = 'time';
  let value = input.time;
  if (value === undefined || value === null) {
    field = 'timestamp';
    value = input.timestamp;
    if (value === undefined || value === null) return ctx.receivedAt;
  }
  const parsed = parseTime(value);
  if (parsed === undefined) return `${field}: must be epoch milliseconds or an ISO 8601 time`;
  const time = parsed + ctx.skewMs;
  if (!(time >= MIN_TIME && time <= ctx.receivedAt + DAY_MS)) {
    return `${field}: must be after 2000-01-01 and at most one day after the server time`;
  }
  return time;
}

function profileUpdate(
  value: unknown,
  field: string,
  limits: IngestLimits,
): WeftEvent['properties'] | string | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) return `${field}: must be an object`;
  return normalizeProperties(value, field, limits);
}
