import type { FastifyInstance } from 'fastify';
import type { IngestDeps } from '../types.js';
import { batchRoutes } from './batch-route.js';
import { importRoutes } from './import-route.js';

/** Registers POST /v1/batch (with its CORS preflight) and POST /v1/import, each in its own scope. */
export function registerIngestRoutes(app: FastifyInstance, deps: IngestDeps): void {
  app.register(async (scope) => batchRoutes(scope, deps));
  app.register(async (scope) => importRoutes(scope, deps));
}
