import { invalid } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import { retentionSql } from '../clickhouse/retention-sql.js';
import { bucketStarts } from '../query/buckets.js';
import {
  mergeRetention,
  type RetentionPartial,
  type RetentionQuery,
  type RetentionResponse,
} from '../query/retention.js';
import type { EventSpec } from '../query/step.js';
import { sendResult } from './query-arrow.js';
import { resolveRange } from './query-events.js';
import {
  type AnalysisDeps,
  clickhouseFor,
  commonProperties,
  expandSpecs,
  specSchema,
} from './query-shared.js';

const MAX_COHORTS = 1000;

const schema = {
  type: 'object',
  required: ['start', 'return', 'from', 'to'],
  additionalProperties: false,
  properties: {
    start: specSchema,
    return: specSchema,
    period: { enum: ['day', 'week'] },
    periods: { type: 'integer', minimum: 0, maximum: 365 },
    cohort: { enum: ['each', 'first'] },
    tz: { type: 'string', minLength: 1 },
    ...commonProperties,
  },
} as const;

interface RetentionBody {
  start: EventSpec;
  return: EventSpec;
  from: string;
  to: string;
  period?: 'day' | 'week';
  periods?: number;
  cohort?: 'each' | 'first';
  tz?: string;
  segment?: string[];
  engine?: 'index' | 'clickhouse';
}

/** POST /v1/query/retention (DESIGN §5, §6). */
export function registerRetentionQuery(app: FastifyInstance, deps: AnalysisDeps): void {
  app.post<{ Body: RetentionBody }>(
    '/v1/query/retention',
    { schema: { body: schema } },
    async (request, reply) => {
      const project = request.project;
      const body = request.body;
      const tz = body.tz ?? 'UTC';
      const { from, to } = resolveRange(body.from, body.to, tz);
      const [start, ret] = expandSpecs(deps, project, [body.start, body.return], 'events');
      const q: RetentionQuery = {
        start: start!,
        return: ret!,
        from,
        to,
        period: body.period ?? 'day',
        periods: body.periods ?? 7,
        cohort: body.cohort ?? 'each',
        tz,
      };
      if (bucketStarts(from, to, q.period, tz).length > MAX_COHORTS) {
        throw invalid('to', `the range has more than ${MAX_COHORTS} ${q.period} cohorts`);
      }
      if (body.segment !== undefined) q.users = body.segment;
      const ch = clickhouseFor(deps, body.engine);
      const result: RetentionResponse = ch
        ? await retentionSql(ch, project, q)
        : mergeRetention(q, await deps.engine.queryShards<RetentionPartial>('retention', { ...q, project }));
      return sendResult(request, reply, result, () =>
        result.cohorts.flatMap((c) =>
          c.returned.map((r, k) => ({ date: c.date, size: c.size, period: k, returned: r })),
        ),
      );
    },
  );
}
