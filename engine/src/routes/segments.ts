import { parseTime, WeftError } from '@weft/core';
import {
  EnumCounter,
  NumberCollector,
  parseCondition,
  parseSegmentSpec,
  type Segment,
  type SegmentSpec,
  segmentMembersSql,
} from '@weft/segments';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DefinitionWriter } from '../control/definition-change.js';
import type { Engine } from '../engine.js';
import type { PortraitPart } from '../segments/protocol.js';
import type { RunRecorder } from '../segments/run-records.js';
import type { SegmentScheduler } from '../segments/scheduler.js';
import { askShards, projectCatalog, sumShards } from '../segments/shard-calls.js';
import type { SizeHistory } from '../segments/size-history.js';
import type { SegmentStore } from '../segments/store.js';

export interface SegmentRouteDeps {
  engine: Engine;
  store: SegmentStore;
  /** Stores changes and brings shards up to date (on Kafka, every process's). */
  writer: DefinitionWriter;
  history: SizeHistory;
  recorder: RunRecorder;
  scheduler: SegmentScheduler;
}

const MAX_STATIC = 5_000_000;

function notFound(id: string): WeftError {
  return new WeftError('not_found', `id: no segment "${id}"`, { field: 'id' });
}

const querySchema = {
  type: 'object',
  properties: { validate: { enum: ['strict', 'loose'] } },
} as const;

/**
 * Validates a definition (node paths in errors). `strict` (the default) also rejects events
 * and profile properties the project has never seen, and operands of the wrong type for them;
 * `loose` allows defining segments before their data arrives.
 */
async function validateSpec(
  deps: SegmentRouteDeps,
  project: string,
  body: unknown,
  mode: 'strict' | 'loose' | undefined,
  self?: string,
): Promise<SegmentSpec> {
  const catalog = mode === 'loose' ? undefined : await projectCatalog(deps.engine, project);
  return parseSegmentSpec(body, { ...deps.store.context(project), catalog, self });
}

/** Static lists arrive as text (one id per line, an optional `distinct_id` header) or a JSON list. */
function parseMembers(body: unknown): string[] {
  const ids = typeof body === 'string' ? body.split(/\r?\n/).map((l) => l.trim()) : body;
  if (!Array.isArray(ids))
    throw new WeftError('invalid', 'body: expected a list of distinct ids', { field: 'body' });
  const out = ids.filter((id, i) => !(i === 0 && id === 'distinct_id') && id !== '');
  if (out.length > MAX_STATIC) throw new WeftError('too_large', `body: more than ${MAX_STATIC} ids`);
  out.forEach((id, i) => {
    if (typeof id !== 'string' || id.length > 200) {
      throw new WeftError('invalid', `body[${i}]: a distinct id is a string of 1-200 characters`, {
        field: `body[${i}]`,
      });
    }
  });
  return [...new Set(out as string[])];
}

