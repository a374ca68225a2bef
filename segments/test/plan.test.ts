import { describe, expect, it } from 'vitest';
import { affectedBy, compilePlan, type Plan, planDependencies, planLeaves } from '../src/plan.js';
import { parseCondition } from '../src/validate.js';

const plan = (input: unknown): Plan => compilePlan(parseCondition(input));
const did = (min: number, max: number, window: Record<string, unknown> = { kind: 'ever' }) => ({
  kind: 'did',
  event: 'buy',
  where: [],
  window,
  min,
  max,
});

describe('compilePlan normal form', () => {
  it('turns neq and notset into NOT of a present-value leaf', () => {
    expect(plan({ prop: 'plan', op: 'neq', value: 'pro' })).toEqual({
      kind: 'not',
      of: { kind: 'prop', cond: { prop: 'plan', op: 'eq', value: 'pro' } },
    });
    expect(plan({ prop: 'plan', op: 'notset' })).toEqual({
      kind: 'not',
      of: { kind: 'prop', cond: { prop: 'plan', op: 'set' } },
    });
    expect(plan({ not: { prop: 'plan', op: 'neq', value: 1 } })).toEqual({
      kind: 'prop',
      cond: { prop: 'plan', op: 'eq', value: 1 },
    });
  });

  it('makes counts ranges of at least one event, adding "never" when zero is accepted', () => {
    expect(plan({ did: 'buy' })).toEqual(did(1, Infinity));
    expect(plan({ did: 'buy', count: { op: 'gt', value: 2 } })).toEqual(did(3, Infinity));
    expect(plan({ did: 'buy', count: { op: 'eq', value: 0 } })).toEqual({
      kind: 'not',
      of: did(1, Infinity),
    });
    expect(plan({ did: 'buy', count: { op: 'lt', value: 3 } })).toEqual({
      kind: 'or',
      of: [did(1, 2), { kind: 'not', of: did(1, Infinity) }],
    });
    expect(plan({ did: 'buy', count: { op: 'neq', value: 2 } })).toEqual({
      kind: 'or',
      of: [did(1, 1), did(3, Infinity), { kind: 'not', of: did(1, Infinity) }],
    });
    expect(plan({ did: 'buy', count: { op: 'neq', value: 0 } })).toEqual(did(1, Infinity));
    expect(plan({ did: 'buy', count: { op: 'between', value: [0, 2] } })).toEqual({
      kind: 'or',
      of: [did(1, 2), { kind: 'not', of: did(1, Infinity) }],
    });
  });

  it('folds counts that every user satisfies into all, and their negation into none', () => {
    expect(plan({ did: 'buy', count: { op: 'gte', value: 0 } })).toEqual({ kind: 'all' });
    expect(plan({ not_did: 'buy', count: { op: 'gte', value: 0 } })).toEqual({ kind: 'none' });
    expect(plan({ and: [{ tag: 'a' }, { not_did: 'buy', count: { op: 'gte', value: 0 } }] })).toEqual({
      kind: 'none',
    });
    expect(plan({ or: [{ tag: 'a' }, { did: 'buy', count: { op: 'gte', value: 0 } }] })).toEqual({
      kind: 'all',
    });
  });

  it('flattens nested and/or and drops double negation', () => {
    expect(plan({ and: [{ tag: 'a' }, { and: [{ tag: 'b' }, { not: { not: { tag: 'c' } } }] }] })).toEqual({
      kind: 'and',
      of: [
        { kind: 'tag', tag: 'a' },
        { kind: 'tag', tag: 'b' },
        { kind: 'tag', tag: 'c' },
      ],
    });
    expect(plan({ or: [{ tag: 'a', value: 'x' }] })).toEqual({ kind: 'tag', tag: 'a', value: 'x' });
  });

  it('resolves windows to rolling milliseconds or absolute bounds', () => {
    expect(plan({ did: 'buy', within: { last: '12h' } })).toEqual(
      did(1, Infinity, { kind: 'rolling', ms: 43_200_000 }),
    );
    expect(plan({ not_did: 'buy', within: { from: '2024-01-01', to: 1_704_153_600 } })).toEqual({
      kind: 'not',
      of: did(1, Infinity, { kind: 'absolute', from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 2) }),
    });
  });

  it('keeps references by default, inlines on request, and leaves static segments as references', () => {
    const lookup = (id: string) =>
      id === 'a'
        ? { definition: parseCondition({ or: [{ tag: 'x' }, { segment: 'b' }] }) }
        : id === 'b'
          ? {}
          : undefined;
    const cond = parseCondition({ segment: 'a' }, { lookup });
    expect(compilePlan(cond, { lookup })).toEqual({ kind: 'segment', id: 'a' });
    expect(compilePlan(cond, { lookup, inline: true })).toEqual({
      kind: 'or',
      of: [
        { kind: 'tag', tag: 'x' },
        { kind: 'segment', id: 'b' },
      ],
    });
    expect(() => compilePlan(parseCondition({ segment: 'zz' }), { lookup, inline: true })).toThrow(
      /unknown segment "zz"/,
    );
  });
});

