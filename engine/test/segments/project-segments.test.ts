import { prng } from '@weft/core';
import { compilePlan, evaluatePlan, evaluateUser, parseCondition } from '@weft/segments';
import { describe, expect, it } from 'vitest';
import { allUsers } from '../../src/segments/index-source.js';
import { DAY, harness } from './helpers.js';

const T0 = Date.UTC(2026, 0, 10, 15, 30);

function members(h: ReturnType<typeof harness>, id: string): string[] {
  return [...(h.segments.members(id) ?? [])].map((u) => h.index.names[u]!).sort();
}

describe('realtime segments', () => {
  it('a buyer enters on the purchase and leaves "bought in last 7d" on the right day without any event', () => {
    const h = harness(T0);
    h.define('recent', { did: 'purchase', within: { last: '7d' } });
    h.send([{ event: 'purchase', distinct_id: 'ann' }]);
    expect(members(h, 'recent')).toEqual(['ann']);
    expect(h.changes.map((c) => [c.distinct_id, c.change])).toEqual([['ann', 'entry']]);
    // The window [now - 7d, now] still holds the purchase at exactly T0 + 7d…
    h.clock.t = T0 + 7 * DAY;
    h.segments.tick();
    expect(members(h, 'recent')).toEqual(['ann']);
    // …and not a millisecond later: she leaves on day 7, no event needed.
    h.clock.t = T0 + 7 * DAY + 1;
    h.segments.tick();
    expect(members(h, 'recent')).toEqual([]);
    expect(h.changes.at(-1)).toMatchObject({ distinct_id: 'ann', change: 'exit', at: T0 + 7 * DAY + 1 });
  });

  it('schedules expiry for users who bought before the segment existed', () => {
    const h = harness(T0);
    h.send([
      { event: 'purchase', distinct_id: 'old', time: T0 - 6 * DAY },
      { event: 'purchase', distinct_id: 'older', time: T0 - 8 * DAY },
    ]);
    h.define('recent', { did: 'purchase', within: { last: '7d' } });
    expect(members(h, 'recent')).toEqual(['old']);
    h.clock.t = T0 + DAY + 1;
    h.segments.tick();
    expect(members(h, 'recent')).toEqual([]);
  });

  it('counts, filters, negations, profile and tag leaves change on the event that causes them', () => {
    const h = harness(T0);
    h.define('big', {
      and: [
        { did: 'purchase', where: [{ prop: 'price', op: 'gte', value: 50 }], count: { op: 'gte', value: 2 } },
        { prop: 'plan', op: 'in', value: ['pro', 'team'] },
        { not: { tag: 'blocked' } },
      ],
    });
    h.send([{ event: 'purchase', distinct_id: 'bo', properties: { price: 60 }, $set: { plan: 'pro' } }]);
    expect(members(h, 'big')).toEqual([]);
    h.send([{ event: 'purchase', distinct_id: 'bo', properties: { price: 10 } }]);
    expect(members(h, 'big')).toEqual([]);
    h.send([{ event: 'purchase', distinct_id: 'bo', properties: { price: 50 } }]);
    expect(members(h, 'big')).toEqual(['bo']);
    h.tag('bo', { op: 'add', tag: 'blocked', value: null });
    expect(members(h, 'big')).toEqual([]);
    h.tag('bo', { op: 'remove', tag: 'blocked', value: null });
    expect(members(h, 'big')).toEqual(['bo']);
    h.send([{ event: 'visit', distinct_id: 'bo', $set: { plan: 'free' } }]);
    expect(members(h, 'big')).toEqual([]);
  });

  it('follows referenced segments in the same pass', () => {
    const h = harness(T0);
    h.define('pro', { prop: 'plan', value: 'pro' });
    h.define('pro-buyers', { and: [{ segment: 'pro' }, { did: 'purchase' }] });
    h.send([{ event: 'purchase', distinct_id: 'cy' }]);
    expect(members(h, 'pro-buyers')).toEqual([]);
    h.send([{ event: 'visit', distinct_id: 'cy', $set: { plan: 'pro' } }]);
    expect(members(h, 'pro')).toEqual(['cy']);
    expect(members(h, 'pro-buyers')).toEqual(['cy']);
  });

  it('ignores $tag events without a valid signature', () => {
    const h = harness(T0);
    h.send([
      {
        event: '$tag',
        distinct_id: 'eve',
        properties: { $tag: 'vip', $tag_op: 'add', $tag_user: 'eve', $tag_mac: 'forged' },
      },
    ]);
    expect(h.segments.tags.users('vip').size).toBe(0);
    h.tag('eve', { op: 'add', tag: 'vip', value: 'gold' });
    expect(h.segments.tags.valueOf(h.index.ids.get('eve')!, 'vip')).toBe('gold');
    expect(h.segments.tagHistory('vip', 10)).toMatchObject([
      { distinct_id: 'eve', op: 'add', value: 'gold' },
    ]);
  });

  it('rule tags are the members of their segment', () => {
    const h = harness(T0);
    h.define('payers', { did: 'purchase' });
    h.segments.setRules({ paying: 'payers' });
    h.define('paying-tagged', { tag: 'paying' });
    h.send([{ event: 'purchase', distinct_id: 'dee' }]);
    expect(members(h, 'paying-tagged')).toEqual(['dee']);
  });

  it('merges move tags and memberships to the login id', () => {
    const h = harness(T0);
    h.define('vips', { tag: 'vip' });
    h.send([
      { event: 'visit', distinct_id: 'anon-1' },
      { event: 'visit', distinct_id: 'login-1' },
    ]);
    h.tag('anon-1', { op: 'add', tag: 'vip', value: null });
    expect(members(h, 'vips')).toEqual(['anon-1']);
    h.send([{ event: '$identify', distinct_id: 'login-1', properties: { $anon_distinct_id: 'anon-1' } }]);
    expect(members(h, 'vips')).toEqual(['login-1']);
  });
});