function csvCell(v: unknown): string {
  const text = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

async function writeMembers(
  reply: FastifyReply,
  rows: unknown[][],
  fields: string[],
  format: 'csv' | 'ndjson',
): Promise<void> {
  reply.header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
  const lines: string[] =
    format === 'csv'
      ? [['distinct_id', ...fields].map(csvCell).join(','), ...rows.map((r) => r.map(csvCell).join(','))]
      : rows.map((r) =>
          JSON.stringify(Object.fromEntries([['distinct_id', r[0]], ...fields.map((f, i) => [f, r[i + 1]])])),
        );
  reply.send(lines.length > 0 ? `${lines.join('\n')}\n` : '');
}

/** Segment CRUD, estimate, run now, members export, contains, portrait and SQL (DESIGN §6, §7). */
export function registerSegmentRoutes(app: FastifyInstance, deps: SegmentRouteDeps): void {
  const { engine, store, writer, history, recorder, scheduler } = deps;
  // A plugin of its own, so its CSV body parser does not leak into other routes.
  app.register(async (scope) => {
    scope.addContentTypeParser(['text/csv'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

    scope.post<{ Body: unknown; Querystring: { validate?: 'strict' | 'loose' } }>(
      '/v1/segments',
      { schema: { querystring: querySchema } },
      async (request, reply) => {
        const project = request.project;
        const spec = await validateSpec(deps, project, request.body, request.query.validate);
        const now = Date.now();
        const segment = {
          ...spec,
          id: `seg_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`,
          created_at: now,
          updated_at: now,
        } as Segment;
        await writer.write({ type: 'segment', project, segment });
        const size = await sumShards(engine, { op: 'size', project, id: segment.id });
        await recorder.record(project, segment.id, size, Date.now(), false);
        reply.code(201);
        return { ...segment, size };
      },
    );

    scope.put<{ Params: { id: string }; Body: unknown; Querystring: { validate?: 'strict' | 'loose' } }>(
      '/v1/segments/:id',
      { schema: { querystring: querySchema } },
      async (request) => {
        const project = request.project;
        const previous = store.get(project, request.params.id);
        if (!previous) throw notFound(request.params.id);
        const spec = await validateSpec(deps, project, request.body, request.query.validate, previous.id);
        const segment = {
          ...spec,
          id: previous.id,
          created_at: previous.created_at,
          updated_at: Date.now(),
        } as Segment;
        await writer.write({ type: 'segment', project, segment });
        return { ...segment, size: await sumShards(engine, { op: 'size', project, id: segment.id }) };
      },
    );

    scope.get('/v1/segments', async (request) => ({ segments: store.list(request.project) }));

    scope.get<{ Params: { id: string } }>('/v1/segments/:id', async (request) => {
      const project = request.project;
      const segment = store.get(project, request.params.id);
      if (!segment) throw notFound(request.params.id);
      const size = await sumShards(engine, { op: 'size', project, id: segment.id });
      return { ...segment, size, ...scheduler.runInfo(project, segment) };
    });

    scope.delete<{ Params: { id: string } }>('/v1/segments/:id', async (request, reply) => {
      const project = request.project;
      const { id } = request.params;
      if (!store.get(project, id)) throw notFound(id);
      const readers = store.readers(project, id);
      if (readers.length > 0) {
        throw new WeftError(
          'conflict',
          `id: ${readers.join(', ')} read${readers.length === 1 ? 's' : ''} segment "${id}"`,
          {
            field: 'id',
            readers,
          },
        );
      }
      await writer.write({ type: 'segment-deleted', project, id });
      reply.code(204);
    });

    scope.post<{ Body: { definition?: unknown } }>('/v1/segments/estimate', async (request) => {
      const project = request.project;
      const body = (request.body ?? {}) as { definition?: unknown };
      const definition = parseCondition(body.definition, {
        ...store.context(project),
        catalog: await projectCatalog(engine, project),
      });
      return {
        count: await sumShards(engine, { op: 'estimate', project, plan: store.compile(project, definition) }),
      };
    });

    scope.put<{ Params: { id: string }; Body: unknown }>('/v1/segments/:id/members', async (request) => {
      const project = request.project;
      const segment = store.get(project, request.params.id);
      if (!segment) throw notFound(request.params.id);
      if (segment.mode !== 'static') {
        throw new WeftError(
          'conflict',
          `id: segment "${segment.id}" is ${segment.mode}; only static segments take a list`,
          {
            field: 'id',
          },
        );
      }
      const members = parseMembers(request.body);
      await writer.write({ type: 'static-list', project, id: segment.id, members, updated_at: Date.now() });
      return {
        id: segment.id,
        uploaded: members.length,
        size: await sumShards(engine, { op: 'size', project, id: segment.id }),
      };
    });

    scope.post<{ Params: { id: string } }>('/v1/segments/:id/run', async (request) => {
      const project = request.project;
      const segment = store.get(project, request.params.id);
      if (!segment) throw notFound(request.params.id);
      const size = await sumShards(engine, { op: 'run', project, id: segment.id });
      await recorder.record(project, segment.id, size, Date.now(), true);
      return { id: segment.id, size };
    });

    scope.get<{ Params: { id: string }; Querystring: { from?: string } }>(
      '/v1/segments/:id/history',
      async (request) => {
        const project = request.project;
        const segment = store.get(project, request.params.id);
        if (!segment) throw notFound(request.params.id);
        const from = request.query.from === undefined ? 0 : parseTime(request.query.from);
        if (from === undefined)
          throw new WeftError('invalid', 'from: expected YYYY-MM-DD or an ISO time', { field: 'from' });
        return { id: segment.id, sizes: history.list(project, segment.id, from) };
      },
    );

    scope.get<{ Params: { id: string }; Querystring: { format?: 'csv' | 'ndjson'; fields?: string } }>(
      '/v1/segments/:id/members',
      {
        schema: {
          querystring: {
            type: 'object',
            properties: { format: { enum: ['csv', 'ndjson'] }, fields: { type: 'string', maxLength: 4000 } },
          },
        },
      },
      async (request, reply) => {
        const project = request.project;
        const segment = store.get(project, request.params.id);
        if (!segment) throw notFound(request.params.id);
        const fields = (request.query.fields ?? '').split(',').filter((f) => f !== '');
        const parts = await askShards<unknown[][]>(engine, {
          op: 'members',
          project,
          id: segment.id,
          fields,
        });
        await writeMembers(reply, parts.flat(), fields, request.query.format ?? 'csv');
        return reply;
      },
    );

    scope.get<{ Params: { id: string; distinct_id: string } }>(
      '/v1/segments/:id/contains/:distinct_id',
      async (request) => {
        const project = request.project;
        const segment = store.get(project, request.params.id);
        if (!segment) throw notFound(request.params.id);
        // Every shard: after an identify the id may live on another shard than its hash.
        const answers = await askShards<boolean | null>(engine, {
          op: 'contains',
          project,
          id: segment.id,
          distinctId: request.params.distinct_id,
        });
        return { member: answers.includes(true) };
      },
    );

    scope.get<{
      Params: { id: string };
      Querystring: { prop: string; kind?: 'enum' | 'numeric'; top?: number };
    }>(
      '/v1/segments/:id/portrait',
      {
        schema: {
          querystring: {
            type: 'object',
            required: ['prop'],
            properties: {
              prop: { type: 'string', minLength: 1, maxLength: 200 },
              kind: { enum: ['enum', 'numeric'] },
              top: { type: 'integer', minimum: 1, maximum: 1000 },
            },
          },
        },
      },
      async (request) => {
        const project = request.project;
        const segment = store.get(project, request.params.id);
        if (!segment) throw notFound(request.params.id);
        const { prop, top } = request.query;
        // Shards decide enum or numeric by the values they hold; ask again when they disagree.
        let parts = await askShards<PortraitPart>(engine, {
          op: 'portrait',
          project,
          id: segment.id,
          prop,
          kind: request.query.kind,
        });
        const kind =
          request.query.kind ??
          (parts.some((p) => p.kind === 'numeric' && p.numbers.length > 0) ? 'numeric' : 'enum');
        if (parts.some((p) => p.kind !== kind)) {
          parts = await askShards<PortraitPart>(engine, {
            op: 'portrait',
            project,
            id: segment.id,
            prop,
            kind,
          });
        }
        if (kind === 'numeric') {
          const numbers = new NumberCollector();
          for (const p of parts) {
            if (p.kind !== 'numeric') continue;
            for (const v of p.numbers) numbers.add(v);
            for (let i = p.numbers.length; i < p.total; i++) numbers.add(undefined);
          }
          return { prop, kind, ...numbers.result() };
        }
        const counter = new EnumCounter();
        for (const p of parts) {
          if (p.kind !== 'enum') continue;
          for (const [value, n] of p.counts) for (let i = 0; i < n; i++) counter.add(value);
          for (let i = 0; i < p.missing; i++) counter.add(undefined);
        }
        return { prop, kind, ...counter.result(top ?? 10) };
      },
    );

    scope.get<{ Params: { id: string } }>('/v1/segments/:id/sql', async (request) => {
      const project = request.project;
      const segment = store.get(project, request.params.id);
      if (!segment) throw notFound(request.params.id);
      if (segment.mode === 'static')
        throw new WeftError('conflict', `id: a static segment has no definition`, { field: 'id' });
      const sql = segmentMembersSql(
        segment.definition,
        {
          project,
          now: Date.now(),
          tables: {
            events: 'weft.events',
            profiles: 'weft.profiles',
            tags: 'weft.tags',
            members: 'weft.segment_members',
            eventPerson: 'distinct_id',
          },
        },
        store.context(project),
      );
      return { sql };
    });
  });
}
