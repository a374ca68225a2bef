import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine.js';
import { QUERY_KINDS, type QueryKind } from '../workers/protocol.js';

const bodySchema = {
  type: 'object',
  required: ['kind', 'minOffsets'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: QUERY_KINDS },
    args: {},
    only: { type: 'integer', minimum: 0 },
    minOffsets: { type: 'array', items: { type: 'number' } },
  },
} as const;

/**
 * Kafka mode: another engine process asks this one for the partials of the partitions it
 * owns; the asker merges them with its own. Secret-key scope: partials reveal user data.
 */
export function registerPeerRoute(scope: FastifyInstance, engine: Engine): void {
  scope.post<{ Body: { kind: QueryKind; args: unknown; only?: number; minOffsets: number[] } }>(
    '/v1/internal/shards',
    { schema: { body: bodySchema } },
    async (request) => {
      const { kind, args, only, minOffsets } = request.body;
      return engine.localAnswers(kind, args, only, minOffsets);
    },
  );
}
