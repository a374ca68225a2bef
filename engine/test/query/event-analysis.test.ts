import { bucketLabel, bucketStart, type Interval, prng, shardOf, type WeftEvent } from '@weft/core';
import { describe, expect, it } from 'vitest';
import { ProjectIndex } from '../../src/index/project-index.js';
import { type EventsQuery, eventsPartial, mergeEvents } from '../../src/query/event-analysis.js';
import type { WhereClause } from '../../src/query/where.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 29);

function generate(n: number): WeftEvent[] {
  const r = prng(42);
  const names = ['view', 'click', 'buy'];
  const plans = ['free', 'pro', 'team'];
  const out: WeftEvent[] = [];
  for (let i = 0; i < n; i++) {
    const props: WeftEvent['properties'] = { price: Math.floor(r() * 100) };
    if (r() < 0.8) props.plan = plans[Math.floor(r() * 3)]!;
    if (r() < 0.3) props.url = `/p/${Math.floor(r() * 5)}`;
    // Times land on day edges too: exactly midnight, and the last millisecond of a day.
    const day = Math.floor(r() * 40);
    const edge = r();
    const offset = edge < 0.05 ? 0 : edge < 0.1 ? DAY - 1 : Math.floor(r() * DAY);
    out.push({
      event_id: `e${i}`,
      project: 'p',
      event: names[Math.floor(r() * r() * 3)]!,
      distinct_id: `u${Math.floor(r() * 300)}`,
      time: T0 + day * DAY + offset,
      received_at: 0,
      properties: props,
    });
  }
  return out;
}

function matches(e: WeftEvent, where: WhereClause[] | undefined): boolean {
  return (where ?? []).every((w) => {
    const has = w.prop in e.properties;
    const v = e.properties[w.prop];
    switch (w.op ?? 'eq') {
      case 'eq':
        return has && v === w.value;
      case 'neq':
        return !has || v !== w.value;
      case 'in':
        return has && (w.value as unknown[]).includes(v);
      case 'contains':
        return has && typeof v === 'string' && v.includes(String(w.value));
      case 'gt':
        return typeof v === 'number' && v > (w.value as number);
      case 'gte':
        return typeof v === 'number' && v >= (w.value as number);
      case 'lt':
        return typeof v === 'number' && v < (w.value as number);
      case 'lte':
        return typeof v === 'number' && v <= (w.value as number);
      case 'between': {
        const [lo, hi] = w.value as number[];
        return typeof v === 'number' && v >= lo! && v <= hi!;
      }
      case 'set':
        return has;
      case 'notset':
        return !has;
      default:
        return false;
    }
  });
}

/** The obvious computation over the raw events: what the index must equal. */
function bruteForce(events: WeftEvent[], q: EventsQuery) {
  const series = q.events.flatMap((spec) => {
    const rows = events.filter(
      (e) =>
        e.event === spec.event &&
        e.time >= q.from &&
        e.time < q.to &&
        matches(e, spec.where) &&
        (!q.users || q.users.includes(e.distinct_id)),
    );
    const groups = new Map<string, { value: unknown; rows: WeftEvent[] }>();
    for (const e of rows) {
      const value = q.breakdown === undefined ? undefined : (e.properties[q.breakdown] ?? null);
      const key = JSON.stringify(value ?? null);
      if (!groups.has(key)) groups.set(key, { value, rows: [] });
      groups.get(key)!.rows.push(e);
    }
    return [...groups.values()].map(({ value, rows: g }) => {
      const byBucket = new Map<string, WeftEvent[]>();
      for (const e of g) {
        const label = bucketLabel(bucketStart(e.time, q.interval, q.tz), q.interval, q.tz);
        if (!byBucket.has(label)) byBucket.set(label, []);
        byBucket.get(label)!.push(e);
      }
      const value_ = (list: WeftEvent[]) => {
        const uniques = new Set(list.map((e) => e.distinct_id)).size;
        const nums = list.map((e) => e.properties.price).filter((v): v is number => typeof v === 'number');
        const sum = nums.reduce((a, b) => a + b, 0);
        if (q.metric === 'count') return list.length;
        if (q.metric === 'uniques') return uniques;
        if (q.metric === 'per_user') return uniques ? list.length / uniques : 0;
        if ('sum' in q.metric) return sum;
        return nums.length ? sum / nums.length : 0;
      };
      return {
        event: spec.event,
        breakdown: value ?? null,
        total: value_(g),
        points: Object.fromEntries([...byBucket].map(([t, list]) => [t, value_(list)])),
      };
    });
  });
  return series;
}

