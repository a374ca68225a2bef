import { DAY_MS, dayIndex } from '@weft/core';
import type { DidLeaf, PresentPropCondition, SetSource, TimeRange } from '@weft/segments';
import { u32 } from '../index/growable.js';
import type { ProjectIndex } from '../index/project-index.js';
import { RoaringBitmap32 } from '../index/roaring.js';
import { BitmapSet } from './bitmap-set.js';
import { RowMatcher } from './event-match.js';
import type { ProfileIndex } from './profile-index.js';
import type { TagStore } from './tag-store.js';

/** What a project's segment state offers plan evaluation besides the event index. */
export interface SegmentContext {
  readonly index: ProjectIndex;
  readonly profiles: ProfileIndex;
  readonly tags: TagStore;
  /** Maintained members of a segment, undefined when unknown on this shard. */
  members(id: string): RoaringBitmap32 | undefined;
  /** The segment a rule tag stands for, undefined for a manual tag. */
  ruleSegment(tag: string): string | undefined;
}

/** Every live user of the index: numbers of merged-away and evicted users are left out. */
export function allUsers(index: ProjectIndex): RoaringBitmap32 {
  const all = RoaringBitmap32.fromRange(0, index.names.length);
  const names = index.names;
  for (let n = 0; n < names.length; n++) if (names[n] === '') all.remove(n);
  return all;
}

/**
 * Plan leaves answered from the index: did leaves from the per-(event, day) bitmaps — whole
 * days inside the range are unions, the two edge days are checked row by row, so windows are
 * exact to the millisecond — and, with filters or counts, by counting matching rows per user.
 */
export class IndexSetSource implements SetSource<BitmapSet> {
  private readonly counts = u32(1024);
  private readonly touched = u32(1024);

  constructor(private readonly ctx: SegmentContext) {}

  all(): BitmapSet {
    return new BitmapSet(allUsers(this.ctx.index));
  }

  prop(cond: PresentPropCondition): BitmapSet {
    return new BitmapSet(this.ctx.profiles.matching(cond));
  }

  tag(tag: string, value: string | undefined): BitmapSet {
    const rule = this.ctx.ruleSegment(tag);
    // Members of a rule's segment hold its tag without a value.
    if (rule !== undefined)
      return value === undefined ? this.segment(rule) : new BitmapSet(new RoaringBitmap32());
    return new BitmapSet(this.ctx.tags.users(tag, value));
  }

  segment(id: string): BitmapSet {
    return new BitmapSet(this.ctx.members(id) ?? new RoaringBitmap32());
  }

  did(leaf: DidLeaf, range: TimeRange): BitmapSet {
    const index = this.ctx.index;
    const matcher = new RowMatcher(index, leaf);
    const days = matcher.event < 0 ? undefined : index.eventDays.get(matcher.event);
    const out = new RoaringBitmap32();
    if (!days) return new BitmapSet(out);
    const firstDay = range.from === -Infinity ? -Infinity : dayIndex(range.from);
    const lastDay = range.to === Infinity ? Infinity : dayIndex(Math.ceil(range.to) - 1);
    const times = index.time.data;
    const users = index.user.data;
    const simple = leaf.where.length === 0 && leaf.min === 1 && leaf.max === Infinity;
    if (simple) {
      for (const [day, slot] of days) {
        if (day < firstDay || day > lastDay) continue;
        if (day * DAY_MS >= range.from && (day + 1) * DAY_MS <= range.to) {
          out.orInPlace(slot.users);
          continue;
        }
        const rows = slot.rows.data;
        for (let i = 0; i < slot.rows.length; i++) {
          const t = times[rows[i]!]!;
          if (t >= range.from && t < range.to) out.add(users[rows[i]!]!);
        }
      }
      return new BitmapSet(out);
    }
    // Count matching rows per user in a reused array; `touched` lists the users to report and reset.
    const counts = this.counts;
    while (counts.length < index.names.length) counts.push(0);
    const c = counts.data;
    const touched = this.touched;
    touched.length = 0;
    for (const [day, slot] of days) {
      if (day < firstDay || day > lastDay) continue;
      const rows = slot.rows.data;
      for (let i = 0; i < slot.rows.length; i++) {
        const r = rows[i]!;
        const t = times[r]!;
        if (t < range.from || t >= range.to || !matcher.whereMatches(r)) continue;
        const u = users[r]!;
        if (c[u]++ === 0) touched.push(u);
      }
    }
    for (let i = 0; i < touched.length; i++) {
      const u = touched.data[i]!;
      if (c[u]! >= leaf.min && c[u]! <= leaf.max) out.add(u);
      c[u] = 0;
    }
    return new BitmapSet(out);
  }
}
