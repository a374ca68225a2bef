import { tableFromJSON, tableToIPC } from 'apache-arrow';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

export type ResultRow = Record<string, string | number | boolean | null>;

/**
 * Answers with JSON, or with an Arrow IPC stream of `rows()` when the client accepts
 * `application/vnd.apache.arrow.stream` (one table; nested results are flattened to rows).
 * An empty result is a stream with a schema-less empty table.
 */
export function sendResult(
  request: FastifyRequest,
  reply: FastifyReply,
  result: object,
  rows: () => ResultRow[],
): FastifyReply {
  if ((request.headers.accept ?? '').includes(ARROW_STREAM)) {
    const bytes = tableToIPC(tableFromJSON(rows()), 'stream');
    return reply.type(ARROW_STREAM).send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
  return reply.send(result);
}
