import { IDENTIFY_EVENT } from '@weft/core';
import {
  evaluatePlan,
  evaluateUser,
  nextChangeAt,
  type Plan,
  type PlanDependencies,
  planDependencies,
  planLeaves,
  type SegmentMode,
} from '@weft/segments';
import type { PendingChanges, ProjectIndex } from '../index/project-index.js';
import { RoaringBitmap32 } from '../index/roaring.js';
import { EventCatalog } from './event-catalog.js';
import { ExpiryQueue } from './expiry-queue.js';
import { IndexUserFacts } from './index-facts.js';
import { IndexSetSource, type SegmentContext } from './index-source.js';
import { ProfileIndex } from './profile-index.js';
import type { SegmentChange, ShardSegmentDef, TagHistoryEntry } from './protocol.js';
import { readTagChange, TAG_EVENT, TAG_SOURCE_PROP, tagMac } from './tag-events.js';
import { TagStore } from './tag-store.js';

/** Where the time comes from: the wall clock in the server, a controllable one in tests. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

interface Maintained {
  id: string;
  mode: SegmentMode;
  plan: Plan | undefined;
  deps: PlanDependencies | undefined;
  /** Segments this one reads (references and rule tags), resolved when the order is rebuilt. */
  refs: Maintained[];
  members: RoaringBitmap32;
  /** Rolling segments: user -> the time its membership may next change. */
  scheduled: Map<number, number>;
  /** Static segments: uploaded ids this shard has not seen yet. */
  unresolved: Set<string>;
  /** The pass of reevaluate() in which this segment's membership last changed. */
  changedIn: number;
}

/**
 * The segment state of one project on one shard: profile and tag bitmaps, and the members of
 * every segment. Realtime segments change on the event that causes it — only for the user
 * and only for segments the event can affect (planDependencies) — and, for rolling windows,
 * when a window slides past an event (an expiry queue fed by nextChangeAt). Segments that
 * read other segments are evaluated after them, in one pass per user.
 */
export class ProjectSegments implements SegmentContext {
  readonly profiles = new ProfileIndex();
  readonly tags = new TagStore();
  readonly eventCatalog: EventCatalog;
  readonly source: IndexSetSource;
  readonly facts: IndexUserFacts;
  private readonly byId = new Map<string, Maintained>();
  /** Every segment, referenced ones before those that read them. */
  private order: Maintained[] = [];
  private realtime = 0;
  private rules = new Map<string, string>();
  private readonly expiry = new ExpiryQueue<{ seg: Maintained; user: number }>();
  private pass = 0;
  /** How far resolveNewIds read the index's new ids (of which pending batch). */
  private seenIdsOf: PendingChanges;
  private seenIds: number;
  private seenPending: PendingChanges;
  private seenRemaps: number;

  constructor(
    readonly index: ProjectIndex,
    private readonly clock: Clock,
    private readonly tagKey: () => Buffer,
    private readonly emit: (change: SegmentChange) => void,
  ) {
    this.eventCatalog = new EventCatalog(index);
    this.source = new IndexSetSource(this);
    this.facts = new IndexUserFacts(this);
    this.seenIdsOf = index.pending;
    this.seenIds = index.pending.newIds.length;
    this.seenPending = index.pending;
    this.seenRemaps = index.pending.remaps.length;
    this.rebuild();
  }

  /** Profile and tag bitmaps from what the index holds (after loading a snapshot). */
  private rebuild(): void {
    const { index } = this;
    for (let u = 0; u < index.profiles.length; u++) this.profiles.update(u, index.profiles[u]);
    const ev = index.values.find(TAG_EVENT);
    const days = ev < 0 ? undefined : index.eventDays.get(ev);
    if (!days) return;
    const rows: number[] = [];
    for (const slot of days.values())
      for (let i = 0; i < slot.rows.length; i++) rows.push(slot.rows.data[i]!);
    // Rows are numbered in apply order, which is the order the changes happened in.
    rows.sort((a, b) => a - b);
    for (const r of rows) this.applyTagRow(r, index.user.data[r]!);
  }

  members(id: string): RoaringBitmap32 | undefined {
    return this.byId.get(id)?.members;
  }

  ruleSegment(tag: string): string | undefined {
    return this.rules.get(tag);
  }

  /** Ids of the segments a user is a member of. */
  memberOf(user: number): string[] {
    return this.order.filter((s) => s.members.has(user)).map((s) => s.id);
  }

