import { invalid } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import { pathsSql } from '../clickhouse/paths-sql.js';
import {
  mergePaths,
  type PathsPartial,
  type PathsQuery,
  type PathsResponse,
  topPathEvents,
} from '../query/paths.js';
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

const schema = {
  type: 'object',
  required: ['from', 'to'],
  additionalProperties: false,
  properties: {
    start: specSchema,
    end: specSchema,
    depth: { type: 'integer', minimum: 2, maximum: 10 },
    session_gap: durationSchema,
    top: { type: 'integer', minimum: 1, maximum: 100 },
    tz: { type: 'string', minLength: 1 },
    ...commonProperties,
  },
} as const;

interface PathsBody {
  start?: EventSpec;
  end?: EventSpec;
  depth?: number;
  session_gap?: string | number;
  top?: number;
  from: string;
  to: string;
  tz?: string;
  segment?: string[];
  engine?: 'index' | 'clickhouse';
}

/** POST /v1/query/paths (DESIGN §5, §6). */
export function registerPathsQuery(app: FastifyInstance, deps: AnalysisDeps): void {
  app.post<{ Body: PathsBody }>('/v1/query/paths', { schema: { body: schema } }, async (request, reply) => {
    const project = request.project;
    const body = request.body;
    if (body.start && body.end) throw invalid('end', 'give a start event or an end event, not both');
    const { from, to } = resolveRange(body.from, body.to, body.tz ?? 'UTC');
    const q: PathsQuery = {
      depth: body.depth ?? 5,
      from,
      to,
      sessionGap: parseDuration(body.session_gap ?? '30m', 'session_gap'),
      top: body.top ?? 10,
    };
    if (body.start) q.start = expandSpecs(deps, project, [body.start], 'start')[0]!;
    if (body.end) q.end = expandSpecs(deps, project, [body.end], 'end')[0]!;
    if (body.segment !== undefined) q.users = body.segment;
    const ch = clickhouseFor(deps, body.engine);
    let result: PathsResponse;
    if (ch) result = await pathsSql(ch, project, q);
    else {
      const first = await deps.engine.queryShards<PathsPartial>('paths', { ...q, project });
      const keep = topPathEvents(q, first);
      result = mergePaths(q, await deps.engine.queryShards<PathsPartial>('paths', { ...q, keep, project }));
    }
    return sendResult(request, reply, result, () => [
      ...result.nodes.map((n) => ({
        kind: 'node',
        id: n.id,
        source: null,
        target: null,
        step: n.step,
        event: n.event,
        users: n.users,
      })),
      ...result.links.map((l) => ({
        kind: 'link',
        id: null,
        source: l.source,
        target: l.target,
        step: null,
        event: null,
        users: l.users,
      })),
    ]);
  });
}
