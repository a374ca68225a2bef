import Fastify, { type FastifyInstance } from 'fastify';

export interface BareServer {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * The baseline: a bare fastify server with one route that JSON-parses the batch with fastify's
 * default parser and answers the same shape as Weft, without validation, storage or indexing.
 */
export async function startBare(host: string, bodyLimit: number): Promise<BareServer> {
  const app = Fastify({ logger: false, bodyLimit });
  app.post<{ Body: { events?: unknown[] } }>('/v1/batch', async (request) => {
    const events = request.body?.events;
    return { accepted: Array.isArray(events) ? events.length : 0, rejected: [] };
  });
  const address = await app.listen({ host, port: 0 });
  return { url: address, app, close: () => app.close() };
}
