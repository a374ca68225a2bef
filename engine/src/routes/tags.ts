import { randomUUID } from 'node:crypto';
import { WeftError, type WeftEvent } from '@weft/core';
import { type Condition, type Issue, parseCondition, type RuleLookup } from '@weft/segments';
import type { FastifyInstance } from 'fastify';
import type { DefinitionWriter } from '../control/definition-change.js';
import type { Engine } from '../engine.js';
import type { TagHistoryEntry } from '../segments/protocol.js';
import { askShards } from '../segments/shard-calls.js';
import type { SegmentStore } from '../segments/store.js';
import { TAG_EVENT, type TagChange, tagEventProperties } from '../segments/tag-events.js';

export interface TagRouteDeps {
  engine: Engine;
  store: SegmentStore;
  /** Stores rule tags and brings shards up to date (on Kafka, every process's). */
  writer: DefinitionWriter;
  tagKey: Buffer;
}

const tagParams = {
  type: 'object',
  properties: { tag: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;

const usersBody = {
  type: 'object',
  required: ['distinct_ids'],
  additionalProperties: false,
  properties: {
    distinct_ids: {
      type: 'array',
      minItems: 1,
      maxItems: 10_000,
      items: { type: 'string', minLength: 1, maxLength: 200 },
    },
    value: { type: 'string', minLength: 1, maxLength: 8192 },
    source: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

interface UsersBody {
  distinct_ids: string[];
  value?: string;
  source?: string;
}

/** Publishes one signed `$tag` event per user (see tag-events.ts for why tags are events). */
async function publishTags(
  deps: TagRouteDeps,
  project: string,
  ids: string[],
  change: TagChange,
  source: string,
) {
  const time = Date.now();
  const events: WeftEvent[] = ids.map((id) => ({
    event_id: randomUUID(),
    project,
    event: TAG_EVENT,
    distinct_id: id,
    time,
    received_at: time,
    properties: tagEventProperties(deps.tagKey, id, time, change, source),
  }));
  await deps.engine.publishEvents(project, events);
  return events.length;
}

/**
 * A rule tag stands for its segment, so a segment that reads the tag (directly or through
 * others) would read itself: such a rule is refused with the cycle.
 */
function checkRuleCycle(
  store: SegmentStore,
  project: string,
  tag: string,
  id: string,
  definition: Condition,
): void {
  const context = store.context(project);
  const rules: RuleLookup = (t) => (t === tag ? id : context.rules(t));
  try {
    parseCondition(definition, { lookup: context.lookup, rules, self: id });
  } catch (err) {
    if (!(err instanceof WeftError)) throw err;
    const issues = (err.details as { issues: Issue[] }).issues;
    const cycle = issues.find((i) => i.reason.startsWith('cycle: '));
    // Only the cycle is this rule's doing; the stored definition was valid when stored.
    if (cycle) {
      throw new WeftError('invalid', `segment: segment "${id}" reads tag "${tag}" (${cycle.reason})`, {
        field: 'segment',
      });
    }
  }
}

/** Manual tags (add/remove by API or journey actions), rule tags, tag history and a user's tags and segments. */
export function registerTagRoutes(app: FastifyInstance, deps: TagRouteDeps): void {
  const { engine, store, writer } = deps;

  app.post<{ Params: { tag: string }; Body: UsersBody }>(
    '/v1/tags/:tag/users',
    { schema: { params: tagParams, body: usersBody } },
    async (request) => {
      const { tag } = request.params;
      if (store.rules(request.project)[tag] !== undefined) {
        throw new WeftError('conflict', `tag: "${tag}" is a rule tag; its members follow its segment`, {
          field: 'tag',
        });
      }
      const change: TagChange = { op: 'add', tag, value: request.body.value ?? null };
      return {
        tagged: await publishTags(
          deps,
          request.project,
          request.body.distinct_ids,
          change,
          request.body.source ?? 'api',
        ),
      };
    },
  );

  app.delete<{ Params: { tag: string }; Body: UsersBody }>(
    '/v1/tags/:tag/users',
    { schema: { params: tagParams, body: usersBody } },
    async (request) => {
      const change: TagChange = { op: 'remove', tag: request.params.tag, value: null };
      return {
        untagged: await publishTags(
          deps,
          request.project,
          request.body.distinct_ids,
          change,
          request.body.source ?? 'api',
        ),
      };
    },
  );

  app.get('/v1/tags', async (request) => {
    const project = request.project;
    const counts = new Map<string, number>();
    for (const part of await askShards<Array<[string, number]>>(engine, { op: 'tags', project })) {
      for (const [tag, n] of part) counts.set(tag, (counts.get(tag) ?? 0) + n);
    }
    const rules = store.rules(project);
    const manual = [...counts].map(([tag, users]) => ({ tag, users }));
    const ruled = Object.entries(rules).map(([tag, segment]) => ({ tag, segment }));
    return { tags: manual.sort((a, b) => a.tag.localeCompare(b.tag)), rules: ruled };
  });

  app.get<{ Params: { tag: string }; Querystring: { limit?: number } }>(
    '/v1/tags/:tag/history',
    {
      schema: {
        params: tagParams,
        querystring: {
          type: 'object',
          properties: { limit: { type: 'integer', minimum: 1, maximum: 10_000 } },
        },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const parts = await askShards<TagHistoryEntry[]>(engine, {
        op: 'tag-history',
        project: request.project,
        tag: request.params.tag,
        limit,
      });
      return {
        tag: request.params.tag,
        history: parts
          .flat()
          .sort((a, b) => b.time - a.time)
          .slice(0, limit),
      };
    },
  );

  app.put<{ Params: { tag: string }; Body: { segment: string } }>(
    '/v1/tags/:tag/rule',
    {
      schema: {
        params: tagParams,
        body: {
          type: 'object',
          required: ['segment'],
          additionalProperties: false,
          properties: { segment: { type: 'string', minLength: 1, maxLength: 200 } },
        },
      },
    },
    async (request) => {
      const project = request.project;
      const { tag } = request.params;
      const segment = store.get(project, request.body.segment);
      if (!segment) {
        throw new WeftError('invalid', `segment: no segment "${request.body.segment}"`, { field: 'segment' });
      }
      if ('definition' in segment) checkRuleCycle(store, project, tag, segment.id, segment.definition);
      await writer.write({ type: 'rule', project, tag, segment: request.body.segment });
      return { tag, segment: request.body.segment };
    },
  );

  app.delete<{ Params: { tag: string } }>(
    '/v1/tags/:tag/rule',
    { schema: { params: tagParams } },
    async (request, reply) => {
      const project = request.project;
      if (store.rules(project)[request.params.tag] === undefined) {
        throw new WeftError('not_found', `tag: "${request.params.tag}" is not a rule tag`, { field: 'tag' });
      }
      await writer.write({ type: 'rule', project, tag: request.params.tag, segment: undefined });
      reply.code(204);
    },
  );

  app.get<{ Params: { distinct_id: string } }>('/v1/users/:distinct_id/memberships', async (request) => {
    const answers = await askShards<{ tags: Record<string, string | null>; segments: string[] } | null>(
      engine,
      {
        op: 'user',
        project: request.project,
        distinctId: request.params.distinct_id,
      },
    );
    const found = answers.find((a) => a !== null);
    return {
      distinct_id: request.params.distinct_id,
      tags: found?.tags ?? {},
      segments: found?.segments ?? [],
    };
  });
}
