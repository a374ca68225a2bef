import { ERROR_STATUS, type ErrorBody, type ErrorCode, WeftError } from '@weft/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Makes every error answer `{error: {code, message, details}}`: WeftErrors with their status,
 * fastify's own client errors (body too large, media type, validation, bad JSON) mapped onto the
 * same codes, anything else a logged 500. Call once on the root instance, before the routes.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request, reply) => {
    const answer = toAnswer(err, request);
    if (answer.status >= 500 && !(err instanceof WeftError)) request.log.error({ err }, 'unhandled error');
    if (answer.retryAfter !== undefined) reply.header('retry-after', String(Math.ceil(answer.retryAfter)));
    return sendError(reply, answer.status, answer.body);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, {
      error: { code: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` },
    }),
  );
}

interface Answer {
  status: number;
  body: ErrorBody;
  retryAfter?: number;
}

function sendError(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

const CODE_BY_STATUS = new Map<number, ErrorCode>(
  Object.entries(ERROR_STATUS).map(([code, status]): [number, ErrorCode] => [status, code as ErrorCode]),
);

/** The shape fastify gives its errors (FastifyError plus schema-validation extras). */
interface FrameworkError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  validation?: unknown;
  validationContext?: unknown;
}

function toAnswer(err: unknown, request: FastifyRequest): Answer {
  if (err instanceof WeftError) return { status: err.status, body: err.toBody(), retryAfter: err.retryAfter };
  const e = (typeof err === 'object' && err !== null ? err : {}) as FrameworkError;
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status < 400 || status >= 500) {
    return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
  }
  if (Array.isArray(e.validation)) {
    return validationAnswer(e.validation, String(e.validationContext ?? 'body'));
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return clientError(413, 'too_large', 'body: request body is larger than the limit', 'body');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return clientError(
        415,
        'unsupported_media_type',
        `Content-Type: ${request.headers['content-type'] ?? '(none)'} is not supported here`,
        'Content-Type',
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return clientError(400, 'invalid', 'body: JSON parse failed', 'body');
  }
  const code = CODE_BY_STATUS.get(status) ?? 'invalid';
  const message = typeof e.message === 'string' ? e.message : 'bad request';
  if (err instanceof SyntaxError)
    return clientError(status, code, `body: JSON parse failed: ${message}`, 'body');
  if (typeof e.code === 'string' && e.code.startsWith('FST_ERR_CTP_')) {
    return clientError(status, code, `body: ${message}`, 'body');
  }
  return { status, body: { error: { code, message } } };
}

function clientError(status: number, code: ErrorCode, message: string, field: string): Answer {
  return { status, body: { error: { code, message, details: { field } } } };
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: { missingProperty?: string };
}

/** Names the offending field (`events`, `opts.n`) the way WeftError reasons do. */
function validationAnswer(issues: ValidationIssue[], context: string): Answer {
  const first = issues[0] ?? {};
  const path = (first.instancePath ?? '').split('/').filter((part) => part.length > 0);
  const missing = first.params?.missingProperty;
  if (missing !== undefined) path.push(missing);
  const field = path.length > 0 ? path.join('.') : context;
  const problem = missing !== undefined ? 'is required' : (first.message ?? 'is invalid');
  return clientError(400, 'invalid', `${field}: ${problem}`, field);
}
