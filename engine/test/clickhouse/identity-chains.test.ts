import type { Properties, WeftEvent } from '@weft/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouse } from '../../src/clickhouse/client.js';
import { eventsSql } from '../../src/clickhouse/events-sql.js';
import { funnelSql, funnelUsersSql } from '../../src/clickhouse/funnel-sql.js';
import { insertEvents } from '../../src/clickhouse/insert.js';
import { allPersonRows, takePersonRows } from '../../src/clickhouse/person-rows.js';
import { retentionSql } from '../../src/clickhouse/retention-sql.js';
import { ProjectIndex } from '../../src/index/project-index.js';
import type { EventsQuery } from '../../src/query/event-analysis.js';
import { type FunnelQuery, funnelUsersPartial } from '../../src/query/funnel.js';
import type { RetentionQuery } from '../../src/query/retention.js';
import {
  DAY,
  freshDatabase,
  HOUR,
  indexEvents,
  indexFunnel,
  indexRetention,
  shardEvents,
} from './fixtures.js';

/**
 * Chains of identifies (a -> b, then b -> c): the index resolves every id of the chain to
 * one person, and SQL, reading the mapping the index writes to `identities` as it changes,
 * resolves them the same way with one join.
 */

const PROJECT = 'chains';
/** A Monday. */
const T = Date.UTC(2024, 4, 6);
let seq = 0;

function ev(distinctId: string, event: string, time: number, properties: Properties = {}): WeftEvent {
  return {
    event_id: `chain-${seq++}`,
    project: PROJECT,
    event,
    distinct_id: distinctId,
    time,
    received_at: time,
    properties,
  };
}

const identify = (login: string, anon: string, time: number) =>
  ev(login, '$identify', time, { $anon_distinct_id: anon });

// Person 1: a1 -> b1 (a new login: renamed), then b1 -> c1 (c1 has events: a merge), then
// c1 -> d1 (new again); a1 is still used afterwards. Person 2: a2 -> b2 -> c2, each login
// new. u3 never identifies.
const events: WeftEvent[] = [
  ev('a1', 'view', T + HOUR, { plan: 'free' }),
  ev('c1', 'home', T + 2 * HOUR),
  identify('b1', 'a1', T + 3 * HOUR),
  ev('b1', 'cart', T + DAY + HOUR),
  identify('c1', 'b1', T + DAY + 2 * HOUR),
  ev('c1', 'buy', T + 2 * DAY),
  identify('d1', 'c1', T + 3 * DAY),
  ev('d1', 'view', T + 4 * DAY, { plan: 'pro' }),
  ev('a1', 'cart', T + 5 * DAY),
  ev('a2', 'view', T + HOUR, { plan: 'free' }),
  identify('b2', 'a2', T + 2 * HOUR),
  ev('b2', 'view', T + 2 * DAY),
  identify('c2', 'b2', T + 2 * DAY + HOUR),
  ev('c2', 'cart', T + 2 * DAY + 2 * HOUR),
  ev('u3', 'view', T + HOUR, { plan: 'pro' }),
  ev('u3', 'cart', T + DAY),
];

const FROM = T;
const TO = T + 14 * DAY;
let ch: ClickHouse;
let indexes: ProjectIndex[];
/** `identities` rows the emulated sinks wrote, re-writes included. */
let written = 0;

beforeAll(async () => {
  ch = await freshDatabase('weft_test_identity_chains');
  await insertEvents(ch, events);
  // Each shard applies its events one record at a time, as a Kafka shard does, and its sink
  // writes the mapping of the persons each record changed.
  indexes = [];
  for (const part of shardEvents(events, PROJECT, 3)) {
    const index = new ProjectIndex(PROJECT);
    index.personChanges = new Set();
    for (const e of part) {
      index.applyEvents([e]);
      const rows = takePersonRows(index);
      if (rows) {
        await ch.insert('identities', rows);
        written += rows.length;
      }
    }
    indexes.push(index);
  }
});
afterAll(async () => {
  await ch?.close();
});

