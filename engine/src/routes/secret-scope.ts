import type { KeyResolver } from '@weft/core';
import { requireSecret } from '@weft/ingest';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The project of the secret key, set before body validation so bad keys get 401 first. */
    project: string;
  }
}

/** Registers routes that need `Authorization: Bearer <secret>` in a scope that checks it on request. */
export async function registerSecretRoutes(
  app: FastifyInstance,
  keys: KeyResolver,
  register: (scope: FastifyInstance) => void,
): Promise<void> {
  await app.register(async (scope) => {
    scope.decorateRequest('project', '');
    scope.addHook('onRequest', async (request) => {
      request.project = requireSecret(request, keys);
    });
    register(scope);
  });
}