/** Entries and exits reported since the last call, as sorted `segment user change` lines. */
function reported(h: ReturnType<typeof harness>): string[] {
  return h.changes
    .splice(0)
    .map((c) => `${c.segment} ${c.distinct_id} ${c.change}`)
    .sort();
}

describe('replacing a segment', () => {
  it('re-evaluates every realtime segment reading it, through segments and rule tags, and reports the changes', () => {
    const h = harness(T0);
    h.send([
      { event: 'purchase', distinct_id: 'ann', $set: { plan: 'pro' } },
      { event: 'purchase', distinct_id: 'bob', $set: { plan: 'free' } },
    ]);
    h.define('a', { prop: 'plan', value: 'pro' });
    h.define('b', { and: [{ segment: 'a' }, { did: 'purchase' }] });
    h.define('c', { not: { segment: 'b' } });
    h.segments.setRules({ 'in-a': 'a' });
    h.define('d', { tag: 'in-a' });
    h.define('e', { segment: 'd' });
    h.define('later', { segment: 'a' }, 'scheduled');
    for (const id of ['a', 'b', 'd', 'e', 'later']) expect(members(h, id), id).toEqual(['ann']);
    expect(members(h, 'c')).toEqual(['bob']);
    reported(h);

    h.define('a', { prop: 'plan', value: 'free' });
    for (const id of ['a', 'b', 'd', 'e']) expect(members(h, id), id).toEqual(['bob']);
    expect(members(h, 'c')).toEqual(['ann']);
    expect(reported(h)).toEqual([
      'a ann exit',
      'a bob entry',
      'b ann exit',
      'b bob entry',
      'c ann entry',
      'c bob exit',
      'd ann exit',
      'd bob entry',
      'e ann exit',
      'e bob entry',
    ]);
    // A scheduled reader changes when it runs, not before.
    expect(members(h, 'later')).toEqual(['ann']);
    h.segments.run('later');
    expect(members(h, 'later')).toEqual(['bob']);

    // Later events follow the new definition down the chain.
    h.send([{ event: 'visit', distinct_id: 'ann', $set: { plan: 'free' } }]);
    for (const id of ['a', 'b', 'd', 'e']) expect(members(h, id), id).toEqual(['ann', 'bob']);
    expect(members(h, 'c')).toEqual([]);
  });

  it('reports nothing when the new definition selects the same users', () => {
    const h = harness(T0);
    h.send([{ event: 'purchase', distinct_id: 'ann', $set: { plan: 'pro' } }]);
    h.define('a', { prop: 'plan', value: 'pro' });
    h.define('b', { segment: 'a' });
    reported(h);
    h.define('a', { prop: 'plan', op: 'in', value: ['pro', 'team'] });
    expect(reported(h)).toEqual([]);
    expect(members(h, 'b')).toEqual(['ann']);
  });

  it('a segment read through a rule tag before it existed is followed once it is defined', () => {
    const h = harness(T0);
    h.segments.setRules({ paying: 'payers' });
    h.define('paying-users', { tag: 'paying' });
    h.send([{ event: 'purchase', distinct_id: 'dee' }]);
    expect(members(h, 'paying-users')).toEqual([]);
    h.define('payers', { did: 'purchase' });
    expect(members(h, 'paying-users')).toEqual(['dee']);
    expect(reported(h)).toEqual(['paying-users dee entry']);
  });
});

