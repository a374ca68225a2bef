import { invalid } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import { heatmapSql } from '../clickhouse/heatmap-sql.js';
import {
  type HeatmapPartial,
  type HeatmapQuery,
  type HeatmapResponse,
  mergeHeatmap,
} from '../query/heatmap.js';
import { sendResult } from './query-arrow.js';
import { resolveRange } from './query-events.js';
import { type AnalysisDeps, clickhouseFor, commonProperties } from './query-shared.js';

const schema = {
  type: 'object',
  required: ['from', 'to'],
  additionalProperties: false,
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 8192 },
    path: { type: 'string', minLength: 1, maxLength: 8192 },
    viewport: {
      type: 'object',
      additionalProperties: false,
      properties: { min: { type: 'number', minimum: 0 }, max: { type: 'number', minimum: 0 } },
    },
    grid: { type: 'integer', minimum: 2, maximum: 500 },
    tz: { type: 'string', minLength: 1 },
    ...commonProperties,
  },
} as const;

interface HeatmapBody {
  url?: string;
  path?: string;
  viewport?: { min?: number; max?: number };
  grid?: number;
  from: string;
  to: string;
  tz?: string;
  segment?: string[];
  engine?: 'index' | 'clickhouse';
}

/** POST /v1/query/heatmap (DESIGN §5, §6). */
export function registerHeatmapQuery(app: FastifyInstance, deps: AnalysisDeps): void {
  app.post<{ Body: HeatmapBody }>(
    '/v1/query/heatmap',
    { schema: { body: schema } },
    async (request, reply) => {
      const project = request.project;
      const body = request.body;
      if ((body.url === undefined) === (body.path === undefined))
        throw invalid('url', 'give exactly one of url and path');
      const { from, to } = resolveRange(body.from, body.to, body.tz ?? 'UTC');
      const q: HeatmapQuery = { from, to, grid: body.grid ?? 50 };
      if (body.url !== undefined) q.url = body.url;
      if (body.path !== undefined) q.path = body.path;
      if (body.viewport !== undefined) q.viewport = body.viewport;
      if (body.segment !== undefined) q.users = body.segment;
      const ch = clickhouseFor(deps, body.engine);
      const result: HeatmapResponse = ch
        ? await heatmapSql(ch, project, q)
        : mergeHeatmap(
            (await deps.engine.queryShards<HeatmapPartial | null>('heatmap', { ...q, project })).filter(
              (p): p is HeatmapPartial => p !== null,
            ),
          );
      return sendResult(request, reply, result, () => [
        ...result.cells.map((c) => ({
          kind: 'cell',
          x: c.x,
          y: c.y,
          selector: null,
          depth: null,
          count: c.count,
          users: null,
          rage: null,
        })),
        ...result.elements.map((e) => ({
          kind: 'element',
          x: null,
          y: null,
          selector: e.selector,
          depth: null,
          count: e.count,
          users: e.users,
          rage: e.rage,
        })),
        ...result.scroll.map((s) => ({
          kind: 'scroll',
          x: null,
          y: null,
          selector: null,
          depth: s.depth,
          count: null,
          users: s.users,
          rage: null,
        })),
      ]);
    },
  );
}