  /** The index applied one event of `user` (apply-record's observer); keeps everything current. */
  afterEvent(user: number, ev: number, profileChanged: boolean): void {
    const index = this.index;
    const name = index.values.get(ev) as string;
    if (profileChanged) this.profiles.update(user, index.profiles[user]);
    let tag: string | undefined;
    if (name === TAG_EVENT) tag = this.applyTagRow(index.rowCount - 1, user);
    else if (name === IDENTIFY_EVENT) this.followMerges();
    this.resolveNewIds();
    if (this.realtime === 0) return;
    this.trigger.event = name;
    this.trigger.profileChanged = profileChanged;
    this.trigger.tag = tag;
    this.reevaluate(user, this.affectedByTrigger);
  }

  /** The event being applied, read by affectedByTrigger (no closure per event on the ingest path). */
  private readonly trigger: { event: string; profileChanged: boolean; tag: string | undefined } = {
    event: '',
    profileChanged: false,
    tag: undefined,
  };

  private readonly affectedByTrigger = (s: Maintained): boolean => {
    const deps = s.deps!;
    const t = this.trigger;
    return (
      deps.events.has(t.event) ||
      (t.profileChanged && deps.properties.size > 0) ||
      (t.tag !== undefined && deps.tags.has(t.tag))
    );
  };

  /** Applies the tag change of a `$tag` row if its signature holds; returns the tag. */
  private applyTagRow(row: number, user: number): string | undefined {
    const change = this.verifiedTagChange(row, user);
    if (!change) return undefined;
    if (change.op === 'add') this.tags.add(user, change.tag, change.value);
    else this.tags.remove(user, change.tag);
    return change.tag;
  }

  /** The change a `$tag` row carries, when it is signed and names the row's user. */
  private verifiedTagChange(row: number, user: number): ReturnType<typeof readTagChange> {
    const index = this.index;
    const change = readTagChange((prop) => {
      const key = index.values.find(prop);
      const id = key < 0 ? -1 : index.propValueId(row, key);
      return id < 0 ? undefined : index.values.get(id);
    });
    if (!change || index.ids.get(change.user) !== user) return undefined;
    return tagMac(this.tagKey(), change.user, index.time.data[row]!, change) === change.mac
      ? change
      : undefined;
  }

  /** Identity merges since the last look (pending.remaps): user `from` became part of `to`. */
  private followMerges(): void {
    const pending = this.index.pending;
    if (pending !== this.seenPending) {
      this.seenPending = pending;
      this.seenRemaps = 0;
    }
    while (this.seenRemaps < pending.remaps.length) {
      const [from, to] = pending.remaps[this.seenRemaps++]!;
      this.tags.move(from, to);
      this.profiles.clear(from);
      this.profiles.update(to, this.index.profiles[to]);
      for (const seg of this.order) {
        if (!seg.members.remove(from)) continue;
        // Static lists name ids, and the merged user still answers to the listed one.
        if (seg.mode === 'static') seg.members.add(to);
      }
      if (this.realtime > 0) this.reevaluate(to, () => true);
    }
  }

  /**
   * Uploaded lists may name ids before they are seen. New ids include aliases (an `$identify`
   * linking an anonymous id and a login id), so a list naming either one gets the person.
   */
  private resolveNewIds(): void {
    const pending = this.index.pending;
    if (pending !== this.seenIdsOf) {
      this.seenIdsOf = pending;
      this.seenIds = 0;
    }
    const ids = pending.newIds;
    while (this.seenIds < ids.length) {
      const [id, user] = ids[this.seenIds++]!;
      for (const seg of this.order) {
        if (seg.unresolved.size === 0 || !seg.unresolved.delete(id) || seg.members.has(user)) continue;
        seg.members.add(user);
        this.entered(seg, user);
      }
    }
  }

  /**
   * A user moved here from another shard (identity), or its ids arrived ahead of it: its tags
   * come back from its `$tag` rows, and a person one of its ids had here merged into it.
   */
  movedIn(distinctId: string): void {
    const index = this.index;
    const user = index.ids.get(distinctId);
    if (user === undefined) return;
    this.followMerges();
    this.profiles.update(user, index.profiles[user]);
    const ev = index.values.find(TAG_EVENT);
    if (ev >= 0) {
      const events = index.event.data;
      for (const r of index.userRows(user)) if (events[r] === ev) this.applyTagRow(r, user);
    }
    this.resolveNewIds();
    if (this.realtime > 0) this.reevaluate(user, () => true);
  }

  /** A user is about to move to another shard: it leaves this shard's state without exit events. */
  evicting(distinctId: string): void {
    const user = this.index.ids.get(distinctId);
    if (user === undefined) return;
    this.tags.drop(user);
    this.profiles.clear(user);
    for (const seg of this.order) {
      seg.members.remove(user);
      seg.scheduled.delete(user);
    }
  }