describe('rule tags', () => {
  it('readers follow the rule segment in realtime: entry on the event, exit as its window slides', () => {
    const h = harness(T0);
    h.define('recent', { did: 'purchase', within: { last: '1d' } });
    h.segments.setRules({ active: 'recent' });
    h.define('active-pros', { and: [{ tag: 'active' }, { prop: 'plan', value: 'pro' }] });
    h.define('idle-pros', { and: [{ prop: 'plan', value: 'pro' }, { not: { segment: 'active-pros' } }] });
    h.send([{ event: 'visit', distinct_id: 'fay', $set: { plan: 'pro' } }]);
    expect(members(h, 'idle-pros')).toEqual(['fay']);
    reported(h);
    h.send([{ event: 'purchase', distinct_id: 'fay' }]);
    expect(members(h, 'active-pros')).toEqual(['fay']);
    expect(reported(h)).toEqual(['active-pros fay entry', 'idle-pros fay exit', 'recent fay entry']);
    h.clock.t = T0 + DAY + 1;
    h.segments.tick();
    expect(members(h, 'active-pros')).toEqual([]);
    expect(reported(h)).toEqual(['active-pros fay exit', 'idle-pros fay entry', 'recent fay exit']);
  });

  it('setting, moving and removing a rule re-evaluates the readers of its tag and reports it', () => {
    const h = harness(T0);
    h.define('payers', { did: 'purchase' });
    h.define('pros', { prop: 'plan', value: 'pro' });
    h.send([
      { event: 'purchase', distinct_id: 'gil' },
      { event: 'visit', distinct_id: 'hal', $set: { plan: 'pro' } },
      { event: 'visit', distinct_id: 'ivy' },
    ]);
    h.tag('ivy', { op: 'add', tag: 'gold', value: null });
    h.define('gold', { tag: 'gold' });
    h.define('not-gold', { not: { segment: 'gold' } });
    expect(members(h, 'gold')).toEqual(['ivy']);
    reported(h);
    h.segments.setRules({ gold: 'payers' });
    expect(members(h, 'gold')).toEqual(['gil']);
    expect(reported(h)).toEqual([
      'gold gil entry',
      'gold ivy exit',
      'not-gold gil exit',
      'not-gold ivy entry',
    ]);
    h.segments.setRules({ gold: 'pros' });
    expect(members(h, 'gold')).toEqual(['hal']);
    expect(members(h, 'not-gold')).toEqual(['gil', 'ivy']);
    reported(h);
    // Without the rule the manual tag holds again.
    h.segments.setRules({});
    expect(members(h, 'gold')).toEqual(['ivy']);
    expect(reported(h)).toEqual([
      'gold hal exit',
      'gold ivy entry',
      'not-gold hal entry',
      'not-gold ivy exit',
    ]);
  });

  it('are held without a value: asking for a value selects nobody, in bitmaps and per user alike', () => {
    const h = harness(T0);
    h.define('payers', { did: 'purchase' });
    h.segments.setRules({ paying: 'payers' });
    h.define('valued', { tag: 'paying', value: 'x' });
    h.send([{ event: 'purchase', distinct_id: 'jo' }]);
    expect(members(h, 'valued')).toEqual([]);
    const plan = compilePlan(parseCondition({ tag: 'paying', value: 'x' }));
    expect(evaluatePlan(plan, h.segments.source, T0).size).toBe(0);
    expect(evaluateUser(plan, h.segments.facts.of(h.index.ids.get('jo')!), T0)).toBe(false);
  });
});

