import { invalid, WeftError } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import type { DefinitionWriter } from '../control/definition-change.js';
import type { Definition, DefinitionStore } from '../definitions/store.js';
import type { WhereClause } from '../query/where.js';
import { definedEvent } from '../segments/defined-events.js';
import { validateWhere, whereSchema } from './query-events.js';

/** Segments counting defined events keep a definition from deletion: what reads the name, e.g. `segment seg_1`. */
export type DefinitionReaders = (project: string, name: string) => string[];

const DEFINABLE = ['$click', '$submit', '$change'] as const;

const bodySchema = {
  type: 'object',
  required: ['name', 'where'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    event: { enum: DEFINABLE },
    where: { ...whereSchema, minItems: 1 },
    description: { type: 'string', maxLength: 2000 },
  },
} as const;

interface Body {
  name: string;
  event?: (typeof DEFINABLE)[number];
  where: WhereClause[];
  description?: string;
}

function build(body: Body, previous: Definition | undefined): Definition {
  if (body.name.startsWith('$')) throw invalid('name', 'names starting with $ are reserved for Weft');
  validateWhere(body.where, 'where');
  // Segments count defined events too, with their stricter filters.
  definedEvent({ event: body.event ?? '$click', where: body.where });
  const now = Date.now();
  const def: Definition = {
    name: body.name,
    event: body.event ?? '$click',
    where: body.where,
    created_at: previous?.created_at ?? now,
    updated_at: now,
  };
  if (body.description !== undefined) def.description = body.description;
  return def;
}

function notFound(name: string): WeftError {
  return new WeftError('not_found', `name: no definition "${name}"`, { field: 'name' });
}

/** CRUD for defined events (the visual definition mode of sdk-web posts here). */
export function registerDefinitionRoutes(
  app: FastifyInstance,
  store: DefinitionStore,
  readers: DefinitionReaders,
  /** Stores definitions; segments counting one then count what it stands for. */
  writer: DefinitionWriter,
): void {
  app.post<{ Body: Body }>('/v1/definitions', { schema: { body: bodySchema } }, async (request, reply) => {
    if (store.get(request.project, request.body.name)) {
      throw new WeftError('conflict', `name: a definition "${request.body.name}" exists; PUT to replace it`, {
        field: 'name',
      });
    }
    const def = build(request.body, undefined);
    await writer.write({ type: 'event', project: request.project, definition: def });
    reply.code(201);
    return def;
  });

  app.put<{ Params: { name: string }; Body: Body }>(
    '/v1/definitions/:name',
    { schema: { body: bodySchema } },
    async (request) => {
      if (request.body.name !== request.params.name) throw invalid('name', 'must equal the name in the path');
      const def = build(request.body, store.get(request.project, request.params.name));
      await writer.write({ type: 'event', project: request.project, definition: def });
      return def;
    },
  );

  app.get('/v1/definitions', async (request) => ({ definitions: store.list(request.project) }));

  app.get<{ Params: { name: string } }>('/v1/definitions/:name', async (request) => {
    const def = store.get(request.project, request.params.name);
    if (!def) throw notFound(request.params.name);
    return def;
  });

  app.delete<{ Params: { name: string } }>('/v1/definitions/:name', async (request, reply) => {
    const { name } = request.params;
    if (!store.get(request.project, name)) throw notFound(name);
    const using = readers(request.project, name);
    if (using.length > 0) {
      throw new WeftError(
        'conflict',
        `name: ${using.join(', ')} count${using.length === 1 ? 's' : ''} "${name}"`,
        {
          field: 'name',
          readers: using,
        },
      );
    }
    await writer.write({ type: 'event-deleted', project: request.project, name });
    reply.code(204);
  });
}
