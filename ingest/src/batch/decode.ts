import { WeftError } from '@weft/core';
import { unpack } from 'msgpackr';
import type { BodyFormat } from '../types.js';

/** Parses a batch body; anything undecodable is a 400 that says which parser failed. */
export function decodeBody(bytes: Uint8Array, format: BodyFormat): unknown {
  if (format === 'msgpack') {
    try {
      return unpack(bytes);
    } catch (err) {
      throw parseFailed('msgpack', err);
    }
  }
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw parseFailed('JSON', err);
  }
}

function parseFailed(parser: string, err: unknown): WeftError {
  const why = err instanceof Error ? err.message : String(err);
  return new WeftError('invalid', `body: ${parser} parse failed: ${why}`, { field: 'body' });
}
