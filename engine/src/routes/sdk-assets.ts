import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WeftError } from '@weft/core';
import type { FastifyInstance } from 'fastify';

const FILES = ['weft.min.js', 'weft-define.js', 'weft.mjs'] as const;

/**
 * Serves the browser SDK built in sdk-web/dist, so a site's script tag can point at the
 * collector itself (`<script src="http://weft:8080/sdk/weft.min.js">`). Read once at start.
 */
export function registerSdkAssets(app: FastifyInstance): void {
  const dist = fileURLToPath(new URL('../../../sdk-web/dist/', import.meta.url));
  const assets = new Map<string, Buffer>();
  for (const name of FILES) {
    try {
      assets.set(name, readFileSync(dist + name));
    } catch {
      // Not built (e.g. engine used as a library): the route answers 404 for it.
    }
  }
  app.get<{ Params: { file: string } }>('/sdk/:file', async (request, reply) => {
    const body = assets.get(request.params.file);
    if (!body) {
      throw new WeftError('not_found', `file: no SDK asset "${request.params.file}" (run npm run build)`, {
        field: 'file',
      });
    }
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .header('access-control-allow-origin', '*');
    return body;
  });
}
