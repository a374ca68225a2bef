import { invalid } from '@weft/core';
import type { FastifyInstance } from 'fastify';
import type { Engine } from '../engine.js';
import { decodePeer, encodePeer, PEER_CONTENT_TYPE, type PeerRequest } from '../kafka/peer-wire.js';
import { QUERY_KINDS, type QueryKind } from '../workers/protocol.js';

function checkRequest(body: unknown): PeerRequest {
  const r = body as Partial<PeerRequest> | null;
  if (typeof r !== 'object' || r === null) throw invalid('body', 'expected a peer request');
  if (!QUERY_KINDS.includes(r.kind as QueryKind)) throw invalid('kind', 'unknown query kind');
  if (r.only !== undefined && !(Number.isInteger(r.only) && r.only >= 0))
    throw invalid('only', 'expected a partition');
  if (!Array.isArray(r.minOffsets) || !r.minOffsets.every((o) => typeof o === 'number'))
    throw invalid('minOffsets', 'expected offsets');
  if (!Number.isInteger(r.definitions)) throw invalid('definitions', 'expected an offset');
  return r as PeerRequest;
}

/**
 * Kafka mode: another engine process asks this one for the partials of the partitions it
 * owns; the asker merges them with its own. They are computed once this process applied
 * every definition change the asker had (`caughtUp`), so a segment just defined there is
 * known here. Secret-key scope: partials reveal user data.
 */
export function registerPeerRoute(
  app: FastifyInstance,
  engine: Engine,
  caughtUp: (definitions: number) => Promise<void>,
): void {
  // A plugin of its own, so its body parser does not leak into other routes.
  app.register(async (scope) => {
    scope.addContentTypeParser(PEER_CONTENT_TYPE, { parseAs: 'buffer' }, (_req, body, done) => {
      try {
        done(null, decodePeer(body as Buffer));
      } catch {
        done(invalid('body', 'not a peer request'), undefined);
      }
    });
    scope.post<{ Body: unknown }>('/v1/internal/shards', async (request, reply) => {
      const { kind, args, only, minOffsets, definitions } = checkRequest(request.body);
      if (definitions > 0) await caughtUp(definitions);
      const answers = await engine.localAnswers(kind, args, only, minOffsets);
      return reply.type(PEER_CONTENT_TYPE).send(encodePeer(answers));
    });
  });
}