describe('compilePlan: defined events and rule tags', () => {
  const events = (name: string) =>
    name === 'Pressed buy'
      ? { event: '$click', where: [{ prop: '$el_text', op: 'eq' as const, value: 'Buy' }] }
      : undefined;

  it('expands a defined event into its event, its filters first, in did and not_did', () => {
    const cond = parseCondition({
      and: [
        { did: 'Pressed buy', where: [{ prop: '$path', value: '/cart' }], within: { last: '1d' } },
        { not_did: 'Pressed buy', count: { op: 'gte', value: 3 } },
        { did: 'buy' },
      ],
    });
    const p = compilePlan(cond, { events });
    expect(p).toEqual({
      kind: 'and',
      of: [
        {
          kind: 'did',
          event: '$click',
          where: [
            { prop: '$el_text', op: 'eq', value: 'Buy' },
            { prop: '$path', op: 'eq', value: '/cart' },
          ],
          window: { kind: 'rolling', ms: 86_400_000 },
          min: 1,
          max: Infinity,
        },
        {
          kind: 'not',
          of: {
            kind: 'did',
            event: '$click',
            where: [{ prop: '$el_text', op: 'eq', value: 'Buy' }],
            window: { kind: 'ever' },
            min: 3,
            max: Infinity,
          },
        },
        did(1, Infinity),
      ],
    });
    // Realtime maintenance then wakes up on the underlying event.
    expect([...planDependencies(p).events]).toEqual(['$click', 'buy']);
  });

  it('expands defined events inside inlined segments too', () => {
    const lookup = (id: string) =>
      id === 'a' ? { definition: parseCondition({ did: 'Pressed buy' }) } : undefined;
    expect(compilePlan(parseCondition({ segment: 'a' }), { lookup, events, inline: true })).toMatchObject({
      kind: 'did',
      event: '$click',
    });
  });

  it('inlines a rule tag as its segment, and a rule tag with a value as nobody', () => {
    const lookup = (id: string) =>
      id === 'payers' ? { definition: parseCondition({ did: 'buy' }) } : id === 'list' ? {} : undefined;
    const rules = (tag: string) => (tag === 'paying' ? 'payers' : tag === 'listed' ? 'list' : undefined);
    const cond = parseCondition({
      or: [{ tag: 'paying' }, { tag: 'listed' }, { tag: 'paying', value: 'x' }, { tag: 'vip' }],
    });
    expect(compilePlan(cond, { lookup, rules, inline: true })).toEqual({
      kind: 'or',
      of: [did(1, Infinity), { kind: 'segment', id: 'list' }, { kind: 'tag', tag: 'vip' }],
    });
    // Maintained plans keep the tag leaf: the engine follows the rule as it changes.
    expect(planLeaves(compilePlan(cond, { lookup, rules }))).toHaveLength(4);
  });
});

describe('dependencies', () => {
  const p = plan({
    and: [
      { prop: 'plan', op: 'notset' },
      { or: [{ tag: 'gold' }, { segment: 's1' }] },
      { did: 'view', where: [{ prop: 'price', op: 'gt', value: 3 }] },
      { not_did: 'buy', within: { last: '7d' } },
    ],
  });

  it('lists events, profile properties, tags, segments and rolling windows', () => {
    const deps = planDependencies(p);
    expect(deps.events).toEqual(new Set(['view', 'buy']));
    expect(deps.properties).toEqual(new Set(['plan']));
    expect(deps.tags).toEqual(new Set(['gold']));
    expect(deps.segments).toEqual(new Set(['s1']));
    expect(deps.rolling).toBe(true);
    expect(planLeaves(p)).toHaveLength(5);
    expect(planDependencies(plan({ did: 'x', within: { from: 0, to: 10 } })).rolling).toBe(false);
  });

  it('says which events can change membership', () => {
    const deps = planDependencies(p);
    expect(affectedBy(deps, { event: 'buy' })).toBe(true);
    expect(affectedBy(deps, { event: 'other' })).toBe(false);
    expect(affectedBy(deps, { event: 'other', $set: { city: 'x' } })).toBe(false);
    expect(affectedBy(deps, { event: 'other', $set: { city: 'x' }, $set_once: { plan: 'pro' } })).toBe(true);
  });
});
