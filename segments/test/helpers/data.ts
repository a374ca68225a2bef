import { type Properties, type PropValue, parseTime } from '@weft/core';
import roaring from 'roaring';
import type { Condition, CountCondition } from '../../src/definition.js';
import { parseDuration } from '../../src/duration.js';
import {
  evaluatePlan,
  type SetSource,
  type TimeRange,
  type UserFacts,
  type UserSet,
} from '../../src/evaluate.js';
import type { DidLeaf, Plan, PresentPropCondition } from '../../src/plan.js';
import { propMatches, whereMatches } from '../../src/predicate.js';

const { RoaringBitmap32 } = roaring;
type Bitmap = InstanceType<typeof RoaringBitmap32>;

/** UserSet over a roaring bitmap: each operation makes a new bitmap. */
export class RoaringSet implements UserSet<RoaringSet> {
  constructor(readonly bits: Bitmap) {}
  and(other: RoaringSet): RoaringSet {
    return new RoaringSet(RoaringBitmap32.and(this.bits, other.bits));
  }
  or(other: RoaringSet): RoaringSet {
    return new RoaringSet(RoaringBitmap32.or(this.bits, other.bits));
  }
  andNot(other: RoaringSet): RoaringSet {
    return new RoaringSet(RoaringBitmap32.andNot(this.bits, other.bits));
  }
  get size(): number {
    return this.bits.size;
  }
  has(user: number): boolean {
    return this.bits.has(user);
  }
}

export interface TestEvent {
  person: string;
  event: string;
  event_id: string;
  time: number;
  properties: Properties;
}

/** Everything a segment can read, for one project. */
export interface Dataset {
  events: TestEvent[];
  profiles: Map<string, Properties>;
  /** person → tag → value (null: no value). */
  tags: Map<string, Map<string, string | null>>;
  /** Static segment lists. */
  members: Map<string, string[]>;
}

export function emptyDataset(): Dataset {
  return { events: [], profiles: new Map(), tags: new Map(), members: new Map() };
}

/** Persons of a dataset, sorted; a person's user number is its position. */
export function personsOf(data: Dataset): string[] {
  const all = new Set<string>();
  for (const e of data.events) all.add(e.person);
  for (const p of data.profiles.keys()) all.add(p);
  for (const p of data.tags.keys()) all.add(p);
  for (const list of data.members.values()) for (const p of list) all.add(p);
  return [...all].sort();
}

function propOf(props: Properties | undefined, name: string): PropValue | undefined {
  return props && Object.hasOwn(props, name) ? props[name] : undefined;
}

/** A brute-force SetSource: every leaf is a scan of the dataset. */
export class MemorySource implements SetSource<RoaringSet> {
  readonly persons: string[];
  private readonly numbers: Map<string, number>;

  constructor(
    private readonly data: Dataset,
    /** Members of referenced non-static segments, when a plan keeps references. */
    private readonly segments: Map<string, string[]> = new Map(),
  ) {
    this.persons = personsOf(data);
    this.numbers = new Map(this.persons.map((p, i) => [p, i]));
  }

  private set(persons: Iterable<string>): RoaringSet {
    const bits = new RoaringBitmap32();
    for (const p of persons) {
      const n = this.numbers.get(p);
      if (n !== undefined) bits.add(n);
    }
    return new RoaringSet(bits);
  }

  names(set: RoaringSet): string[] {
    return [...set.bits].map((n) => this.persons[n]!);
  }

  all(): RoaringSet {
    return this.set(this.persons);
  }

  prop(cond: PresentPropCondition): RoaringSet {
    return this.set(
      this.persons.filter((p) => propMatches(cond, propOf(this.data.profiles.get(p), cond.prop))),
    );
  }

  tag(tag: string, value: string | undefined): RoaringSet {
    return this.set(
      this.persons.filter((p) => {
        const v = this.data.tags.get(p)?.get(tag);
        return value === undefined ? v !== undefined : v === value;
      }),
    );
  }

  did(leaf: DidLeaf, range: TimeRange): RoaringSet {
    const counts = new Map<string, number>();
    for (const e of this.data.events) {
      if (e.event !== leaf.event || e.time < range.from || e.time >= range.to) continue;
      if (!whereMatches(leaf.where, (name) => propOf(e.properties, name))) continue;
      counts.set(e.person, (counts.get(e.person) ?? 0) + 1);
    }
    return this.set([...counts].filter(([, n]) => n >= leaf.min && n <= leaf.max).map(([p]) => p));
  }

  segment(id: string): RoaringSet {
    return this.set(this.data.members.get(id) ?? this.segments.get(id) ?? []);
  }
}

/** The decide-path view of one person of a dataset. */
export function factsOf(
  data: Dataset,
  person: string,
  segments: Map<string, string[]> = new Map(),
): UserFacts {
  return {
    property: (name) => propOf(data.profiles.get(person), name),
    tag: (name) => data.tags.get(person)?.get(name),
    member: (id) => (data.members.get(id) ?? segments.get(id) ?? []).includes(person),
    eventTimes: (leaf) =>
      data.events
        .filter(
          (e) =>
            e.person === person &&
            e.event === leaf.event &&
            whereMatches(leaf.where, (name) => propOf(e.properties, name)),
        )
        .map((e) => e.time),
  };
}

/** Members by evaluatePlan over the brute-force source, as sorted person names. */
export function planMembers(plan: Plan, data: Dataset, now: number): string[] {
  const source = new MemorySource(data);
  return source.names(evaluatePlan(plan, source, now));
}

function countOk(count: CountCondition | undefined, n: number): boolean {
  if (!count) return n >= 1;
  switch (count.op) {
    case 'eq':
      return n === count.value;
    case 'neq':
      return n !== count.value;
    case 'gt':
      return n > count.value;
    case 'gte':
      return n >= count.value;
    case 'lt':
      return n < count.value;
    case 'lte':
      return n <= count.value;
    case 'between':
      return n >= count.value[0] && n <= count.value[1];
  }
}

/**
 * The definition read literally, one person at a time, without the plan's normal form: the
 * oracle the plan, the bitmap evaluation and the SQL are all checked against.
 */
export function naiveMember(
  cond: Condition,
  person: string,
  data: Dataset,
  now: number,
  lookup: (id: string) => Condition | undefined = () => undefined,
): boolean {
  const test = (c: Condition): boolean => {
    if ('and' in c) return c.and.every(test);
    if ('or' in c) return c.or.some(test);
    if ('not' in c) return !test(c.not);
    if ('prop' in c) return propMatches(c, propOf(data.profiles.get(person), c.prop));
    if ('tag' in c) {
      const v = data.tags.get(person)?.get(c.tag);
      return c.value === undefined ? v !== undefined : v === c.value;
    }
    if ('segment' in c) {
      const def = lookup(c.segment);
      return def ? test(def) : (data.members.get(c.segment) ?? []).includes(person);
    }
    const event = 'did' in c ? c.did : c.not_did;
    let from = -Infinity;
    let to = Infinity;
    if (c.within && 'last' in c.within) {
      from = now - parseDuration(c.within.last)!;
      to = now + 1;
    } else if (c.within) {
      from = parseTime(c.within.from)!;
      to = parseTime(c.within.to)!;
    }
    const n = data.events.filter(
      (e) =>
        e.person === person &&
        e.event === event &&
        e.time >= from &&
        e.time < to &&
        whereMatches(c.where ?? [], (name) => propOf(e.properties, name)),
    ).length;
    const did = countOk(c.count, n);
    return 'did' in c ? did : !did;
  };
  return test(cond);
}
