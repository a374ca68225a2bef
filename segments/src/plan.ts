import { parseTime, type WeftEvent } from '@weft/core';
import type {
  BehaviourFields,
  Condition,
  CountCondition,
  DefinedEventLookup,
  PropCondition,
  RuleLookup,
  SegmentLookup,
  Window,
} from './definition.js';
import { parseDuration } from './duration.js';

/**
 * A validated definition compiled to set algebra over leaves the index can answer with a
 * bitmap. Normal form: `neq`/`notset` become NOT of a present-value leaf (indexes hold
 * present values only), counts become ranges of at least one event (a count that admits
 * zero adds "NOT did it at all"), `not_did` is NOT `did`, nested and/or are flattened, and
 * constant parts fold into `all`/`none`.
 */
export type Plan =
  | Leaf
  | { kind: 'all' }
  | { kind: 'none' }
  | { kind: 'and'; of: Plan[] }
  | { kind: 'or'; of: Plan[] }
  | { kind: 'not'; of: Plan };

export type Leaf = PropLeaf | TagLeaf | DidLeaf | SegmentLeaf;

/** The property conditions that need the property present. */
export type PresentPropCondition = Exclude<PropCondition, { op: 'neq' | 'notset' }>;

/** Users whose profile property satisfies the condition. */
export interface PropLeaf {
  kind: 'prop';
  cond: PresentPropCondition;
}

/** Users with the tag (with this value, when given). */
export interface TagLeaf {
  kind: 'tag';
  tag: string;
  value?: string;
}

/**
 * When a did leaf counts events: always, a rolling window of `ms` ending now (inclusive),
 * or the absolute range [from, to).
 */
export type PlanWindow =
  | { kind: 'ever' }
  | { kind: 'rolling'; ms: number }
  | { kind: 'absolute'; from: number; to: number };

/** Users with between min (>= 1) and max (may be Infinity) matching events in the window. */
export interface DidLeaf {
  kind: 'did';
  event: string;
  where: PropCondition[];
  window: PlanWindow;
  min: number;
  max: number;
}

/** Members of another segment, as the engine maintains them. */
export interface SegmentLeaf {
  kind: 'segment';
  id: string;
}

export interface CompileOptions {
  lookup?: SegmentLookup;
  /**
   * Replace `{segment: id}` by that segment's definition (static segments, which have none,
   * stay references). Needs `lookup`. For one-off evaluation and SQL; realtime maintenance
   * keeps references so a segment follows the maintained membership of the other.
   */
  inline?: boolean;
  /** Expands `did`/`not_did` of defined events into their event and filters. */
  events?: DefinedEventLookup;
  /**
   * With `inline`, a rule tag becomes its segment (inlined like a reference), so SQL needs no
   * tag rows for it; without `inline` it stays a tag leaf, which the engine resolves itself.
   */
  rules?: RuleLookup;
}

const ALL: Plan = { kind: 'all' };
const NONE: Plan = { kind: 'none' };

function and(parts: Plan[]): Plan {
  const of: Plan[] = [];
  for (const p of parts) {
    if (p.kind === 'none') return NONE;
    if (p.kind === 'and') of.push(...p.of);
    else if (p.kind !== 'all') of.push(p);
  }
  return of.length === 0 ? ALL : of.length === 1 ? of[0]! : { kind: 'and', of };
}

function or(parts: Plan[]): Plan {
  const of: Plan[] = [];
  for (const p of parts) {
    if (p.kind === 'all') return ALL;
    if (p.kind === 'or') of.push(...p.of);
    else if (p.kind !== 'none') of.push(p);
  }
  return of.length === 0 ? NONE : of.length === 1 ? of[0]! : { kind: 'or', of };
}

function not(p: Plan): Plan {
  if (p.kind === 'all') return NONE;
  if (p.kind === 'none') return ALL;
  if (p.kind === 'not') return p.of;
  return { kind: 'not', of: p };
}

function propPlan(cond: PropCondition): Plan {
  if (cond.op === 'neq') return not({ kind: 'prop', cond: { prop: cond.prop, op: 'eq', value: cond.value } });
  if (cond.op === 'notset') return not({ kind: 'prop', cond: { prop: cond.prop, op: 'set' } });
  return { kind: 'prop', cond };
}

/** Inclusive count ranges a count condition accepts (max may be Infinity), maybe empty ones. */
function countRanges(count: CountCondition | undefined): Array<[number, number]> {
  if (!count) return [[1, Infinity]];
  switch (count.op) {
    case 'between':
      return [count.value];
    case 'eq':
      return [[count.value, count.value]];
    case 'neq':
      return [
        [0, count.value - 1],
        [count.value + 1, Infinity],
      ];
    case 'gt':
      return [[count.value + 1, Infinity]];
    case 'gte':
      return [[count.value, Infinity]];
    case 'lt':
      return [[0, count.value - 1]];
    case 'lte':
      return [[0, count.value]];
  }
}

