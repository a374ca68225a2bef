import type { FastifyInstance } from 'fastify';
import { parseImportQuery } from '../import/mapping.js';
import { runImport } from '../import/run.js';
import type { IngestDeps } from '../types.js';
import { requireSecret } from './auth.js';

/**
 * POST /v1/import (secret key). Its scope leaves the body unread so the handler can stream
 * request.raw: imports may be far larger than any body limit.
 */
export async function importRoutes(scope: FastifyInstance, deps: IngestDeps): Promise<void> {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
  scope.post('/v1/import', async (request) => {
    const project = requireSecret(request, deps.keys);
    const mapping = parseImportQuery(request.query, request.headers['content-type']);
    return runImport(request.raw, mapping, {
      project,
      receivedAt: Date.now(),
      limits: deps.limits,
      publish: (events) => deps.publishEvents(project, events),
    });
  });
}
