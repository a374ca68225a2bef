import type { PropValue } from '@weft/core';
import type { DidLeaf, UserFacts } from '@weft/segments';
import { f64, u32 } from '../index/growable.js';
import { RowMatcher } from './event-match.js';
import type { SegmentContext } from './index-source.js';

const NOBODY = -1;

/**
 * One user's facts for per-user evaluation (realtime maintenance and decide), read straight
 * from the index: profile, tags, maintained memberships and the times of matching events from
 * the user's timeline. One instance is reused for every user (`of`), and eventTimes hands out
 * a view of a reused buffer, valid until the next call.
 */
export class IndexUserFacts implements UserFacts {
  private user = NOBODY;
  private readonly rows = u32(256);
  private readonly times = f64(256);
  /** Matchers of plan leaves seen before (decide reuses compiled plans only within a call, realtime for good). */
  private readonly matchers = new WeakMap<DidLeaf, RowMatcher>();

  constructor(private readonly ctx: SegmentContext) {}

  /** Points the facts at a user number, or at nobody (-1: a distinct id the shard has not seen). */
  of(user: number): this {
    this.user = user;
    return this;
  }

  property(name: string): PropValue | undefined {
    if (this.user === NOBODY) return undefined;
    return this.ctx.index.profiles[this.user]?.[name];
  }

  tag(name: string): string | null | undefined {
    const rule = this.ctx.ruleSegment(name);
    if (rule !== undefined) return this.member(rule) ? null : undefined;
    return this.user === NOBODY ? undefined : this.ctx.tags.valueOf(this.user, name);
  }

  member(segmentId: string): boolean {
    return this.user !== NOBODY && (this.ctx.members(segmentId)?.has(this.user) ?? false);
  }

  eventTimes(leaf: DidLeaf): Iterable<number> {
    const times = this.times;
    times.length = 0;
    if (this.user === NOBODY) return times.view();
    const index = this.ctx.index;
    let matcher = this.matchers.get(leaf);
    if (!matcher) {
      matcher = new RowMatcher(index, leaf);
      if (matcher.complete) this.matchers.set(leaf, matcher);
    }
    if (matcher.event < 0) return times.view();
    const n = index.timelines.read(this.user, this.rows);
    const rows = this.rows.data;
    const events = index.event.data;
    const time = index.time.data;
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      if (events[r] === matcher.event && matcher.whereMatches(r)) times.push(time[r]!);
    }
    return times.view();
  }
}
