import { type KeyResolver, WeftError } from '@weft/core';
import type { FastifyRequest } from 'fastify';

/** The project of the `Authorization: Bearer <secret key>` of a request; throws 401 (403 for a write key). */
export function requireSecret(request: FastifyRequest, keys: KeyResolver): string {
  const token = credentials(request.headers.authorization, 'bearer');
  if (token === undefined) {
    throw new WeftError('unauthorized', 'missing secret key: send Authorization: Bearer <secret key>');
  }
  const project = keys.projectForSecretKey(token);
  if (project !== undefined) return project;
  if (keys.projectForWriteKey(token) !== undefined) {
    throw new WeftError('forbidden', 'a write key cannot be used here: send the secret key');
  }
  throw new WeftError('unauthorized', 'unknown secret key');
}

/** The write key of an ingest request: the X-Write-Key header, else the HTTP Basic username (Segment convention). */
export function writeKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-write-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key !== undefined && key.length > 0) return key;
  const basic = credentials(request.headers.authorization, 'basic');
  if (basic === undefined) return undefined;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = colon === -1 ? decoded : decoded.slice(0, colon);
  return user.length > 0 ? user : undefined;
}

/** The credentials after `scheme ` in an Authorization header (scheme compared case-insensitively). */
function credentials(header: string | undefined, scheme: string): string | undefined {
  if (header === undefined || header.length <= scheme.length + 1) return undefined;
  if (header.charCodeAt(scheme.length) !== 32 || header.slice(0, scheme.length).toLowerCase() !== scheme) {
    return undefined;
  }
  const value = header.slice(scheme.length + 1).trim();
  return value.length > 0 ? value : undefined;
}
