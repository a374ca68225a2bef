/**
 * 32-bit FNV-1a over UTF-16 code units. Used for shard routing and sticky assignment,
 * so it must never change: shards and A/B buckets depend on it across restarts.
 */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard owning a routing key (project + distinct id). */
export function shardOf(project: string, distinctId: string, shards: number): number {
  if (shards === 1) return 0;
  return fnv1a(distinctId, fnv1a(project)) % shards;
}
