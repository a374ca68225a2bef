import type { ProjectIndex } from '../index/project-index.js';
import type { IdentityRow } from './insert.js';

let lastVersion = 0;

/**
 * Version of `identities` rows written now: microseconds since the epoch (the ms clock with
 * a counter below it), strictly increasing in this thread, so a later mapping of an id
 * outranks an earlier one (ReplacingMergeTree and argMax keep the highest). An id changes
 * shard only through the bus after its old shard wrote its rows, so the new shard's rows
 * are later on any clocks that agree to within a move's latency; rows from before this
 * mapping (versions in ms) rank below all of them.
 */
export function nextVersion(): number {
  const now = Date.now() * 1000;
  lastVersion = now > lastVersion ? now : lastVersion + 1;
  return lastVersion;
}

/** Appends each distinct id of `users` -> its person (the user's canonical id) to `out`, at one version. */
export function personRows(
  index: ProjectIndex,
  users: Iterable<number>,
  out: IdentityRow[] = [],
  version = nextVersion(),
): IdentityRow[] {
  for (const user of users) {
    const person = index.names[user];
    // Merged away or evicted since: its ids are another user's now, written with that one.
    if (!person) continue;
    for (const id of index.idsOf(user))
      out.push({ project: index.project, distinct_id: id, person, version });
  }
  return out;
}

/**
 * Appends the rows of the persons whose ids changed since the last call (see
 * ProjectIndex.personChanges) to `out`, or returns `out` untouched — undefined when nothing
 * changed anywhere, so the per-record call allocates nothing.
 */
export function takePersonRows(index: ProjectIndex, out?: IdentityRow[]): IdentityRow[] | undefined {
  const changed = index.personChanges;
  if (changed === undefined || changed.size === 0) return out;
  const rows = personRows(index, changed, out);
  changed.clear();
  return rows;
}

/** The whole mapping: every id of every person with more than one (anyone else is their own id). */
export function allPersonRows(index: ProjectIndex, out: IdentityRow[] = []): IdentityRow[] {
  return personRows(index, index.multiIdUsers(), out);
}
