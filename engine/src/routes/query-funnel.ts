import { invalid } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import { funnelSql, funnelUsersSql } from '../clickhouse/funnel-sql.js';
import {
  type FunnelGroupPartial,
  type FunnelQuery,
  type FunnelResponse,
  type FunnelUsersQuery,
  mergeFunnel,
} from '../query/funnel.js';
import type { EventSpec } from '../query/step.js';
import { sendResult } from './query-arrow.js';
import { resolveRange } from './query-events.js';
import {
  type AnalysisDeps,
  clickhouseFor,
  commonProperties,
  durationSchema,
  expandSpecs,
  parseDuration,
  specSchema,
} from './query-shared.js';

const funnelProperties = {
  steps: { type: 'array', minItems: 2, maxItems: 20, items: specSchema },
  window: durationSchema,
  breakdown: { type: 'string', minLength: 1, maxLength: 200 },
  tz: { type: 'string', minLength: 1 },
  ...commonProperties,
} as const;

const funnelSchema = {
  type: 'object',
  required: ['steps', 'window', 'from', 'to'],
  additionalProperties: false,
  properties: funnelProperties,
} as const;

const usersSchema = {
  type: 'object',
  required: ['steps', 'window', 'from', 'to', 'step'],
  additionalProperties: false,
  properties: {
    ...funnelProperties,
    step: { type: 'integer', minimum: 1, maximum: 20 },
    status: { enum: ['converted', 'dropped'] },
    format: { enum: ['csv', 'ndjson'] },
  },
} as const;

interface FunnelBody {
  steps: EventSpec[];
  window: string | number;
  from: string;
  to: string;
  breakdown?: string;
  tz?: string;
  segment?: string[];
  engine?: 'index' | 'clickhouse';
}

interface UsersBody extends FunnelBody {
  step: number;
  status?: 'converted' | 'dropped';
  format?: 'csv' | 'ndjson';
}

function funnelQuery(deps: AnalysisDeps, project: string, body: FunnelBody): FunnelQuery {
  const { from, to } = resolveRange(body.from, body.to, body.tz ?? 'UTC');
  const q: FunnelQuery = {
    steps: expandSpecs(deps, project, body.steps, 'steps'),
    window: parseDuration(body.window, 'window'),
    from,
    to,
  };
  if (body.breakdown !== undefined) q.breakdown = body.breakdown;
  if (body.segment !== undefined) q.users = body.segment;
  return q;
}

/** POST /v1/query/funnel and /v1/query/funnel/users (DESIGN §5, §6). */
export function registerFunnelQuery(app: FastifyInstance, deps: AnalysisDeps): void {
  app.post<{ Body: FunnelBody }>(
    '/v1/query/funnel',
    { schema: { body: funnelSchema } },
    async (request, reply) => {
      const project = request.project;
      const q = funnelQuery(deps, project, request.body);
      const ch = clickhouseFor(deps, request.body.engine);
      let result: FunnelResponse;
      if (ch) result = await funnelSql(ch, project, q);
      else
        result = mergeFunnel(
          q,
          await deps.engine.queryShards<FunnelGroupPartial[]>('funnel', { ...q, project }),
        );
      // Series keep the names asked for, not what definitions expanded them to.
      result.steps.forEach((s, i) => {
        s.event = request.body.steps[i]!.event;
      });
      for (const b of result.breakdowns ?? []) {
        b.steps.forEach((s, i) => {
          s.event = request.body.steps[i]!.event;
        });
      }
      return sendResult(request, reply, result, () => [
        ...result.steps.map((s, i) => ({ breakdown: null, step: i + 1, ...s })),
        ...(result.breakdowns ?? []).flatMap((b) =>
          b.steps.map((s, i) => ({ breakdown: JSON.stringify(b.breakdown), step: i + 1, ...s })),
        ),
      ]);
    },
  );

  app.post<{ Body: UsersBody }>(
    '/v1/query/funnel/users',
    { schema: { body: usersSchema } },
    async (request, reply) => {
      const project = request.project;
      const body = request.body;
      const status = body.status ?? 'converted';
      if (body.step > body.steps.length) throw invalid('step', `the funnel has ${body.steps.length} steps`);
      if (status === 'dropped' && body.step < 2) throw invalid('step', 'users drop at step 2 or later');
      const q: FunnelUsersQuery = { ...funnelQuery(deps, project, body), step: body.step, status };
      const ch = clickhouseFor(deps, body.engine);
      const ids = ch
        ? await funnelUsersSql(ch, project, q)
        : (await deps.engine.queryShards<string[]>('funnel-users', { ...q, project })).flat();
      ids.sort();
      const ndjson =
        body.format === 'ndjson' ||
        (body.format === undefined && (request.headers.accept ?? '').includes('ndjson'));
      if (ndjson) {
        return reply
          .type('application/x-ndjson')
          .send(ids.map((id) => `${JSON.stringify({ distinct_id: id })}\n`).join(''));
      }
      return reply
        .type('text/csv')
        .send(`distinct_id\n${ids.map(csvCell).join('\n')}${ids.length ? '\n' : ''}`);
    },
  );
}

/** A CSV cell, quoted when it holds a comma, quote or line break. */
function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
