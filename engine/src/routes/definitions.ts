import { invalid, WeftError } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import type { Definition, DefinitionStore } from '../definitions/store.js';
import type { WhereClause } from '../query/where.js';
import { definedEvent } from '../segments/defined-events.js';
import { validateWhere, whereSchema } from './query-events.js';

/** Segments counting defined events: they follow a definition's edits and keep it from deletion. */
export interface DefinitionReaders {
  /** What reads the name, e.g. `segment seg_1`; empty when nothing does. */
  readers(project: string, name: string): string[];
  /** The name was defined or redefined: what reads it now counts what it stands for. */
  changed(project: string, name: string): Promise<void>;
}

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
): void {
  app.post<{ Body: Body }>('/v1/definitions', { schema: { body: bodySchema } }, async (request, reply) => {
    if (store.get(request.project, request.body.name)) {
      throw new WeftError('conflict', `name: a definition "${request.body.name}" exists; PUT to replace it`, {
        field: 'name',
      });
    }
    const def = build(request.body, undefined);
    store.put(request.project, def);
    // Segments defined loosely may already name it.
    await readers.changed(request.project, def.name);
    reply.code(201);
    return def;
  });

  app.put<{ Params: { name: string }; Body: Body }>(
    '/v1/definitions/:name',
    { schema: { body: bodySchema } },
    async (request) => {
      if (request.body.name !== request.params.name) throw invalid('name', 'must equal the name in the path');
      const def = build(request.body, store.get(request.project, request.params.name));
      store.put(request.project, def);
      await readers.changed(request.project, def.name);
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
    const using = store.get(request.project, name) ? readers.readers(request.project, name) : [];
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
    if (!store.delete(request.project, name)) throw notFound(name);
    reply.code(204);
  });
}
