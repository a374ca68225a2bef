import { type Interval, invalid, isTimeZone, parseTime, WeftError } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import type { ClickHouse } from '../clickhouse/client.js';
import { eventsSql } from '../clickhouse/events-sql.js';
import type { DefinitionStore } from '../definitions/store.js';
import type { Engine } from '../engine.js';
import {
  type EventsMetric,
  type EventsQuery,
  type EventsResponse,
  finishEvents,
  mergeEvents,
  type SeriesPartial,
} from '../query/event-analysis.js';
import { WHERE_OPS, type WhereClause } from '../query/where.js';
import { sendResult } from './query-arrow.js';

const MAX_BUCKETS = 10_000;
const SPAN_MS: Record<Interval, number> = { hour: 3.6e6, day: 8.64e7, week: 6.048e8, month: 2.4192e9 };

export const whereSchema = {
  type: 'array',
  maxItems: 20,
  items: {
    type: 'object',
    required: ['prop'],
    additionalProperties: false,
    properties: {
      prop: { type: 'string', minLength: 1, maxLength: 200 },
      op: { enum: WHERE_OPS },
      value: { type: ['string', 'number', 'boolean', 'null', 'array'] },
    },
  },
} as const;

const eventsBodySchema = {
  type: 'object',
  required: ['events', 'from', 'to'],
  additionalProperties: false,
  properties: {
    events: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      items: {
        type: 'object',
        required: ['event'],
        additionalProperties: false,
        properties: { event: { type: 'string', minLength: 1, maxLength: 200 }, where: whereSchema },
      },
    },
    metric: {
      anyOf: [
        { enum: ['count', 'uniques', 'per_user'] },
        {
          type: 'object',
          required: ['sum'],
          additionalProperties: false,
          properties: { sum: { type: 'string', minLength: 1 } },
        },
        {
          type: 'object',
          required: ['avg'],
          additionalProperties: false,
          properties: { avg: { type: 'string', minLength: 1 } },
        },
      ],
    },
    from: { type: 'string', minLength: 1 },
    to: { type: 'string', minLength: 1 },
    interval: { enum: ['hour', 'day', 'week', 'month'] },
    breakdown: { type: 'string', minLength: 1, maxLength: 200 },
    top: { type: 'integer', minimum: 1, maximum: 1000 },
    tz: { type: 'string', minLength: 1 },
    segment: { type: 'array', items: { type: 'string' }, maxItems: 1_000_000 },
    engine: { enum: ['index', 'clickhouse'] },
  },
} as const;

interface EventsBody {
  events: Array<{ event: string; where?: WhereClause[] }>;
  metric?: EventsMetric;
  from: string;
  to: string;
  interval?: Interval;
  breakdown?: string;
  top?: number;
  tz?: string;
  segment?: string[];
  engine?: 'index' | 'clickhouse';
}

/** Resolves `from`/`to` (dates or ISO times, read in `tz`) and checks what the schema cannot. */
export function resolveRange(from: string, to: string, tz: string): { from: number; to: number } {
  if (!isTimeZone(tz)) throw invalid('tz', `unknown time zone "${tz}"`);
  const f = parseTime(from, tz);
  if (f === undefined) throw invalid('from', 'expected YYYY-MM-DD or an ISO time');
  const t = parseTime(to, tz);
  if (t === undefined) throw invalid('to', 'expected YYYY-MM-DD or an ISO time');
  if (t <= f) throw invalid('to', 'must be after from');
  return { from: f, to: t };
}

/** What the schema cannot say about filters: operand types per operator. */
export function validateWhere(where: readonly WhereClause[], path: string): void {
  where.forEach((w, j) => {
    const op = w.op ?? 'eq';
    const at = `${path}[${j}].value`;
    const numeric = op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte';
    if (numeric && typeof w.value !== 'number') throw invalid(at, `operator ${op} needs a number`);
    const pair =
      Array.isArray(w.value) && w.value.length === 2 && w.value.every((v) => typeof v === 'number');
    if (op === 'between' && !pair) throw invalid(at, 'operator between needs [low, high]');
    if (op === 'in' && !Array.isArray(w.value)) throw invalid(at, 'operator in needs a list');
    if (op !== 'set' && op !== 'notset' && w.value === undefined)
      throw invalid(at, `operator ${op} needs a value`);
  });
}

/** The ClickHouse to run on when asked for; throws when it is asked for but not configured. */
export function checkEngine(
  engine: 'index' | 'clickhouse' | undefined,
  clickhouse?: ClickHouse,
): ClickHouse | undefined {
  if (engine !== 'clickhouse') return undefined;
  if (!clickhouse) {
    throw new WeftError(
      'invalid',
      'engine: ClickHouse is not configured on this server (set CLICKHOUSE_URL)',
      {
        field: 'engine',
      },
    );
  }
  return clickhouse;
}

export function registerEventsQuery(
  app: FastifyInstance,
  engine: Engine,
  definitions: DefinitionStore,
  clickhouse?: ClickHouse,
): void {
  /** Runs the analysis on the shards (or ClickHouse) and merges it. */
  const answer = async (project: string, body: EventsBody): Promise<EventsResponse> => {
    const ch = checkEngine(body.engine, clickhouse);
    const tz = body.tz ?? 'UTC';
    const { from, to } = resolveRange(body.from, body.to, tz);
    const interval = body.interval ?? 'day';
    if ((to - from) / SPAN_MS[interval] > MAX_BUCKETS) {
      throw invalid('interval', `the range has more than ${MAX_BUCKETS} ${interval} intervals`);
    }
    body.events.forEach((e, i) => {
      if (e.where) validateWhere(e.where, `events[${i}].where`);
    });
    const q: EventsQuery & { project: string } = {
      project,
      events: body.events,
      metric: body.metric ?? 'count',
      from,
      to,
      interval,
      tz,
    };
    if (body.breakdown !== undefined) {
      q.breakdown = body.breakdown;
      q.top = body.top ?? 10;
    }
    if (body.segment !== undefined) q.users = body.segment;
    // Shards see defined events as the event and filters they stand for; series keep the asked names.
    const expanded = { ...q, events: definitions.expand(project, body.events) };
    if (ch) return eventsSql(ch, project, q, expanded.events);
    const first = await engine.queryShards<SeriesPartial[]>('events', expanded);
    // Past the top N values the rest fold into one "other" group per series; its distinct
    // users take a second pass.
    const done = finishEvents(q, first);
    if ('response' in done) return done.response;
    const keep = done.keep;
    return mergeEvents(
      { ...q, keep },
      await engine.queryShards<SeriesPartial[]>('events', { ...expanded, keep }),
    );
  };

  app.post<{ Body: EventsBody }>(
    '/v1/query/events',
    { schema: { body: eventsBodySchema } },
    async (request, reply) => {
      const result = await answer(request.project, request.body);
      return sendResult(request, reply, result, () =>
        result.series.flatMap((s) =>
          s.points.map((p) => ({
            event: s.event,
            breakdown: s.breakdown === undefined ? null : JSON.stringify(s.breakdown),
            t: p.t,
            value: p.value,
            total: s.total,
          })),
        ),
      );
    },
  );
}