describe('identity chains: index equals ClickHouse', () => {
  it('identities ends at the index mapping: every id of a chain -> its last login', async () => {
    const rows = await ch.rows<{ distinct_id: string; person: string }>(
      `SELECT distinct_id, argMax(person, version) AS person FROM ${ch.table('identities')}
       WHERE project = '${PROJECT}' GROUP BY distinct_id ORDER BY distinct_id`,
    );
    expect(rows).toEqual([
      { distinct_id: 'a1', person: 'd1' },
      { distinct_id: 'a2', person: 'c2' },
      { distinct_id: 'b1', person: 'd1' },
      { distinct_id: 'b2', person: 'c2' },
      { distinct_id: 'c1', person: 'd1' },
      { distinct_id: 'c2', person: 'c2' },
      { distinct_id: 'd1', person: 'd1' },
    ]);
    const mapping = indexes
      .flatMap((index) => allPersonRows(index))
      .map((r) => ({ distinct_id: r.distinct_id, person: r.person }))
      .sort((a, b) => a.distinct_id.localeCompare(b.distinct_id));
    expect(mapping).toEqual(rows);
    // Each change re-wrote every id of its person; the latest version won.
    expect(written).toBeGreaterThan(rows.length);
  });

  it.each<[string, Partial<EventsQuery>]>([
    ['daily uniques', { metric: 'uniques', interval: 'day' }],
    ['weekly per_user by plan', { metric: 'per_user', interval: 'week', breakdown: 'plan' }],
    ['uniques of the person of b1 (mid-chain)', { metric: 'uniques', interval: 'week', users: ['b1'] }],
  ])('events: %s', async (_name, extra) => {
    const q: EventsQuery = {
      events: [{ event: 'view' }, { event: 'cart' }],
      metric: 'count',
      from: FROM,
      to: TO,
      interval: 'day',
      tz: 'UTC',
      ...extra,
    };
    const fromIndex = indexEvents(indexes, q);
    expect(await eventsSql(ch, PROJECT, q)).toEqual(fromIndex);
    if (q.users) expect(fromIndex.series.map((s) => s.total)).toEqual([1, 1]);
  });

  it('funnel: steps by a1, b1 and c1 are one person converting', async () => {
    const q: FunnelQuery = {
      steps: [{ event: 'view' }, { event: 'cart' }, { event: 'buy' }],
      window: 3 * DAY,
      from: FROM,
      to: TO,
    };
    const fromIndex = indexFunnel(indexes, q);
    expect(fromIndex.steps.map((s) => s.users)).toEqual([3, 3, 1]);
    expect(await funnelSql(ch, PROJECT, q)).toEqual(fromIndex);
    const converted = { ...q, step: 3, status: 'converted' as const };
    expect(indexes.flatMap((index) => funnelUsersPartial(index, converted))).toEqual(['d1']);
    expect(await funnelUsersSql(ch, PROJECT, converted)).toEqual(['d1']);
  });

  it('retention: returns under any id of the chain count for its first cohort', async () => {
    const q: RetentionQuery = {
      start: { event: 'view' },
      return: { event: 'cart' },
      from: FROM,
      to: TO,
      period: 'day',
      periods: 5,
      cohort: 'first',
      tz: 'UTC',
    };
    const fromIndex = indexRetention(indexes, q);
    expect(fromIndex.cohorts[0]).toEqual({ date: '2024-05-06', size: 3, returned: [0, 2, 1, 0, 0, 1] });
    expect(await retentionSql(ch, PROJECT, q)).toEqual(fromIndex);
  });
});

/**
 * The same chain when its ids live on three shards (a -> b moves a's history to b's shard,
 * b -> c moves b's person on to c's), applied in the least convenient order the shards may
 * take it: c's shard learns a as an alias (written ahead of the moves) before b's shard links
 * a to b, and a's history arrives last. Every shard's sink writes as it goes.
 */
describe('identity chains across shards: moves carry every id', () => {
  const P = 'chain-moves';
  const at = (distinctId: string, event: string, time: number, properties: Properties = {}) => ({
    ...ev(distinctId, event, time, properties),
    project: P,
  });
  const shards = [0, 1, 2].map(() => {
    const index = new ProjectIndex(P);
    index.personChanges = new Set();
    return index;
  });
  const [s0, s1, s2] = shards as [ProjectIndex, ProjectIndex, ProjectIndex];
  const applied: WeftEvent[] = [];
  async function apply(index: ProjectIndex, e: WeftEvent): Promise<void> {
    applied.push(e);
    index.applyEvents([e]);
    await sink(index);
  }
  async function sink(index: ProjectIndex): Promise<void> {
    const rows = takePersonRows(index);
    if (rows) await ch.insert('identities', rows);
  }
  const q = { from: FROM, to: TO };

  beforeAll(async () => {
    await apply(s0, at('a', 'view', T + HOUR));
    await apply(s2, at('c', 'home', T + 2 * HOUR));
    await apply(s2, { ...identify('c', 'b', T + DAY + 2 * HOUR), project: P });
    s2.aliasAll('b', ['a']);
    await sink(s2);
    await apply(s2, at('a', 'buy', T + 2 * DAY));
    await apply(s1, { ...identify('b', 'a', T + 3 * HOUR), project: P });
    await apply(s1, at('b', 'cart', T + DAY + HOUR));
    s2.applyMoved('b', s1.evict('b')!);
    await sink(s2);
    s2.applyMoved('a', s0.evict('a')!);
    await sink(s2);
    await insertEvents(ch, applied);
  });

  it('maps every id to the last login, in ClickHouse as in the index', async () => {
    const rows = await ch.rows<{ distinct_id: string; person: string }>(
      `SELECT distinct_id, argMax(person, version) AS person FROM ${ch.table('identities')}
       WHERE project = '${P}' GROUP BY distinct_id ORDER BY distinct_id`,
    );
    const want = ['a', 'b', 'c'].map((id) => ({ distinct_id: id, person: 'c' }));
    expect(rows).toEqual(want);
    expect(shards.flatMap((index) => allPersonRows(index)).map((r) => r.person)).toEqual(['c', 'c', 'c']);
    expect(s2.timeline('a')).toEqual(s2.timeline('c'));
  });

  it('counts one person and one conversion in both', async () => {
    const events: EventsQuery = {
      events: [{ event: 'view' }, { event: 'cart' }, { event: 'buy' }, { event: '$identify' }],
      metric: 'uniques',
      interval: 'week',
      tz: 'UTC',
      ...q,
    };
    const fromIndex = indexEvents(shards, events);
    expect(fromIndex.series.map((s) => s.total)).toEqual([1, 1, 1, 1]);
    expect(await eventsSql(ch, P, events)).toEqual(fromIndex);
    const funnel: FunnelQuery = {
      steps: [{ event: 'view' }, { event: 'cart' }, { event: 'buy' }],
      window: 3 * DAY,
      ...q,
    };
    const converted = indexFunnel(shards, funnel);
    expect(converted.steps.map((s) => s.users)).toEqual([1, 1, 1]);
    expect(await funnelSql(ch, P, funnel)).toEqual(converted);
  });
});