describe('defined events', () => {
  it('a segment counting one counts the underlying event with its filters, as it arrives', () => {
    const events = (name: string) =>
      name === 'Pressed buy'
        ? { event: '$click', where: [{ prop: '$el_text', op: 'eq' as const, value: 'Buy' }] }
        : undefined;
    const h = harness(T0, events);
    h.send([
      { event: '$click', distinct_id: 'kim', properties: { $el_text: 'Buy' } },
      { event: '$click', distinct_id: 'lou', properties: { $el_text: 'Sell' } },
    ]);
    h.define('pressed', { did: 'Pressed buy', within: { last: '7d' } });
    expect(members(h, 'pressed')).toEqual(['kim']);
    h.send([
      { event: '$click', distinct_id: 'lou', properties: { $el_text: 'Sell' } },
      { event: '$click', distinct_id: 'max', properties: { $el_text: 'Buy' } },
    ]);
    expect(members(h, 'pressed')).toEqual(['kim', 'max']);
    h.clock.t = T0 + 7 * DAY + 1;
    h.segments.tick();
    expect(members(h, 'pressed')).toEqual([]);
  });
});

describe('bitmap evaluation agrees with per-user evaluation', () => {
  it('on random users, events, profiles and tags, for every leaf kind', () => {
    const r = prng(5);
    const h = harness(T0);
    const plans = ['free', 'pro', 'team'];
    for (let u = 0; u < 150; u++) {
      const id = `u${u}`;
      const n = Math.floor(r() * 6);
      const events = Array.from({ length: n }, () => ({
        event: r() < 0.6 ? 'purchase' : 'visit',
        distinct_id: id,
        // Some on exact day boundaries and window edges.
        time: r() < 0.2 ? T0 - 7 * DAY : Math.floor(T0 - r() * 20 * DAY),
        properties: { price: Math.floor(r() * 100) },
      }));
      const profile =
        r() < 0.8 ? { plan: plans[u % 3]!, age: Math.floor(r() * 60) + 0.5 * (u % 2) } : undefined;
      h.send([
        { event: 'visit', distinct_id: id, time: T0 - 30 * DAY, ...(profile ? { $set: profile } : {}) },
        ...events,
      ]);
      if (r() < 0.3) h.tag(id, { op: 'add', tag: 'vip', value: r() < 0.5 ? 'gold' : null });
    }
    const definitions = [
      { did: 'purchase', within: { last: '7d' } },
      {
        did: 'purchase',
        count: { op: 'between', value: [2, 3] },
        within: { from: T0 - 10 * DAY, to: T0 - 2 * DAY },
      },
      { not_did: 'purchase', where: [{ prop: 'price', op: 'lt', value: 30 }] },
      { did: 'purchase', count: { op: 'lt', value: 2 } },
      { prop: 'age', op: 'between', value: [10, 30.5] },
      {
        or: [
          { prop: 'plan', op: 'neq', value: 'pro' },
          { tag: 'vip', value: 'gold' },
        ],
      },
      { and: [{ prop: 'age', op: 'gt', value: 20 }, { not: { tag: 'vip' } }, { prop: 'plan', op: 'set' }] },
      { prop: 'plan', op: 'contains', value: 'ea' },
    ];
    for (const d of definitions) {
      const plan = compilePlan(parseCondition(d));
      const fromBitmaps = evaluatePlan(plan, h.segments.source, T0).bits.toArray();
      const perUser = allUsers(h.index)
        .toArray()
        .filter((u) => evaluateUser(plan, h.segments.facts.of(u), T0));
      expect(fromBitmaps, JSON.stringify(d)).toEqual(perUser);
    }
  });
});
