import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * CORS for the browser-facing collector: any origin may post events (the write key is public),
 * no cookies are involved, so the request origin is echoed without credentials.
 */
export function allowOrigin(request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  reply.header('access-control-allow-origin', origin ?? '*');
  if (origin !== undefined) reply.header('vary', 'Origin');
  reply.header('access-control-expose-headers', 'Retry-After');
}

/** Answers a preflight: browsers ask before sending JSON or msgpack with X-Write-Key. */
export function answerPreflight(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  allowOrigin(request, reply);
  return reply
    .code(204)
    .header('access-control-allow-methods', 'POST, OPTIONS')
    .header('access-control-allow-headers', 'Content-Type, X-Write-Key, Authorization')
    .header('access-control-max-age', '86400')
    .send();
}
