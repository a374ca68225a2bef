import type { Properties } from '@weft/core';
import { WeftError } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine.js';
import type { StoredEvent } from '../index/project-index.js';

type UserView = { events: StoredEvent[]; profile: Properties } | null;

/** Asks every shard: after an identify the id may have moved, and only the owner answers. */
async function findUser(engine: Engine, project: string, distinctId: string) {
  const views = await engine.queryShards<UserView>('timeline', { project, distinctId });
  const found = views.find((v) => v !== null);
  if (!found)
    throw new WeftError('not_found', `distinct_id: no events for "${distinctId}"`, { field: 'distinct_id' });
  return found;
}

export function registerUserRoutes(app: FastifyInstance, engine: Engine): void {
  app.get<{ Params: { distinct_id: string } }>('/v1/users/:distinct_id/timeline', async (request) => {
    const project = request.project;
    const { events } = await findUser(engine, project, request.params.distinct_id);
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
    const project = request.project;
    const { events, profile } = await findUser(engine, project, request.params.distinct_id);
    return {
      distinct_id: request.params.distinct_id,
      properties: profile,
      event_count: events.length,
      first_seen: events[0]?.time ?? null,
      last_seen: events[events.length - 1]?.time ?? null,
    };
  });
}
