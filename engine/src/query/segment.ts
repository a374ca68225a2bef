import type { ProjectIndex } from '../index/project-index.js';
import { RoaringBitmap32 } from '../index/roaring.js';

/**
 * The user numbers of a segment on this shard, or null for "everyone". A segment is a list
 * of distinct ids for now; aliases resolve to their person, as everywhere in the index.
 */
export function segmentUsers(
  index: ProjectIndex,
  ids: readonly string[] | undefined,
): RoaringBitmap32 | null {
  if (!ids) return null;
  const set = new RoaringBitmap32();
  for (const id of ids) {
    const n = index.ids.get(id);
    if (n !== undefined) set.add(n);
  }
  return set;
}
