import type { PropValue } from '@weft/core';

/**
 * The segment definition language of DESIGN §7: a JSON condition tree. These are the shapes
 * after validation (validate.ts builds them from untrusted JSON): every property condition
 * has its operator, operands have the types their operator needs, and times and durations
 * are kept as the client wrote them so a stored definition reads back unchanged.
 */

export type PropOp =
  | 'eq'
  | 'neq'
  | 'in'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte'
  | 'between'
  | 'contains'
  | 'set'
  | 'notset';

export const PROP_OPS: readonly PropOp[] = [
  'eq',
  'neq',
  'in',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
  'contains',
  'set',
  'notset',
];

/** The value types a catalog knows properties by. */
export type PropType = 'string' | 'number' | 'boolean';

/**
 * One property compared with operands; of the profile in a `{prop, …}` leaf, of an event in
 * `did.where`. `neq` and `notset` hold when the property is absent, every other operator
 * needs it present. Numeric operators only match numbers, `contains` only strings.
 */
// One variant per operator where they differ in meaning, so `Exclude<…, {op: 'neq'}>` works.
export type PropCondition =
  | { prop: string; op: 'eq'; value: PropValue }
  | { prop: string; op: 'neq'; value: PropValue }
  | { prop: string; op: 'in'; value: PropValue[] }
  | { prop: string; op: 'gt' | 'gte' | 'lt' | 'lte'; value: number }
  | { prop: string; op: 'between'; value: [number, number] }
  | { prop: string; op: 'contains'; value: string }
  | { prop: string; op: 'set' }
  | { prop: string; op: 'notset' };

/** A user has the tag (with this value, when given). Tag values are strings. */
export interface TagCondition {
  tag: string;
  value?: string;
}

/** Membership of another segment. */
export interface SegmentCondition {
  segment: string;
}

export type CountOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'between';

/** How many matching events; `between` is inclusive. Absent means "at least once". */
export type CountCondition =
  | { op: Exclude<CountOp, 'between'>; value: number }
  | { op: 'between'; value: [number, number] };

/**
 * `last`: a rolling window ending now (`30m`, `12h`, `7d`, `2w`); `from`/`to`: an absolute
 * range [from, to) of times as parseTime reads them (epoch s/ms, `YYYY-MM-DD`, ISO times).
 */
export type Window = { last: string } | { from: string | number; to: string | number };

/** Fields shared by `did` and `not_did`. */
export interface BehaviourFields {
  where?: PropCondition[];
  count?: CountCondition;
  within?: Window;
}

export interface DidCondition extends BehaviourFields {
  did: string;
}

/** The negation of the same `did`: with a count, "did not do it that many times". */
export interface NotDidCondition extends BehaviourFields {
  not_did: string;
}

export type Condition =
  | { and: Condition[] }
  | { or: Condition[] }
  | { not: Condition }
  | PropCondition
  | TagCondition
  | SegmentCondition
  | DidCondition
  | NotDidCondition;

export type SegmentMode = 'realtime' | 'scheduled' | 'static';

/**
 * What a client sends to create or replace a segment. Realtime segments are kept current on
 * every event and as rolling windows slide; scheduled ones are recomputed on a cron schedule
 * (5 fields, read in `tz`); static ones are an uploaded list of distinct ids.
 */
export type SegmentSpec = { name: string; description?: string } & (
  | { mode: 'realtime'; definition: Condition }
  | { mode: 'scheduled'; definition: Condition; schedule: string; tz: string }
  | { mode: 'static' }
);

/** A stored segment. */
export type Segment = SegmentSpec & { id: string; created_at: number; updated_at: number };

/** A stored segment by id (a static one has no definition), or undefined when unknown. */
export type SegmentLookup = (id: string) => { definition?: Condition } | undefined;

/**
 * A defined event: a name that stands for an event with filters (the engine's definitions,
 * e.g. the `$click`s on one button). `did`/`not_did` naming one count that event with those
 * filters added, so a definition also covers events that arrived before it was made.
 */
export interface DefinedEvent {
  event: string;
  where: PropCondition[];
}

/** The defined event a name stands for, undefined for a plain event name. */
export type DefinedEventLookup = (name: string) => DefinedEvent | undefined;

/** The segment a rule tag stands for (its members have the tag), undefined for a manual tag. */
export type RuleLookup = (tag: string) => string | undefined;

type Leaf = Exclude<Condition, { and: Condition[] } | { or: Condition[] } | { not: Condition }>;

function leaves(cond: Condition): Leaf[] {
  const out: Leaf[] = [];
  const walk = (c: Condition): void => {
    if ('and' in c) c.and.forEach(walk);
    else if ('or' in c) c.or.forEach(walk);
    else if ('not' in c) walk(c.not);
    else out.push(c);
  };
  walk(cond);
  return out;
}

/**
 * Ids of the segments a definition reads directly, in tree order, with repeats: its
 * `{segment}` leaves and, given `rules`, the segments behind the rule tags it reads.
 */
export function segmentReferences(cond: Condition, rules?: RuleLookup): string[] {
  const ids: string[] = [];
  for (const leaf of leaves(cond)) {
    if ('segment' in leaf) ids.push(leaf.segment);
    else if ('tag' in leaf && rules) {
      const rule = rules(leaf.tag);
      if (rule !== undefined) ids.push(rule);
    }
  }
  return ids;
}

/** Event names the `did`/`not_did` leaves of a definition name, in tree order, with repeats. */
export function eventReferences(cond: Condition): string[] {
  return leaves(cond).flatMap((leaf) =>
    'did' in leaf ? [leaf.did] : 'not_did' in leaf ? [leaf.not_did] : [],
  );
}
