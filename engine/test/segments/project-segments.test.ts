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
