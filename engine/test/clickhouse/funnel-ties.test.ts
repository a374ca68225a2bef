import type { Properties, PropValue, WeftEvent } from '@weft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from '../../src/clickhouse/client.js';
import { funnelSql, funnelUsersSql } from '../../src/clickhouse/funnel-sql.js';
import type { ProjectIndex } from '../../src/index/project-index.js';
import { type FunnelQuery, funnelUsersPartial } from '../../src/query/funnel.js';
import { freshDatabase, HOUR, indexFunnel, loadClickHouse, shardIndexes } from './fixtures.js';

/**
 * Events of one user with equal times: both engines order them by lowest matched step,
 * highest, step mask, then breakdown value (strings by code point, then numbers, booleans,
 * null) — never by arrival order or event id, which differ between them. Here arrival
 * order and event ids each disagree with that rule, so either would pick another value.
 */

const PROJECT = 'ties';
const T = Date.UTC(2024, 6, 1, 9);

function ev(id: string, user: string, event: string, time: number, properties: Properties = {}): WeftEvent {
  return { event_id: id, project: PROJECT, event, distinct_id: user, time, received_at: time, properties };
}

/** A user's tied first steps (in arrival order, with the ids given), then a buy. */
function tied(user: string, views: Array<[string, Properties]>): WeftEvent[] {
  const t = T + user.length * HOUR;
  return [
    ...views.map(([id, props]) => ev(`${user}-${id}`, user, 'view', t, props)),
    ev(`${user}-buy`, user, 'buy', t + 1000),
  ];
}

const events: WeftEvent[] = [
  // Arrival says pro, event id says free; strings order free first.
  ...tied('u1', [
    ['z', { plan: 'pro' }],
    ['a', { plan: 'free' }],
  ]),
  // Event id says beta; strings order alpha first.
  ...tied('u22', [
    ['y', { plan: 'alpha' }],
    ['b', { plan: 'beta' }],
  ]),
  // Types: a string before a number before absent.
  ...tied('u333', [
    ['a', {}],
    ['b', { plan: 5 }],
    ['c', { plan: 'five' }],
  ]),
  // Code points: U+FF5E before U+1F600 (UTF-16 units order them the other way).
  ...tied('u4444', [
    ['a', { plan: '\u{1F600}' }],
    ['b', { plan: '\uFF5E' }],
  ]),
  // Numbers numerically: 9 before 10 (as text, "10" comes first).
  ...tied('u55555', [
    ['a', { plan: 10 }],
    ['b', { plan: 9 }],
  ]),
  // Booleans: false before true.
  ...tied('u666666', [
    ['a', { plan: true }],
    ['b', { plan: false }],
  ]),
  // Masks: for steps [view, view with flag, view with vip] the first event matches all three
  // (mask 7), the second steps 1 and 3 (mask 5); lowest and highest steps tie, so the mask
  // decides: 5 first, then 7 as step 2, reaching level 2 (the other order reaches 1).
  ...tied('u7777777', [
    ['a', { plan: 'vip', flag: true }],
    ['b', { plan: 'vip' }],
  ]),
];

let ch: ClickHouse;
let indexes: ProjectIndex[];
beforeAll(async () => {
  ch = await freshDatabase('weft_test_funnel_ties');
  indexes = shardIndexes(events, PROJECT, 2);
  await loadClickHouse(ch, events, indexes);
});
afterAll(async () => {
  await ch?.close();
});

const base = { window: HOUR, from: T, to: T + 24 * HOUR };

describe('funnel ties: index equals ClickHouse', () => {
  it('a breakdown takes the first-step value the documented order picks', async () => {
    const q: FunnelQuery = { ...base, steps: [{ event: 'view' }, { event: 'buy' }], breakdown: 'plan' };
    const fromIndex = indexFunnel(indexes, q);
    const users = new Map((fromIndex.breakdowns ?? []).map((b) => [b.breakdown, b.steps[1]!.users]));
    const expected: PropValue[] = ['free', 'alpha', 'five', '\uFF5E', 9, false, 'vip'];
    expect(users).toEqual(new Map(expected.map((v) => [v, 1])));
    expect(await funnelSql(ch, PROJECT, q)).toEqual(fromIndex);
  });

  it('equal times with equal lowest and highest steps are ordered by step mask', async () => {
    const q: FunnelQuery = {
      ...base,
      steps: [
        { event: 'view' },
        { event: 'view', where: [{ prop: 'flag', value: true }] },
        { event: 'view', where: [{ prop: 'plan', value: 'vip' }] },
      ],
    };
    const fromIndex = indexFunnel(indexes, q);
    expect(await funnelSql(ch, PROJECT, q)).toEqual(fromIndex);
    const converted = { ...q, step: 2, status: 'converted' as const };
    expect(indexes.flatMap((index) => funnelUsersPartial(index, converted))).toEqual(['u7777777']);
    expect(await funnelUsersSql(ch, PROJECT, converted)).toEqual(['u7777777']);
  });
});