function runSharded(events: WeftEvent[], q: EventsQuery, shards: number) {
  const indexes = Array.from({ length: shards }, () => new ProjectIndex('p'));
  for (const e of events) indexes[shardOf('p', e.distinct_id, shards)]!.applyEvents([e]);
  return mergeEvents(
    q,
    indexes.map((idx) => eventsPartial(idx, q)),
  );
}

const events = generate(6000);

const cases: Array<[string, Partial<EventsQuery>]> = [
  ['daily count', { metric: 'count', interval: 'day' }],
  ['weekly uniques', { metric: 'uniques', interval: 'week' }],
  ['monthly per_user', { metric: 'per_user', interval: 'month' }],
  [
    'hourly count over a partial-day range',
    { metric: 'count', interval: 'hour', from: T0 + 3 * DAY + 7_200_000, to: T0 + 4 * DAY + 1 },
  ],
  ['sum of price by plan', { metric: { sum: 'price' }, breakdown: 'plan' }],
  [
    'avg price with filters',
    {
      metric: { avg: 'price' },
      filter: [
        { prop: 'plan', op: 'in', value: ['pro', 'team'] },
        { prop: 'price', op: 'gte', value: 50 },
      ],
    },
  ],
  ['uniques where url is not set', { metric: 'uniques', filter: [{ prop: 'url', op: 'notset' }] }],
  [
    'count where plan neq pro, by url',
    { metric: 'count', breakdown: 'url', filter: [{ prop: 'plan', op: 'neq', value: 'pro' }] },
  ],
  [
    'count where url contains /p/1',
    { metric: 'count', filter: [{ prop: 'url', op: 'contains', value: '/p/1' }] },
  ],
  ['uniques, days in Asia/Shanghai', { metric: 'uniques', tz: 'Asia/Shanghai' }],
  ['weekly count in America/New_York', { metric: 'count', interval: 'week', tz: 'America/New_York' }],
  ['count for a list of users', { metric: 'count', users: ['u1', 'u2', 'u3', 'u250', 'nobody'] }],
  ['between on price', { metric: 'count', filter: [{ prop: 'price', op: 'between', value: [10, 20] }] }],
] as Array<[string, Partial<EventsQuery> & { filter?: WhereClause[] }]>;

describe('event analysis from the index', () => {
  it.each(cases)('%s equals the brute-force answer on 1, 2 and 3 shards', (_name, spec) => {
    const { filter, ...rest } = spec as Partial<EventsQuery> & { filter?: WhereClause[] };
    const q: EventsQuery = {
      events: [
        { event: 'view', where: filter },
        { event: 'buy', where: filter },
      ],
      metric: 'count',
      from: T0,
      to: T0 + 35 * DAY,
      interval: 'day' as Interval,
      tz: 'UTC',
      ...rest,
    };
    const expected = bruteForce(events, q);
    for (const shards of [1, 2, 3]) {
      const got = runSharded(events, q, shards);
      const comparable = got.series
        .map((s) => ({
          event: s.event,
          breakdown: q.breakdown === undefined ? null : (s.breakdown ?? null),
          total: s.total,
          points: Object.fromEntries(s.points.filter((p) => p.value !== 0).map((p) => [p.t, p.value])),
        }))
        .filter((s) => s.total !== 0);
      const norm = (list: typeof comparable) =>
        [...list].sort((a, b) =>
          `${a.event}${JSON.stringify(a.breakdown)}`.localeCompare(
            `${b.event}${JSON.stringify(b.breakdown)}`,
          ),
        );
      const exp = expected.map((s) => ({
        ...s,
        points: Object.fromEntries(Object.entries(s.points).filter(([, v]) => v !== 0)),
      }));
      for (const [a, b] of norm(comparable).map((s, i) => [s, norm(exp)[i]] as const)) {
        expect(a.event).toBe(b?.event);
        expect(a.breakdown).toEqual(b?.breakdown);
        expect(a.total).toBeCloseTo(b!.total, 9);
        expect(Object.keys(a.points).sort()).toEqual(Object.keys(b!.points).sort());
        for (const k of Object.keys(a.points)) expect(a.points[k]).toBeCloseTo(b!.points[k]!, 9);
      }
      expect(comparable.length).toBe(exp.filter((s) => s.total !== 0).length);
    }
  });

  it('returns every interval of the range, zeros included, labelled by its start', () => {
    const q: EventsQuery = {
      events: [{ event: 'nothing' }],
      metric: 'count',
      from: T0,
      to: T0 + 3 * DAY,
      interval: 'day',
      tz: 'UTC',
    };
    expect(runSharded(events, q, 2).series).toEqual([
      {
        event: 'nothing',
        total: 0,
        points: [
          { t: '2024-01-29', value: 0 },
          { t: '2024-01-30', value: 0 },
          { t: '2024-01-31', value: 0 },
        ],
      },
    ]);
  });
});
