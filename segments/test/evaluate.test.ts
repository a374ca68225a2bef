import { describe, expect, it } from 'vitest';
import type { Condition } from '../src/definition.js';
import { evaluatePlan, evaluateUser, nextChangeAt, windowRange } from '../src/evaluate.js';
import { compilePlan } from '../src/plan.js';
import { parseCondition } from '../src/validate.js';
import {
  type Dataset,
  emptyDataset,
  factsOf,
  MemorySource,
  naiveMember,
  planMembers,
} from './helpers/data.js';
import { NOW, randomCondition, randomDataset, rng } from './helpers/random.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('evaluatePlan and evaluateUser', () => {
  it('agree with the definition read literally, on 400 random definitions', () => {
    const r = rng(7);
    const data = randomDataset(r, 80);
    const persons = new MemorySource(data).persons;
    let nontrivial = 0;
    for (let i = 0; i < 400; i++) {
      const cond = parseCondition(randomCondition(r));
      const plan = compilePlan(cond);
      const expected = persons.filter((p) => naiveMember(cond, p, data, NOW));
      const context = JSON.stringify(cond);
      expect(planMembers(plan, data, NOW), context).toEqual(expected);
      expect(
        persons.filter((p) => evaluateUser(plan, factsOf(data, p), NOW)),
        context,
      ).toEqual(expected);
      if (expected.length > 0 && expected.length < persons.length) nontrivial++;
    }
    // The generator must produce selective definitions, or the comparison proves little.
    expect(nontrivial).toBeGreaterThan(150);
  });

  it('inlines referenced segments or reads their maintained members', () => {
    const data = randomDataset(rng(3), 40);
    const inner: Condition = { prop: 'plan', op: 'eq', value: 'pro' };
    const lookup = (id: string) => (id === 'pros' ? { definition: inner } : undefined);
    const cond = parseCondition({ and: [{ segment: 'pros' }, { not: { tag: 'gold' } }] }, { lookup });
    const source = new MemorySource(data);
    const expected = source.persons.filter((p) => naiveMember(cond, p, data, NOW, () => inner));
    const inlined = compilePlan(cond, { lookup, inline: true });
    expect(planMembers(inlined, data, NOW)).toEqual(expected);
    // Referenced: the source answers with the segment's maintained members.
    const pros = source.persons.filter((p) => naiveMember(inner, p, data, NOW));
    const referencing = new MemorySource(data, new Map([['pros', pros]]));
    const referenced = compilePlan(cond, { lookup });
    expect(referencing.names(evaluatePlan(referenced, referencing, NOW))).toEqual(expected);
    expect(
      source.persons.filter((p) =>
        evaluateUser(referenced, factsOf(data, p, new Map([['pros', pros]])), NOW),
      ),
    ).toEqual(expected);
  });

  it('reads all() only when a NOT has nothing to subtract from', () => {
    const data = randomDataset(rng(5), 30);
    const source = new MemorySource(data);
    let alls = 0;
    const counting = Object.assign(Object.create(source) as MemorySource, {
      all: () => {
        alls++;
        return source.all();
      },
    });
    const plan = compilePlan(
      parseCondition({ and: [{ tag: 'gold' }, { prop: 'plan', op: 'neq', value: 'pro' }] }),
    );
    evaluatePlan(plan, counting, NOW);
    expect(alls).toBe(0);
    evaluatePlan(compilePlan(parseCondition({ not: { tag: 'gold' } })), counting, NOW);
    expect(alls).toBe(1);
  });
});

describe('rolling windows with a controllable clock', () => {
  const start = Date.UTC(2024, 0, 10, 8, 0, 0);

  function dataWith(times: number[]): Dataset {
    const data = emptyDataset();
    data.events = times.map((time, i) => ({
      person: 'u',
      event: 'purchase',
      event_id: `e${i}`,
      time,
      properties: {},
    }));
    data.profiles.set('v', { plan: 'free' });
    return data;
  }

  it('a user leaves "did purchase in the last 7d" exactly when the purchase is 7d + 1ms old', () => {
    const data = dataWith([start]);
    const plan = compilePlan(parseCondition({ did: 'purchase', within: { last: '7d' } }));
    const facts = factsOf(data, 'u');
    expect(planMembers(plan, data, start)).toEqual(['u']);
    expect(nextChangeAt(plan, facts, start)).toBe(start + 7 * DAY + 1);
    expect(planMembers(plan, data, start + 7 * DAY)).toEqual(['u']);
    expect(planMembers(plan, data, start + 7 * DAY + 1)).toEqual([]);
    expect(evaluateUser(plan, facts, start + 7 * DAY + 1)).toBe(false);
    expect(nextChangeAt(plan, facts, start + 7 * DAY + 1)).toBeUndefined();
  });

  it('walks a count threshold down as events expire one by one, and back up for not_did', () => {
    const times = [start, start + HOUR, start + 2 * HOUR];
    const data = dataWith(times);
    const facts = factsOf(data, 'u');
    const atLeast2 = compilePlan(
      parseCondition({ did: 'purchase', count: { op: 'gte', value: 2 }, within: { last: '1d' } }),
    );
    const notDid = compilePlan(parseCondition({ not_did: 'purchase', within: { last: '1d' } }));
    let now = start + 2 * HOUR;
    const seen: Array<[number, boolean, boolean]> = [];
    for (let step = 0; step < 5; step++) {
      seen.push([now - start, evaluateUser(atLeast2, facts, now), evaluateUser(notDid, facts, now)]);
      const next = nextChangeAt(atLeast2, facts, now);
      if (next === undefined) break;
      expect(nextChangeAt(notDid, facts, now)).toBe(next);
      now = next;
    }
    expect(seen).toEqual([
      [2 * HOUR, true, false],
      [DAY + 1, true, false],
      [DAY + HOUR + 1, false, false],
      [DAY + 2 * HOUR + 1, false, true],
    ]);
  });

  it('an event stamped in the future enters the window when the clock reaches it', () => {
    const data = dataWith([start + 10 * MIN]);
    const plan = compilePlan(parseCondition({ did: 'purchase', within: { last: '30m' } }));
    const facts = factsOf(data, 'u');
    expect(evaluateUser(plan, facts, start)).toBe(false);
    expect(nextChangeAt(plan, facts, start)).toBe(start + 10 * MIN);
    expect(evaluateUser(plan, facts, start + 10 * MIN)).toBe(true);
    expect(nextChangeAt(plan, facts, start + 10 * MIN)).toBe(start + 40 * MIN + 1);
  });

  it('absolute windows and ever do not change with time', () => {
    const data = dataWith([start]);
    const facts = factsOf(data, 'u');
    const absolute = compilePlan(
      parseCondition({ did: 'purchase', within: { from: '2024-01-01', to: '2024-02-01' } }),
    );
    expect(nextChangeAt(absolute, facts, start)).toBeUndefined();
    expect(nextChangeAt(compilePlan(parseCondition({ did: 'purchase' })), facts, start)).toBeUndefined();
    expect(windowRange({ kind: 'absolute', from: 1, to: 2 }, start)).toEqual({ from: 1, to: 2 });
    expect(windowRange({ kind: 'ever' }, start)).toEqual({ from: -Infinity, to: Infinity });
  });
});
