import type { Properties } from '@weft/core';
import { WeftError } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine.js';
import type { StoredEvent } from '../index/project-index.js';
import type { SegmentStore } from '../segments/store.js';

/** A shard's answer for one user (DESIGN §6: profile, tags, segments). */
interface UserSummary {
  properties: Properties;
  event_count: number;
  first_seen: number | null;
  last_seen: number | null;
  tags: Record<string, string | null>;
  segments: string[];
}

/** Asks every shard, since an identify may have moved the id; only the shard that owns it answers. */
async function askOwner<T>(
  engine: Engine,
  kind: 'timeline' | 'user',
  project: string,
  distinctId: string,
): Promise<T> {
  const answers = await engine.queryShards<T | null>(kind, { project, distinctId });
  const found = answers.find((a) => a !== null);
  if (!found) {
    throw new WeftError('not_found', `distinct_id: no events for "${distinctId}"`, { field: 'distinct_id' });
  }
  return found;
}

/**
 * The user's tags as segments read them: manual tags with their values, and each rule tag
 * (no value) whose segment the user is in; a rule tag hides a manual tag of the same name.
 */
function tagsOf(summary: UserSummary, rules: Record<string, string>): Record<string, string | null> {
  const tags = { ...summary.tags };
  for (const [tag, segment] of Object.entries(rules)) {
    if (summary.segments.includes(segment)) tags[tag] = null;
    else delete tags[tag];
  }
  return tags;
}

export function registerUserRoutes(app: FastifyInstance, engine: Engine, store: SegmentStore): void {
  app.get<{ Params: { distinct_id: string } }>('/v1/users/:distinct_id/timeline', async (request) => {
    const events = await askOwner<StoredEvent[]>(
      engine,
      'timeline',
      request.project,
      request.params.distinct_id,
    );
    return {
      distinct_id: request.params.distinct_id,
      events: events.map((e) => {
        const out: Record<string, unknown> = { event: e.event, time: e.time, properties: e.properties };
        if (e.session_id !== undefined) out.session_id = e.session_id;
        return out;
      }),
    };
  });

  app.get<{ Params: { distinct_id: string } }>('/v1/users/:distinct_id', async (request) => {
    const distinctId = request.params.distinct_id;
    const summary = await askOwner<UserSummary>(engine, 'user', request.project, distinctId);
    return { distinct_id: distinctId, ...summary, tags: tagsOf(summary, store.rules(request.project)) };
  });
}
