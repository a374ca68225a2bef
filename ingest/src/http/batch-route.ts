import { WeftError } from '@weft/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SEGMENT_CALLS, type SegmentCall } from '../segment/convert.js';
import type { BodyFormat, IngestDeps, RawBatch } from '../types.js';
import { writeKeyOf } from './auth.js';
import { allowOrigin, answerPreflight } from './cors.js';

const MSGPACK_TYPES = ['application/msgpack', 'application/x-msgpack'];
const EMPTY = new Uint8Array(0);

/**
 * POST /v1/batch. Runs in its own encapsulated scope: the body parsers here only collect bytes
 * (parsing happens in the engine's ingest worker) and must not change other routes.
 */
export async function batchRoutes(scope: FastifyInstance, deps: IngestDeps): Promise<void> {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    ['application/json', 'text/plain', ...MSGPACK_TYPES],
    { parseAs: 'buffer', bodyLimit: deps.limits.maxBodyBytes },
    (_request, body, done) => done(null, body),
  );
  scope.addHook('onRequest', async (request, reply) => allowOrigin(request, reply));
  scope.options('/v1/batch', async (request, reply) => answerPreflight(request, reply));
  scope.post('/v1/batch', { bodyLimit: deps.limits.maxBodyBytes }, async (request) =>
    deps.submitBatch(rawBatch(request)),
  );
  scope.options('/v1/segment/:call', async (request, reply) => answerPreflight(request, reply));
  scope.post<{ Params: { call: string } }>(
    '/v1/segment/:call',
    { bodyLimit: deps.limits.maxBodyBytes },
    async (request) => {
      const call = request.params.call as SegmentCall;
      if (!SEGMENT_CALLS.includes(call)) {
        throw new WeftError('not_found', `call: no Segment call "${request.params.call}"`, {
          field: 'call',
          allowed: SEGMENT_CALLS,
        });
      }
      const result = await deps.submitBatch({ ...rawBatch(request), segment: call });
      // Segment's libraries only look at the status; `success` is what their API answers.
      return { success: true, ...result };
    },
  );
}

function rawBatch(request: FastifyRequest): RawBatch {
  return {
    bytes: request.body instanceof Uint8Array ? request.body : EMPTY,
    format: formatOf(request.headers['content-type']),
    receivedAt: Date.now(),
    ip: request.ip,
    userAgent: request.headers['user-agent'],
    writeKey: writeKeyOf(request),
  };
}

function formatOf(contentType: string | undefined): BodyFormat {
  const type = (contentType ?? '').split(';', 1)[0].trim().toLowerCase();
  if (type === 'text/plain') return 'beacon';
  return MSGPACK_TYPES.includes(type) ? 'msgpack' : 'json';
}
