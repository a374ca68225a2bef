import type { PropValue } from '@weft/core';
import { evaluatePlan, evaluateUser, propMatches } from '@weft/segments';
import type { ApplyObserver } from '../index/apply-record.js';
import type { ProjectIndex } from '../index/project-index.js';
import { CapLedger } from './cap-ledger.js';
import { type Clock, ProjectSegments } from './project-segments.js';
import type {
  CapAnswer,
  CatalogPart,
  DecideAnswer,
  PortraitPart,
  SegmentChange,
  SegmentRequest,
  ShardCheck,
} from './protocol.js';
import { loadTagKey } from './tag-events.js';

/** Check sets a shard keeps for decide; past it, it forgets them all and is sent them again. */
const MAX_CHECK_SETS = 1000;

export interface ShardSegmentsOptions {
  dataDir: string;
  /** The shard's own directory (caps live there). */
  shardDir: string;
  /** The shard's index of a project, created when new. */
  project(name: string): ProjectIndex;
  /** Projects loaded from the snapshot. */
  loaded: Iterable<ProjectIndex>;
  clock: Clock;
  /** Entry/exit changes, in batches. */
  publish(changes: SegmentChange[]): void;
}

/**
 * A shard's segment state across projects: observes every applied event (apply-record), keeps
 * each project's ProjectSegments current, answers the `segments` query kind, and holds the
 * frequency caps of its users.
 */
export class ShardSegments implements ApplyObserver {
  private readonly byIndex = new Map<ProjectIndex, ProjectSegments>();
  private readonly caps: CapLedger;
  /** Check sets decide calls were sent, by set name: callers repeat a few sets endlessly. */
  private readonly checkSets = new Map<string, ShardCheck[]>();
  private changes: SegmentChange[] = [];
  private key: Buffer | undefined;

  constructor(private readonly options: ShardSegmentsOptions) {
    this.caps = new CapLedger(options.shardDir);
    for (const index of options.loaded) this.of(index);
  }

  private readonly tagKey = (): Buffer => {
    this.key ??= loadTagKey(this.options.dataDir);
    return this.key;
  };

  private readonly emit = (change: SegmentChange): void => {
    if (this.changes.push(change) === 1) setImmediate(this.flush);
  };

  private readonly flush = (): void => {
    const changes = this.changes;
    this.changes = [];
    if (changes.length > 0) this.options.publish(changes);
  };

  of(index: ProjectIndex): ProjectSegments {
    let segments = this.byIndex.get(index);
    if (!segments) {
      segments = new ProjectSegments(index, this.options.clock, this.tagKey, this.emit);
      this.byIndex.set(index, segments);
    }
    return segments;
  }

  applied(index: ProjectIndex, user: number, ev: number, profileChanged: boolean): void {
    this.of(index).afterEvent(user, ev, profileChanged);
  }

  tick(): void {
    const now = this.options.clock.now();
    for (const segments of this.byIndex.values()) segments.tick(now);
  }

  persist(): void {
    this.caps.persist(this.options.clock.now());
  }

  close(): void {
    this.persist();
    this.caps.close();
  }

  query(req: SegmentRequest): unknown {
    const segments = this.of(this.options.project(req.project));
    const index = segments.index;
    switch (req.op) {
      case 'define':
        segments.define(req.segments);
        return null;
      case 'delete':
        return segments.delete(req.id);
      case 'rules':
        segments.setRules(req.rules);
        return null;
      case 'run':
        return segments.run(req.id) ?? 0;
      case 'estimate':
        return evaluatePlan(req.plan, segments.source, this.options.clock.now()).size;
      case 'size':
        return segments.members(req.id)?.size ?? 0;
      case 'contains': {
        const user = index.ids.get(req.distinctId);
        return user === undefined ? null : (segments.members(req.id)?.has(user) ?? false);
      }
      case 'members': {
        const rows: PropValue[][] = [];
        for (const user of segments.members(req.id) ?? []) {
          const profile = index.profiles[user];
          rows.push([index.names[user]!, ...req.fields.map((f) => profile?.[f] ?? null)]);
        }
        return rows;
      }
      case 'portrait':
        return this.portrait(segments, req.id, req.prop, req.kind);
      case 'catalog': {
        const part: CatalogPart = {
          events: [...index.eventDays.keys()].map((ev) => String(index.values.get(ev))),
          properties: segments.profiles.catalog(),
          eventProperties: segments.eventCatalog.read(),
        };
        return part;
      }
      case 'tags':
        return segments.tags.counts();
      case 'tag-history':
        return segments.tagHistory(req.tag, req.limit);
      case 'user': {
        const user = index.ids.get(req.distinctId);
        if (user === undefined) return null;
        return { tags: segments.tags.tagsOf(user), segments: segments.memberOf(user) };
      }
      case 'decide':
        return this.decide(segments, req);
    }
  }

  private portrait(
    segments: ProjectSegments,
    id: string,
    prop: string,
    kind: 'enum' | 'numeric' | undefined,
  ): PortraitPart {
    const index = segments.index;
    const members = segments.members(id);
    const total = members?.size ?? 0;
    if ((kind ?? (segments.profiles.isNumeric(prop) ? 'numeric' : 'enum')) === 'numeric') {
      const numbers = new Float64Array(total);
      let n = 0;
      for (const user of members ?? []) {
        const v = index.profiles[user]?.[prop];
        if (typeof v === 'number') numbers[n++] = v;
      }
      return { kind: 'numeric', total, numbers: numbers.slice(0, n) };
    }
    const counts = new Map<PropValue, number>();
    let missing = 0;
    for (const user of members ?? []) {
      const v = index.profiles[user]?.[prop];
      if (v === undefined) missing++;
      else counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    return { kind: 'enum', total, missing, counts: [...counts] };
  }

  /** All checks of one decide call for one user, in one turn of the shard (so caps are atomic). */
  private decide(segments: ProjectSegments, req: Extract<SegmentRequest, { op: 'decide' }>): DecideAnswer {
    let checks = req.checks;
    if (checks) {
      if (this.checkSets.size >= MAX_CHECK_SETS) this.checkSets.clear();
      this.checkSets.set(req.set, checks);
    } else {
      checks = this.checkSets.get(req.set);
      if (!checks) return { known: false, results: {}, unknownSet: true };
    }
    const index = segments.index;
    const user = index.ids.get(req.distinctId) ?? -1;
    if (user < 0 && req.ifKnown) return { known: false, results: {} };
    const now = this.options.clock.now();
    const facts = segments.facts.of(user);
    const results: Record<string, boolean | CapAnswer> = {};
    for (const check of checks) {
      switch (check.kind) {
        case 'segment':
          results[check.name] = facts.member(check.id);
          break;
        case 'plan':
          results[check.name] = evaluateUser(check.plan, facts, now);
          break;
        case 'prop':
          results[check.name] = propMatches(check.cond, facts.property(check.cond.prop));
          break;
        case 'cap': {
          // Keyed by the canonical id, so a user's anonymous and login ids share one cap.
          const who = `${req.project}\n${user < 0 ? req.distinctId : index.names[user]}`;
          const r = this.caps.consume(who, check.key, check.max, check.perMs, now);
          results[check.name] = { allowed: r.allowed, remaining: r.remaining, reset_at: r.resetAt };
          break;
        }
      }
    }
    return { known: user >= 0, results };
  }
}
