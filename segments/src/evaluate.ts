import type { PropValue } from '@weft/core';
import type { DidLeaf, Plan, PlanWindow, PresentPropCondition } from './plan.js';
import { propMatches } from './predicate.js';

/**
 * A set of dense user numbers, e.g. a roaring bitmap behind a thin adapter. Operations
 * return new sets and never change their operands, so a source may hand out the sets it
 * keeps in its index.
 */
export interface UserSet<S> {
  and(other: S): S;
  or(other: S): S;
  andNot(other: S): S;
  readonly size: number;
  has(user: number): boolean;
}

/** A half-open time range [from, to) in ms; the bounds may be infinite. */
export interface TimeRange {
  from: number;
  to: number;
}

/** The index side of plan evaluation: one set per leaf, over the same user numbers. */
export interface SetSource<S extends UserSet<S>> {
  /** Every known user (the complement of NOT is taken against it). */
  all(): S;
  /** Users whose profile has the property with a value satisfying the condition. */
  prop(cond: PresentPropCondition): S;
  /** Users with the tag, with this value when one is given. */
  tag(tag: string, value: string | undefined): S;
  /** Users with leaf.min..leaf.max events named leaf.event matching leaf.where inside `range`. */
  did(leaf: DidLeaf, range: TimeRange): S;
  /** Current members of a referenced segment. */
  segment(id: string): S;
}

/** The range a window covers at `now`; a rolling window includes `now` itself. */
export function windowRange(window: PlanWindow, now: number): TimeRange {
  switch (window.kind) {
    case 'ever':
      return { from: -Infinity, to: Infinity };
    case 'rolling':
      return { from: now - window.ms, to: now + 1 };
    case 'absolute':
      return { from: window.from, to: window.to };
  }
}

/**
 * The users a plan selects at `now`. Inside an AND, negated parts are subtracted from the
 * positive ones (andNot) instead of complemented, so `all()` is read only when a NOT has
 * nothing to subtract from.
 */
export function evaluatePlan<S extends UserSet<S>>(plan: Plan, source: SetSource<S>, now: number): S {
  const evaluate = (p: Plan): S => {
    switch (p.kind) {
      case 'all':
        return source.all();
      case 'none': {
        const all = source.all();
        return all.andNot(all);
      }
      case 'and': {
        const positive = p.of.filter((q) => q.kind !== 'not');
        let acc = positive.length > 0 ? evaluate(positive[0]!) : source.all();
        for (const q of positive.slice(1)) acc = acc.and(evaluate(q));
        for (const q of p.of) if (q.kind === 'not') acc = acc.andNot(evaluate(q.of));
        return acc;
      }
      case 'or':
        return p.of.map(evaluate).reduce((acc, s) => acc.or(s));
      case 'not':
        return source.all().andNot(evaluate(p.of));
      case 'prop':
        return source.prop(p.cond);
      case 'tag':
        return source.tag(p.tag, p.value);
      case 'did':
        return source.did(p, windowRange(p.window, now));
      case 'segment':
        return source.segment(p.id);
    }
  };
  return evaluate(plan);
}

/** What the decide path knows about one user. */
export interface UserFacts {
  property(name: string): PropValue | undefined;
  /** The tag's value, null when tagged without one, undefined when not tagged. */
  tag(name: string): string | null | undefined;
  /** Membership of a referenced segment. */
  member(segmentId: string): boolean;
  /** Times of the user's events named leaf.event that match leaf.where, at any time. */
  eventTimes(leaf: DidLeaf): Iterable<number>;
}

function countIn(times: Iterable<number>, range: TimeRange): number {
  let n = 0;
  for (const t of times) if (t >= range.from && t < range.to) n++;
  return n;
}

/** Whether one user is selected at `now`: the per-user twin of evaluatePlan, for decide. */
export function evaluateUser(plan: Plan, facts: UserFacts, now: number): boolean {
  const test = (p: Plan): boolean => {
    switch (p.kind) {
      case 'all':
        return true;
      case 'none':
        return false;
      case 'and':
        return p.of.every(test);
      case 'or':
        return p.of.some(test);
      case 'not':
        return !test(p.of);
      case 'prop':
        return propMatches(p.cond, facts.property(p.cond.prop));
      case 'tag': {
        const value = facts.tag(p.tag);
        return p.value === undefined ? value !== undefined : value === p.value;
      }
      case 'did': {
        const n = countIn(facts.eventTimes(p), windowRange(p.window, now));
        return n >= p.min && n <= p.max;
      }
      case 'segment':
        return facts.member(p.id);
    }
  };
  return test(plan);
}

/**
 * The earliest time after `now` at which a rolling window of the plan changes one of this
 * user's counts (an event enters at its own time or leaves `ms` + 1 later), so the engine
 * can schedule re-evaluation; undefined when time alone changes nothing. Conservative:
 * membership may stay the same at that time, and the engine then asks again.
 */
export function nextChangeAt(plan: Plan, facts: UserFacts, now: number): number | undefined {
  let next = Infinity;
  const visit = (p: Plan): void => {
    if (p.kind === 'and' || p.kind === 'or') p.of.forEach(visit);
    else if (p.kind === 'not') visit(p.of);
    else if (p.kind === 'did' && p.window.kind === 'rolling') {
      for (const t of facts.eventTimes(p)) {
        const leaves = t + p.window.ms + 1;
        if (t > now) next = Math.min(next, t);
        else if (leaves > now) next = Math.min(next, leaves);
      }
    }
  };
  visit(plan);
  return next === Infinity ? undefined : next;
}