  /**
   * Adds or replaces segments (in the given order, which puts referenced ones first). A
   * replaced segment reports who entered and left it, and every realtime segment reading it,
   * directly or through others and rule tags, is recomputed and reports too.
   */
  define(defs: readonly ShardSegmentDef[]): void {
    const now = this.clock.now();
    const existing = new Set(this.byId.values());
    const replaced = new Map<Maintained, RoaringBitmap32>();
    const added = new Set<Maintained>();
    for (const def of defs) {
      const previous = this.byId.get(def.id);
      const seg: Maintained = {
        id: def.id,
        mode: def.mode,
        plan: def.plan,
        deps: def.plan && planDependencies(def.plan),
        refs: [],
        members: new RoaringBitmap32(),
        scheduled: new Map(),
        unresolved: new Set(),
        changedIn: 0,
      };
      if (def.mode === 'static') {
        for (const id of def.members ?? []) {
          const user = this.index.ids.get(id);
          if (user === undefined) seg.unresolved.add(id);
          else seg.members.add(user);
        }
      } else {
        // Clone: evaluation may hand back a bitmap an index keeps.
        seg.members = evaluatePlan(def.plan!, this.source, now).bits.clone();
      }
      this.byId.set(def.id, seg);
      this.reorder();
      if (seg.mode === 'realtime' && seg.deps!.rolling) this.scheduleAll(seg, now);
      if (previous) replaced.set(seg, previous.members);
      else added.add(seg);
    }
    // A segment defined earlier may read one added only now (through a rule tag), as empty so far.
    this.refresh(replaced, (s) => existing.has(s) && s.refs.some((r) => added.has(r)), now);
  }

  delete(id: string): boolean {
    const seg = this.byId.get(id);
    if (!seg) return false;
    this.byId.delete(id);
    this.reorder();
    return true;
  }

  /**
   * Replaces the rule tags; realtime segments reading a tag whose rule changed are recomputed,
   * and so are those reading them, reporting who entered and left.
   */
  setRules(rules: Record<string, string>): void {
    const before = this.rules;
    this.rules = new Map(Object.entries(rules));
    this.reorder();
    const changed = new Set(
      [...before.keys(), ...this.rules.keys()].filter((t) => before.get(t) !== this.rules.get(t)),
    );
    if (changed.size === 0) return;
    this.refresh(new Map(), (seg) => [...seg.deps!.tags].some((t) => changed.has(t)), this.clock.now());
  }

  /**
   * Brings segments up to date after a change that per-user evaluation did not see, in
   * reading order: those in `before` already hold their new members (before maps them to the
   * old), realtime ones that are `stale` or read a segment whose members moved are
   * recomputed. Each reports its entries and exits.
   */
  private refresh(
    before: ReadonlyMap<Maintained, RoaringBitmap32>,
    stale: (seg: Maintained) => boolean,
    now: number,
  ): void {
    const moved = new Set<Maintained>();
    for (const seg of this.order) {
      const recompute = seg.mode === 'realtime' && (stale(seg) || seg.refs.some((r) => moved.has(r)));
      const old = before.get(seg) ?? seg.members;
      if (!recompute && !before.has(seg)) continue;
      if (recompute) seg.members = evaluatePlan(seg.plan!, this.source, now).bits.clone();
      if (this.report(seg, old, seg.members).size > 0) moved.add(seg);
    }
  }

  /** Emits entries and exits between two member sets; returns the users who moved. */
  private report(seg: Maintained, before: RoaringBitmap32, after: RoaringBitmap32): RoaringBitmap32 {
    const entered = RoaringBitmap32.andNot(after, before);
    const left = RoaringBitmap32.andNot(before, after);
    for (const u of entered) this.entered(seg, u);
    for (const u of left) this.left(seg, u);
    return RoaringBitmap32.or(entered, left);
  }

  /** Recomputes a (scheduled) segment now and reports who entered and left; returns its size. */
  run(id: string): number | undefined {
    const seg = this.byId.get(id);
    if (!seg?.plan) return seg?.members.size;
    const next = evaluatePlan(seg.plan, this.source, this.clock.now()).bits.clone();
    const moved = this.report(seg, seg.members, next);
    seg.members = next;
    if (this.realtime > 0) for (const u of moved) this.reevaluate(u, (s) => s.refs.includes(seg));
    return next.size;
  }

  /** Re-evaluates users whose rolling windows slid past an event by `now`. */
  tick(now = this.clock.now()): void {
    while (this.expiry.peek() <= now) {
      this.expiry.pop((at, { seg, user }) => {
        if (this.byId.get(seg.id) !== seg || seg.scheduled.get(user) !== at) return;
        seg.scheduled.delete(user);
        this.reevaluate(user, (s) => s === seg, now);
      });
    }
  }

