import { type Interval, invalid, isTimeZone, parseTime, WeftError } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine.js';
import {
  type EventsMetric,
  type EventsQuery,
  mergeEvents,
  type SeriesPartial,
} from '../query/event-analysis.js';
import { WHERE_OPS, type WhereClause } from '../query/where.js';

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

export function checkEngine(engine: 'index' | 'clickhouse' | undefined): void {
  if (engine === 'clickhouse') {
    throw new WeftError(
      'invalid',
      'engine: ClickHouse is not configured on this server (set CLICKHOUSE_URL)',
      {
        field: 'engine',
      },
    );
  }
}

export function registerEventsQuery(app: FastifyInstance, engine: Engine): void {
  app.post<{ Body: EventsBody }>(
    '/v1/query/events',
    { schema: { body: eventsBodySchema } },
    async (request) => {
      const project = request.project;
      const body = request.body;
      checkEngine(body.engine);
      const tz = body.tz ?? 'UTC';
      const { from, to } = resolveRange(body.from, body.to, tz);
      const interval = body.interval ?? 'day';
      if ((to - from) / SPAN_MS[interval] > MAX_BUCKETS) {
        throw invalid('interval', `the range has more than ${MAX_BUCKETS} ${interval} intervals`);
      }
      body.events.forEach((e, i) => {
        e.where?.forEach((w, j) => {
          const op = w.op ?? 'eq';
          const numeric = op === 'gt' || op === 'gte' || op === 'lt' || op === 'lte';
          if (numeric && typeof w.value !== 'number') {
            throw invalid(`events[${i}].where[${j}].value`, `operator ${op} needs a number`);
          }
          if (op === 'between' && !(Array.isArray(w.value) && w.value.length === 2)) {
            throw invalid(`events[${i}].where[${j}].value`, 'operator between needs [low, high]');
          }
        });
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
      if (body.breakdown !== undefined) q.breakdown = body.breakdown;
      if (body.segment !== undefined) q.users = body.segment;
      const partials = await engine.queryShards<SeriesPartial[]>('events', q);
      return mergeEvents(q, partials);
    },
  );
}