/** The plan window of a validated definition window. */
export function planWindow(within: Window | undefined): PlanWindow {
  if (!within) return { kind: 'ever' };
  if ('last' in within) return { kind: 'rolling', ms: parseDuration(within.last)! };
  return { kind: 'absolute', from: parseTime(within.from)!, to: parseTime(within.to)! };
}

function didPlan(event: string, where: PropCondition[], window: PlanWindow, count?: CountCondition): Plan {
  const leaf = (min: number, max: number): DidLeaf => ({ kind: 'did', event, where, window, min, max });
  const parts: Plan[] = [];
  let zero = false;
  for (const [lo, hi] of countRanges(count)) {
    if (lo > hi) continue;
    if (lo === 0) zero = true;
    if (Math.max(lo, 1) <= hi) parts.push(leaf(Math.max(lo, 1), hi));
  }
  if (!zero) return or(parts);
  // "at least once, any number" plus "never" is everyone.
  const any = parts.find((p) => p.kind === 'did' && p.min === 1 && p.max === Infinity);
  return any ? ALL : or([...parts, not(leaf(1, Infinity))]);
}

/** Compiles a validated definition (parseCondition's output) to its plan. */
export function compilePlan(cond: Condition, options: CompileOptions = {}): Plan {
  const inlined = new Map<string, Plan>();
  const inlining: string[] = [];
  const compile = (c: Condition): Plan => {
    if ('and' in c) return and(c.and.map(compile));
    if ('or' in c) return or(c.or.map(compile));
    if ('not' in c) return not(compile(c.not));
    if ('prop' in c) return propPlan(c);
    if ('tag' in c) {
      const rule = options.inline ? options.rules?.(c.tag) : undefined;
      // A rule tag is held without a value.
      if (rule !== undefined) return c.value === undefined ? segmentPlan(rule) : NONE;
      return c.value === undefined ? { kind: 'tag', tag: c.tag } : { kind: 'tag', ...c };
    }
    if ('segment' in c) return segmentPlan(c.segment);
    if ('did' in c) return behaviourPlan(c.did, c);
    return not(behaviourPlan(c.not_did, c));
  };
  const behaviourPlan = (name: string, c: BehaviourFields): Plan => {
    const defined = options.events?.(name);
    const event = defined?.event ?? name;
    const where = [...(defined?.where ?? []), ...(c.where ?? [])];
    return didPlan(event, where, planWindow(c.within), c.count);
  };
  const segmentPlan = (id: string): Plan => {
    if (!options.inline) return { kind: 'segment', id };
    const known = inlined.get(id);
    if (known) return known;
    const segment = options.lookup?.(id);
    if (!segment) throw new Error(`compilePlan: unknown segment "${id}" (validate the definition first)`);
    if (!segment.definition) return { kind: 'segment', id };
    if (inlining.includes(id)) throw new Error(`compilePlan: segment cycle through "${id}"`);
    inlining.push(id);
    const plan = compile(segment.definition);
    inlining.pop();
    inlined.set(id, plan);
    return plan;
  };
  return compile(cond);
}

/** Every leaf of a plan, in tree order. */
export function planLeaves(plan: Plan): Leaf[] {
  const leaves: Leaf[] = [];
  const walk = (p: Plan): void => {
    if (p.kind === 'and' || p.kind === 'or') p.of.forEach(walk);
    else if (p.kind === 'not') walk(p.of);
    else if (p.kind !== 'all' && p.kind !== 'none') leaves.push(p);
  };
  walk(plan);
  return leaves;
}

/** What a plan reads, so the engine re-evaluates a user only when one of these changes. */
export interface PlanDependencies {
  /** Events counted by did leaves. */
  events: Set<string>;
  /** Profile properties compared. */
  properties: Set<string>;
  tags: Set<string>;
  /** Referenced (not inlined) segments. */
  segments: Set<string>;
  /** Whether membership can change with time alone (a rolling window). */
  rolling: boolean;
}

export function planDependencies(plan: Plan): PlanDependencies {
  const deps: PlanDependencies = {
    events: new Set(),
    properties: new Set(),
    tags: new Set(),
    segments: new Set(),
    rolling: false,
  };
  for (const leaf of planLeaves(plan)) {
    switch (leaf.kind) {
      case 'prop':
        deps.properties.add(leaf.cond.prop);
        break;
      case 'tag':
        deps.tags.add(leaf.tag);
        break;
      case 'did':
        deps.events.add(leaf.event);
        if (leaf.window.kind === 'rolling') deps.rolling = true;
        break;
      case 'segment':
        deps.segments.add(leaf.id);
        break;
    }
  }
  return deps;
}

/**
 * Whether an event can change membership of a plan with these dependencies: it is counted,
 * or it sets a compared profile property. Tag changes, membership changes of referenced
 * segments, identity merges and window expiry reach the engine by other paths.
 */
export function affectedBy(
  deps: PlanDependencies,
  event: Pick<WeftEvent, 'event' | '$set' | '$set_once'>,
): boolean {
  if (deps.events.has(event.event)) return true;
  for (const props of [event.$set, event.$set_once]) {
    if (props) for (const key of Object.keys(props)) if (deps.properties.has(key)) return true;
  }
  return false;
}