  /**
   * One pass over the realtime segments for one user: those `seeded` and those reading a
   * segment whose membership changed earlier in the pass are evaluated.
   */
  private reevaluate(user: number, seeded: (seg: Maintained) => boolean, now = this.clock.now()): void {
    const pass = ++this.pass;
    const facts = this.facts.of(user);
    for (const seg of this.order) {
      if (seg.mode !== 'realtime') continue;
      if (!seeded(seg) && !seg.refs.some((r) => r.changedIn === pass)) continue;
      const is = evaluateUser(seg.plan!, facts, now);
      if (seg.deps!.rolling) this.schedule(seg, user, now);
      if (is === seg.members.has(user)) continue;
      seg.changedIn = pass;
      if (is) {
        seg.members.add(user);
        this.entered(seg, user);
      } else {
        seg.members.remove(user);
        this.left(seg, user);
      }
    }
  }

  private entered(seg: Maintained, user: number): void {
    const at = this.clock.now();
    this.emit({
      project: this.index.project,
      segment: seg.id,
      distinct_id: this.index.names[user]!,
      change: 'entry',
      at,
    });
  }

  private left(seg: Maintained, user: number): void {
    const at = this.clock.now();
    this.emit({
      project: this.index.project,
      segment: seg.id,
      distinct_id: this.index.names[user]!,
      change: 'exit',
      at,
    });
  }

  private schedule(seg: Maintained, user: number, now: number): void {
    const at = nextChangeAt(seg.plan!, this.facts.of(user), now);
    if (at === undefined) {
      seg.scheduled.delete(user);
      return;
    }
    if (seg.scheduled.get(user) === at) return;
    seg.scheduled.set(user, at);
    this.expiry.push(at, { seg, user });
  }

  /** Schedules every user with an event inside (or after) one of the segment's rolling windows. */
  private scheduleAll(seg: Maintained, now: number): void {
    const candidates = new RoaringBitmap32();
    for (const leaf of planLeaves(seg.plan!)) {
      if (leaf.kind !== 'did' || leaf.window.kind !== 'rolling') continue;
      const ev = this.index.values.find(leaf.event);
      const days = ev < 0 ? undefined : this.index.eventDays.get(ev);
      if (!days) continue;
      const firstDay = Math.floor((now - leaf.window.ms) / 86_400_000);
      for (const [day, slot] of days) if (day >= firstDay) candidates.orInPlace(slot.users);
    }
    for (const user of candidates) this.schedule(seg, user, now);
  }

  /** Orders segments so each comes after those it reads; resolves references and rule tags. */
  private reorder(): void {
    const order: Maintained[] = [];
    const placed = new Set<Maintained>();
    const place = (seg: Maintained, depth: number): void => {
      if (placed.has(seg) || depth > this.byId.size) return;
      const refIds = [...(seg.deps?.segments ?? [])];
      for (const tag of seg.deps?.tags ?? []) {
        const rule = this.rules.get(tag);
        if (rule !== undefined) refIds.push(rule);
      }
      seg.refs = refIds.map((id) => this.byId.get(id)).filter((s): s is Maintained => s !== undefined);
      for (const ref of seg.refs) place(ref, depth + 1);
      placed.add(seg);
      order.push(seg);
    };
    for (const seg of this.byId.values()) place(seg, 0);
    this.order = order;
    this.realtime = order.filter((s) => s.mode === 'realtime').length;
  }

  /** Verified tag changes of one tag, newest first. */
  tagHistory(tag: string, limit: number): TagHistoryEntry[] {
    const index = this.index;
    const ev = index.values.find(TAG_EVENT);
    const days = ev < 0 ? undefined : index.eventDays.get(ev);
    const out: TagHistoryEntry[] = [];
    if (!days) return out;
    const source = index.values.find(TAG_SOURCE_PROP);
    for (const slot of days.values()) {
      for (let i = 0; i < slot.rows.length; i++) {
        const r = slot.rows.data[i]!;
        const change = this.verifiedTagChange(r, index.user.data[r]!);
        if (change?.tag !== tag) continue;
        const sourceId = source < 0 ? -1 : index.propValueId(r, source);
        out.push({
          distinct_id: change.user,
          op: change.op,
          value: change.value,
          source: sourceId < 0 ? null : String(index.values.get(sourceId)),
          time: index.time.data[r]!,
        });
      }
    }
    return out.sort((a, b) => b.time - a.time).slice(0, limit);
  }
}
