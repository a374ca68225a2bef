import { deserialize, serialize } from 'node:v8';
import type { QueryKind } from '../workers/protocol.js';

/**
 * Kafka mode: what one engine process asks another for (the partials of the partitions it
 * owns) travels in V8's serialization, as shard messages do: plans hold Infinity (a count
 * without upper bound) and portraits Float64Arrays, which JSON loses.
 */
export const PEER_CONTENT_TYPE = 'application/x-weft-v8';

export interface PeerRequest {
  kind: QueryKind;
  args: unknown;
  only?: number;
  /** The asker's acknowledged end offset per partition. */
  minOffsets: number[];
  /** The definitions-topic offset the asker had applied. */
  definitions: number;
}

export function encodePeer(value: unknown): Buffer {
  return serialize(value);
}

export function decodePeer<T>(bytes: Uint8Array): T {
  return deserialize(bytes) as T;
}
